"""Validity of the ranking against ESI Highly Cited Papers, on the real WoS records.

Reads ``$SHARED_DATA/papers/wos_beijing_2019_2025.jsonl.gz`` (else ``../shared/data`` beside
the repository; prints ``skipped: <reason>`` and exits 0 when it is absent) and:

1. converts every record to a works row with ``selection.imports.wos.wos_record_to_work``
   (the mapping is stated in that module's docstring). The file holds one record per UT,
   the first occurrence of each paper among the scanned exports; later copies (``_also_in``)
   are not used. The exports date from 2021 to 2026 (``DA``), so their TC are not
   comparable: the works' ``cited_by_count`` is TC carried to the sample's latest export
   date at the paper's own rate, ``TC x (latest DA - publication) / (DA - publication)``
   (publication: PD/EA's month, else 1 July of PY; at least three months of exposure; a
   record without DA keeps its TC). The raw-citation baseline is shown both on the raw TC
   and on the same carried count. A record without an HC tag counts as not highly cited
   (only newer exports carry the tag);
2. "satisfies the rules" = in the ranked universe of ``selection.ranking.rank.score_universe``
   with the packaged settings (article or review in an ISSN journal of a known group, inside
   the window, not retracted, in a discipline, the Beijing author rule of the settings, one
   record per DOI). The window is fixed at the one the whole sample gets (its latest year
   and the settings' window length), so every list is ranked in the same window;
3. a binding quota: each discipline x journal-group list is ranked on its own with
   ``rank_works(frame_of_the_list, replace(settings, per_group=K))`` and
   K = max(1, ceil(10% of the list's ranked pool)) (``rank_works`` takes one per_group for
   all lists, and pools range from 1 to a few hundred works, so one K cannot bind in each);
4. baselines taking the same K per list: raw citations (top K by TC; and by the carried
   count) and field-year percentile (top K by the TC percentile within the paper's first
   WoS category x year, taken over the universe); ties by TC, then UT;
5. prints, per method, the HC papers in the universe, those selected, the recall and the
   ROC AUC of its score against the HC flag over the universe (ranking: its score, from
   ``RankResult.pool``, for every ranked work); the Spearman correlations of the
   indicators (``ScoredUniverse.values``), TC, the field-year percentile and the score;
   and every HC paper not selected by the ranking (in the universe: UT, title, TC, list,
   rank by score in the list, K, stratum size, why; outside it: the first rule it fails).

Usage: ``.venv/bin/python benchmarks/validity.py``. Exit 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from selection.disciplines import load_disciplines  # noqa: E402
from selection.imports.merge import rows_table  # noqa: E402
from selection.imports.wos import items, wos_record_to_work  # noqa: E402
from selection.ranking import rank  # noqa: E402
from selection.ranking.settings import load_rank_settings  # noqa: E402
from selection.schema import STRATUM_LEVELS  # noqa: E402

RECORDS = Path("papers") / "wos_beijing_2019_2025.jsonl.gz"
QUOTA_SHARE = 0.10
MIN_EXPOSURE_DAYS = 91
WINDOW_ENDS = (2023, 2025)  # 2019-2023 and 2021-2025: every year of the sample in a window
TARGET_RECALL = 0.90


def quota(pool_size: int) -> int:
    """The binding quota of a list: max(1, ceil(10% of its ranked pool))."""
    return max(1, math.ceil(QUOTA_SHARE * pool_size))


def shared_data() -> Path:
    return Path(os.environ.get("SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def load_frame(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The works frame of the records (Arrow-backed, as ``selection.synthetic.works_frame``)
    and per work its UT, HC flag, TC and first WoS category."""
    disciplines = load_disciplines()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    rows = [wos_record_to_work(r, disciplines, f"wos:{Path(r['_source']['path']).name}") for r in records]
    latest = max(export_date(r) for r in records if r.get("DA"))
    raw_tc = [row["cited_by_count"] or 0 for row in rows]
    for row, record in zip(rows, records):
        row["cited_by_count"] = carried_citations(row, record, latest)
    frame = rows_table(rows).to_pandas(types_mapper=pd.ArrowDtype)
    facts = pd.DataFrame({
        "work_id": [row["work_id"] for row in rows],
        "hc": [bool(row["esi_highly_cited"]) for row in rows],
        "tc": raw_tc,
        "carried": [row["cited_by_count"] or 0 for row in rows],
        "category": [(items(r.get("WC")) or ["(none)"])[0] for r in records],
        "year": [row["publication_year"] for row in rows],
        "title": [row["title"] for row in rows],
    })
    return frame, facts


