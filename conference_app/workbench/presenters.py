"""What the workbench's pages show of a harvest, a ranking and a comparison, in the reader's
language: titled rows, chart data for ``static/js/charts.js`` and the comparison's Excel columns."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from conference_app.core.excel import Column
from conference_app.panels import services as panels
from conference_app.workbench import compare, services
from conference_app.workbench.forms import AUTHOR_RULE_TITLES

STATUS_TITLES = {compare.ENTERED: _l("Entered"), compare.LEFT: _l("Left"), compare.STAYED: _l("Stayed")}
REASON_TITLES = {
    compare.NOT_ELIGIBLE: _l("Not eligible in the other ranking (its list had free seats)"),
    compare.SEATS: _l("Its rank lies between the two quotas"),
    compare.TOPIC_CAP: _l("The topic cap"),
    compare.WEIGHTS: _l("The weights: under the other weights it scores below that list's last seat"),
    compare.REVIEW_SEATS: _l("A review, and the other list's reviews held all the seats reviews may take"),
    compare.PUSHED: _l("Other works took the seats"),
}
SETTING_TITLES = {
    "weights.influence": _l("Weight of international influence"),
    "weights.hot": _l("Weight of hotness"),
    "weights.frontier": _l("Weight of frontier"),
    "weights.originality": _l("Weight of originality"),
    "per_group": _l("Quota per list"),
    "topic_cap_share": _l("Topic cap"),
    "review_seat_share": _l("Review seats"),
    "eligibility_top_share": _l("Eligibility gate"),
    "author_rule": _l("Which Beijing authors count"),
}


TOPIC_LABEL_CHARS = 32


def short_text(text: str, limit: int = TOPIC_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def by_discipline(manifest: dict | None) -> list[tuple[str, int]]:
    """The harvest's works per discipline, most first (works outside every discipline last)."""
    counts = ((manifest or {}).get("counts") or {}).get("by_discipline") or {}
    rows = sorted(((panels.discipline_title(key), count) for key, count in counts.items() if key != "null"),
                  key=lambda row: -row[1])
    if "null" in counts:
        rows.append((_("Outside every discipline"), counts["null"]))
    return rows


def renormalised_rows(manifest: dict | None) -> list[dict]:
    """The manifest's renormalisations, newest first, each with its time as a datetime (``at``)."""
    entries = [entry for entry in (manifest or {}).get("renormalised") or [] if isinstance(entry, dict)]
    return [{**entry, "at": services.utc_text(entry.get("at"))} for entry in reversed(entries)]


def fill_rank_form(form, values: dict) -> None:
    """Put a ranking's settings (``services.default_rank_values`` shape) into the rank form."""
    for name in services.INDICATORS:
        getattr(form, f"weight_{name}").data = values["weights"][name]
    for name in ("per_group", "topic_cap_share", "review_seat_share", "eligibility_top_share", "author_rule"):
        getattr(form, name).data = values[name]


def setting_value(key: str, value) -> str:
    if key == "author_rule":
        return str(AUTHOR_RULE_TITLES.get(value, value))
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_title(key: str) -> str:
    return str(SETTING_TITLES.get(key, key))


def settings_rows(values: dict) -> list[tuple[str, str]]:
    """A ranking's settings (its job's parameters) as (title, value) rows."""
    flat = compare.flat_settings(values)
    return [(setting_title(key), setting_value(key, flat[key])) for key in SETTING_TITLES if key in flat]


def chart_titles() -> dict:
    return panels.CHART_TITLES


def funnel_chart(view: services.RankingView) -> dict:
    """From the records harvested to the candidates, as a horizontal bar chart and its rows."""
    steps = services.harvest_funnel(view.manifest, view.summary)
    return {"labels": [services.funnel_title(step) for step, _count in steps], "horizontal": True,
            "datasets": [{"label": _("Works"), "data": [count for _step, count in steps]}],
            "rows": [(services.funnel_title(step), count) for step, count in steps]}


def comparison_page(pair: services.RankingPair, first, second) -> dict:
    """The compare page's charts and rows: ``a`` is ``first``, ``b`` is ``second``."""
    comparison = pair.comparison
    label_a, label_b = _("Ranking #%(id)d", id=first.id), _("Ranking #%(id)d", id=second.id)
    bins = len(pair.histograms[0])
    histogram = {"labels": [f"{index / bins:.2f}" for index in range(bins)],
                 "datasets": [{"label": label_a, "data": pair.histograms[0]},
                              {"label": label_b, "data": pair.histograms[1]}]}
    topics = {"labels": [short_text(name) for _topic, name, _a, _b in pair.topics], "horizontal": True,
              "datasets": [{"label": label_a, "data": [round(share * 100, 1) for _t, _n, share, _b in pair.topics]},
                           {"label": label_b, "data": [round(share * 100, 1) for _t, _n, _a, share in pair.topics]}]}
    funnel = {"labels": [services.funnel_title(step.step) for step in comparison.funnel], "horizontal": True,
              "datasets": [{"label": label_a, "data": [step.a for step in comparison.funnel]},
                           {"label": label_b, "data": [step.b for step in comparison.funnel]}]}
    settings = [(setting_title(change.key), setting_value(change.key, change.a), setting_value(change.key, change.b))
                for change in comparison.settings_changes]
    lists = [{"entry": entry, "discipline_title": panels.discipline_title(entry.discipline),
              "group_title": services.group_title(entry.journal_group)} for entry in comparison.lists]
    return {"label_a": label_a, "label_b": label_b, "histogram": histogram, "topics": topics, "funnel": funnel,
            "settings": settings, "lists": lists, "status_titles": STATUS_TITLES, "reason_titles": REASON_TITLES,
            "indicator_titles": panels.INDICATOR_TITLES,
            "totals": {status: comparison.count(status) for status in STATUS_TITLES}}


def comparison_rows(comparison: compare.Comparison) -> list[tuple[compare.ListComparison, compare.WorkChange]]:
    """Every work of every list, entered first, then left, then stayed."""
    return [(entry, change) for entry in comparison.lists
            for change in (*entry.entered, *entry.left, *entry.stayed)]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def comparison_columns(first, second) -> list[Column]:
    a, b = f"#{first.id}", f"#{second.id}"
    return [
        Column(_l("Discipline"), lambda row: panels.discipline_title(row[0].discipline), 16),
        Column(_l("Journal group"), lambda row: services.group_title(row[0].journal_group), 12),
        Column(_l("Change"), lambda row: str(STATUS_TITLES[row[1].status]), 8),
        Column(_l("OpenAlex work"), lambda row: row[1].work_id, 14),
        Column(_l("Title of the work"), lambda row: row[1].title, 50),
        Column(_("Rank in %(ranking)s", ranking=a), lambda row: row[1].a.rank if row[1].a else None, 10),
        Column(_("Rank in %(ranking)s", ranking=b), lambda row: row[1].b.rank if row[1].b else None, 10),
        Column(_l("Places gained"), lambda row: row[1].rank_change, 10),
        Column(_("Score in %(ranking)s", ranking=a), lambda row: _rounded(row[1].a.score) if row[1].a else None, 10),
        Column(_("Score in %(ranking)s", ranking=b), lambda row: _rounded(row[1].b.score) if row[1].b else None, 10),
        Column(_l("Score under the other weights"), lambda row: _rounded(row[1].score_in_other), 12),
        Column(_("Last seat's score in %(ranking)s", ranking=a), lambda row: _rounded(row[0].cutoff_a), 12),
        Column(_("Last seat's score in %(ranking)s", ranking=b), lambda row: _rounded(row[0].cutoff_b), 12),
        Column(_l("Why"), lambda row: str(REASON_TITLES[row[1].reason]) if row[1].reason else None, 40),
        *[Column(_("%(indicator)s percentile", indicator=panels.INDICATOR_TITLES[name]),
                 lambda row, name=name: _rounded((row[1].b or row[1].a).percentiles[name]), 12)
          for name in services.INDICATORS],
    ]