def export_date(record: dict) -> dt.date:
    """The record's DA ("2025-08-17", or "2025 08 17" in some exports)."""
    return dt.date.fromisoformat(record["DA"].strip().replace(" ", "-"))


def carried_citations(row: dict, record: dict, latest: dt.date) -> int | None:
    """TC carried from the record's export date to ``latest`` at the paper's own rate."""
    if row["cited_by_count"] is None or not record.get("DA"):
        return row["cited_by_count"]
    published = row["publication_date"] or dt.date(row["publication_year"], 7, 1)
    exported = export_date(record)
    exposure = max((exported - published).days, MIN_EXPOSURE_DAYS)
    return round(row["cited_by_count"] * max((latest - published).days, MIN_EXPOSURE_DAYS) / exposure)


def first_failed_rule(frame: pd.DataFrame, settings, window: tuple[int, int]) -> pd.Series:
    """For every work, the first universe rule it fails (None: passes them all)."""
    ranked_types = rank.RANKED_TYPES if settings.rank_reviews else ("article",)
    year = frame["publication_year"].to_numpy(dtype=float, na_value=np.nan)
    rules = [
        ("type not article/review", frame["type"].isin(ranked_types).to_numpy(dtype=bool, na_value=False)),
        ("no ISSN", rank.has_issn(frame)),
        ("outside the window", (year >= window[0]) & (year <= window[1])),
        ("retracted", ~frame["is_retracted"].to_numpy(dtype=bool, na_value=False)),
        ("in no discipline", frame["discipline"].notna().to_numpy(dtype=bool)),
        (f"author rule {settings.author_rule}", rank.author_rule_mask(frame, settings.author_rule)),
    ]
    failed = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for name, passed in reversed(rules):
        failed[~passed] = name
    return failed


def top_k(universe: pd.DataFrame, score: str, k_of_list: dict) -> set[str]:
    """The first K works of each list by ``score`` (ties: TC, then UT)."""
    chosen = set()
    for key, group in universe.groupby("list"):
        ordered = group.sort_values([score, "tc", "work_id"], ascending=[False, False, True])
        chosen |= set(ordered["work_id"].head(k_of_list[key]))
    return chosen


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels, np.nan_to_num(scores, nan=-1.0)))


def first_k_in_walk_order(candidates: pd.DataFrame, k_of_list: dict) -> set[str]:
    """The first K candidates of each list in the ranking's walk order: priority works (world
    or national top 1%) first, then by score (ties: work id), as the seats are offered."""
    chosen = set()
    frame = candidates.assign(priority=candidates["admission"] != "gate",
                              list=candidates["discipline"].astype(str) + "/" + candidates["journal_group"].astype(str))
    for key, group in frame.groupby("list"):
        ordered = group.sort_values(["priority", "score", "work_id"], ascending=[False, False, True])
        chosen |= set(ordered["work_id"].head(k_of_list.get(key, 0)))
    return chosen


def evaluate(frame: pd.DataFrame, facts: pd.DataFrame, settings, end_year: int) -> dict:
    """One window ending in ``end_year``: the three methods' recall and AUC, the correlations
    and every highly cited paper missed. The whole universe is ranked once (so a small
    stratum pools upward across lists, as in a real run) with a quota no list reaches, and
    each list's binding quota K takes its first K in the ranking's walk order."""
    settings = dataclasses.replace(settings, window_end_year=end_year)
    scored, funnel, window, _ = rank.score_universe(frame.reset_index(drop=True), settings)
    universe = scored.universe[["work_id", "discipline", "journal_group"]].copy()
    universe = universe.merge(facts, on="work_id", how="left")
    universe["list"] = universe["discipline"].astype(str) + "/" + universe["journal_group"].astype(str)
    universe["stratum_size"] = stratum_sizes(scored)
    universe["stratum_level"] = np.array(STRATUM_LEVELS)[scored.level]
    universe["field_year_pct"] = universe.groupby(["category", "year"])["tc"].rank(pct=True, method="average")
    k_of_list = {key: quota(len(group)) for key, group in universe.groupby("list")}
    unbound = dataclasses.replace(settings, per_group=max(len(universe), 1))
    result = rank.rank_works(frame.reset_index(drop=True), unbound)
    selected = first_k_in_walk_order(result.candidates, k_of_list)
    pool = result.pool.assign(list=result.pool["discipline"].astype(str) + "/" + result.pool["journal_group"])
    pool["rank_in_list"] = pool.groupby("list")["score"].rank(ascending=False, method="min").astype(int)
    universe = universe.merge(pool[["work_id", "score", "eligible", "admission", "rank_in_list"]], on="work_id",
                              how="left")
    hc = universe["hc"].to_numpy(dtype=bool)
    methods = {
        "ranking (score)": (selected, universe["score"].to_numpy(dtype=float)),
        "raw citations (TC)": (top_k(universe, "tc", k_of_list), universe["tc"].to_numpy(dtype=float)),
        "citations, carried": (top_k(universe, "carried", k_of_list), universe["carried"].to_numpy(dtype=float)),
        "field-year percentile": (top_k(universe, "field_year_pct", k_of_list),
                                  universe["field_year_pct"].to_numpy(dtype=float)),
    }
    rows = []
    for name, (chosen, score) in methods.items():
        picked = universe["work_id"].isin(chosen).to_numpy()
        rows.append({"method": name, "hc_in_universe": int(hc.sum()), "hc_selected": int((picked & hc).sum()),
                     "auc": auc(hc, score), "selected": int(picked.sum())})
    values = scored.values.reset_index(drop=True).copy()
    values["TC"] = universe["tc"].to_numpy(dtype=float)
    values["carried"] = universe["carried"].to_numpy(dtype=float)
    values["field_year_pct"] = universe["field_year_pct"].to_numpy(dtype=float)
    values["score"] = universe["score"].to_numpy(dtype=float)
    missed = universe.loc[hc & ~universe["work_id"].isin(selected)]
    outside = facts.loc[facts["hc"] & ~facts["work_id"].isin(universe["work_id"])]
    return {"settings": settings, "window": window, "funnel": funnel, "universe": universe, "k_of_list": k_of_list,
            "methods": rows, "values": values, "missed": missed, "outside": outside,
            "failed": first_failed_rule(frame, settings, window)}


def stratum_sizes(scored) -> np.ndarray:
    """The ranked works of each work's stratum at its pooling level."""
    sizes = np.zeros(len(scored.universe), dtype="int64")
    for level in np.unique(scored.level):
        _, inverse, counts = np.unique(scored.level_codes[level], return_inverse=True, return_counts=True)
        at_level = scored.level == level
        sizes[at_level] = counts[inverse][at_level]
    return sizes


def report(frame: pd.DataFrame, facts: pd.DataFrame, found: dict) -> bool:
    """Print one window's figures; True when the ranking meets the acceptance targets
    (>= 90% of the HC papers in the universe, never fewer than raw citations)."""
    settings, window, universe = found["settings"], found["window"], found["universe"]
    print(f"== window {window[0]}-{window[1]}, author rule {settings.author_rule}: universe {len(universe)} works "
          f"in {len(found['k_of_list'])} lists; K = max(1, ceil({QUOTA_SHARE:.0%} of the list's pool)), "
          f"{sum(found['k_of_list'].values())} seats")
    print(f"funnel: {found['funnel']}")
    print(f"stratum levels: {universe['stratum_level'].value_counts().to_dict()}")
    print(f"{'method':<24} {'HC in universe':>14} {'HC selected':>11} {'recall':>7} {'ROC AUC':>8} {'selected':>8}")
    for row in found["methods"]:
        recall = row["hc_selected"] / row["hc_in_universe"] if row["hc_in_universe"] else float("nan")
        value = "n/a" if row["auc"] is None else f"{row['auc']:.3f}"
        print(f"{row['method']:<24} {row['hc_in_universe']:>14} {row['hc_selected']:>11} {recall:>7.2f} "
              f"{value:>8} {row['selected']:>8}")
    values = found["values"]
    usable = [c for c in values.columns if values[c].notna().sum() >= 3 and values[c].nunique() > 1]
    print("Spearman correlations over the universe; without values here: "
          f"{', '.join(c for c in values.columns if c not in usable) or 'none'}")
    print(values[usable].astype(float).corr(method="spearman").round(3).to_string())
    print("ESI highly cited papers in the universe the ranking did not select:"
          + ("" if len(found["missed"]) else " none"))
    for row in found["missed"].sort_values(["list", "rank_in_list"]).itertuples():
        k = found["k_of_list"][row.list]
        reason = ("not eligible (below the gate: not in the top "
                  f"{settings.eligibility_top_share:.0%} of its stratum in {', '.join(settings.gate_indicators)})"
                  if not row.eligible else ("below the quota" if row.rank_in_list > k else "eligible within the "
                                            "quota but not seated (cap or review seats)"))
        pool_size = int((universe["list"] == row.list).sum())
        print(f"  {row.work_id} TC {row.tc} [{row.list}] rank {row.rank_in_list} of {pool_size} (K {k}), "
              f"stratum {row.stratum_size} works ({row.stratum_level}): {reason}; {row.title[:90]}")
    print(f"ESI highly cited papers outside the universe: {len(found['outside'])}")
    for row in found["outside"].itertuples():
        position = int(np.flatnonzero(frame["work_id"].to_numpy() == row.work_id)[0])
        reason = found["failed"].iloc[position] or "merged with another record of its DOI"
        print(f"  {row.work_id} TC {row.tc} {row.year} [{row.category}]: {reason}; {row.title[:90]}")
    ranking, raw = found["methods"][0], found["methods"][1]
    share = ranking["hc_selected"] / ranking["hc_in_universe"] if ranking["hc_in_universe"] else 1.0
    met = share >= TARGET_RECALL and ranking["hc_selected"] >= raw["hc_selected"]
    print(f"target (recall >= {TARGET_RECALL:.0%} and >= raw citations): {'met' if met else 'MISSED'} "
          f"({ranking['hc_selected']} of {ranking['hc_in_universe']}; raw citations {raw['hc_selected']})")
    print()
    return met


def main() -> int:
    path = shared_data() / RECORDS
    if not path.is_file():
        print(f"skipped: the real WoS records are not at {path} (set SHARED_DATA to the shared/data folder)")
        return 0
    frame, facts = load_frame(path)
    print(f"WoS records: {len(frame)}, ESI highly cited: {int(facts['hc'].sum())}; two five-year windows cover "
          "the sample's 2019-2025")
    print()
    settings = load_rank_settings()
    results = [report(frame, facts, evaluate(frame, facts, settings, end_year)) for end_year in WINDOW_ENDS]
    print("all windows: " + ("targets met" if all(results) else "a target MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
