"""Settings of the quantitative ranking, read from TOML.

The packaged defaults live in ``selection/data/ranking_defaults.toml``; a settings file
given by the analyst overrides any subset of its keys (an unknown key is an error, so a
misspelt weight never passes silently). Everything is checked here, before any output is
written.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from selection.errors import SelectionError
from selection.schema import INDICATORS

DEFAULT_SETTINGS_PATH = Path(__file__).parent.parent / "data" / "ranking_defaults.toml"

AUTHOR_RULES = ("any", "first", "corresponding", "first_or_corresponding")
DIVERSITY_UNITS = ("topic", "cluster")
PER_GROUP_BOUNDS = (200, 500)
WINDOW_YEARS_BOUNDS = (3, 5)
WINDOW_END_YEAR_BOUNDS = (1900, 2200)


@dataclass(frozen=True)
class RankSettings:
    """Every knob of the ranking; build it with ``load_rank_settings`` (checked values,
    packaged defaults for whatever the settings file leaves out)."""

    author_rule: str
    window_years: int
    window_end_year: int | None
    as_of: dt.date | None
    rank_reviews: bool
    per_group: int
    eligibility_top_share: float
    gate_indicators: tuple[str, ...]
    priority_top_share: float
    review_seat_share: float
    min_stratum_works: int
    split_domestic_language: bool
    consortium_authors: int
    consortium_countries: int
    contention_factor: int
    topic_cap_share: float
    diversity_unit: str
    top_of_list_factor: int
    weights: dict[str, float]
    discipline_weights: dict[str, dict[str, float]]
    fwci_cap: float
    citation_part: float
    frontier_smoothing: float
    frontier_current_year_weight: float
    max_clusters: int
    max_features: int
    bootstrap_rounds: int
    weight_jitter: float
    stability_interval: float
    seed: int

    def weights_for(self, discipline: str) -> dict[str, float]:
        """The normalised indicator weights of one discipline (defaults plus its overrides)."""
        merged = {**self.weights, **self.discipline_weights.get(discipline, {})}
        total = sum(merged.values())
        return {name: merged[name] / total for name in INDICATORS}

    def with_overrides(self, **changes: Any) -> RankSettings:
        """A copy with some fields changed and checked again (used by the CLI flags)."""
        changes = {name: value for name, value in changes.items() if value is not None}
        updated = replace(self, **changes)
        _check(updated, "command line")
        return updated

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view, as written to summary.json."""
        values = asdict(self)
        values["as_of"] = self.as_of.isoformat() if self.as_of else None
        return values


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SelectionError(f"{where} must be a number, got {value!r}; write e.g. {where.split('.')[-1]} = 0.25")
    return float(value)


def _integer(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SelectionError(f"{where} must be a whole number, got {value!r}")
    return value


def _boolean(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SelectionError(f"{where} must be true or false, got {value!r}")
    return value


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise SelectionError(f"{where} must be a string, got {value!r}")
    return value


def _date(where: str, value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = _text(where, value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SelectionError(f"{where} must be an ISO date like \"2025-12-31\" or empty, got {value!r}") from None


def _optional_year(where: str, value: Any) -> int | None:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SelectionError(f"{where} must be a year like 2025 or empty (\"\"), got {value!r}")
    return value


def _indicator_list(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(name, str) for name in value):
        raise SelectionError(f"{where} must be a non-empty list of indicator names, e.g. [\"influence\", \"hot\"]")
    unknown = sorted(set(value) - set(INDICATORS))
    if unknown:
        raise SelectionError(f"{where}: unknown indicator {', '.join(unknown)}; known: {', '.join(INDICATORS)}")
    return tuple(dict.fromkeys(value))


def _weight_table(where: str, value: Any, allowed: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(value, dict):
        raise SelectionError(f"{where} must be a table of numbers ({', '.join(allowed)})")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise SelectionError(f"{where}: unknown key {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    parsed = {name: _number(f"{where}.{name}", number) for name, number in value.items()}
    negative = sorted(name for name, number in parsed.items() if number < 0)
    if negative:
        raise SelectionError(f"{where}: {', '.join(negative)} is negative; weights must be >= 0")
    return parsed


# (section, key) in the TOML file -> (RankSettings field, parser)
_SCALARS: dict[tuple[str, str], tuple[str, Any]] = {
    ("universe", "author_rule"): ("author_rule", _text),
    ("universe", "window_years"): ("window_years", _integer),
    ("universe", "window_end_year"): ("window_end_year", _optional_year),
    ("universe", "as_of"): ("as_of", _date),
    ("universe", "rank_reviews"): ("rank_reviews", _boolean),
    ("universe", "consortium_authors"): ("consortium_authors", _integer),
    ("universe", "consortium_countries"): ("consortium_countries", _integer),
    ("strata", "min_works"): ("min_stratum_works", _integer),
    ("strata", "split_domestic_language"): ("split_domestic_language", _boolean),
    ("selection", "per_group"): ("per_group", _integer),
    ("selection", "eligibility_top_share"): ("eligibility_top_share", _number),
    ("selection", "gate_indicators"): ("gate_indicators", _indicator_list),
    ("selection", "priority_top_share"): ("priority_top_share", _number),
    ("selection", "review_seat_share"): ("review_seat_share", _number),
    ("selection", "contention_factor"): ("contention_factor", _integer),
    ("selection", "topic_cap_share"): ("topic_cap_share", _number),
    ("selection", "diversity_unit"): ("diversity_unit", _text),
    ("selection", "top_of_list_factor"): ("top_of_list_factor", _integer),
    ("influence", "fwci_cap"): ("fwci_cap", _number),
    ("influence", "citation_part"): ("citation_part", _number),
    ("frontier", "smoothing"): ("frontier_smoothing", _number),
    ("frontier", "current_year_weight"): ("frontier_current_year_weight", _number),
    ("clustering", "max_clusters"): ("max_clusters", _integer),
    ("clustering", "max_features"): ("max_features", _integer),
    ("stability", "bootstrap_rounds"): ("bootstrap_rounds", _integer),
    ("stability", "weight_jitter"): ("weight_jitter", _number),
    ("stability", "interval"): ("stability_interval", _number),
    ("stability", "seed"): ("seed", _integer),
}
_TABLE_SECTIONS = ("weights", "discipline_weights")


def load_rank_settings(path: str | Path | None = None) -> RankSettings:
    """The packaged defaults, overridden by the TOML file at ``path`` when given.

    Raises SelectionError naming the key and the fix for an unreadable file, an unknown
    key, a value of the wrong type, a negative weight or a value out of its range.
    """
    values = _apply_document({}, _read_toml(DEFAULT_SETTINGS_PATH), DEFAULT_SETTINGS_PATH)
    if path is not None:
        values = _apply_document(values, _read_toml(Path(path)), Path(path))
    settings = RankSettings(**values)
    _check(settings, str(path or DEFAULT_SETTINGS_PATH))
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectionError(f"settings file {path} not found; pass an existing TOML file to --settings") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SelectionError(f"settings file {path} is not valid TOML ({exc}); fix the line it names") from None


def _apply_document(values: dict[str, Any], document: dict[str, Any], path: Path) -> dict[str, Any]:
    """``values`` (RankSettings field -> value) updated with one TOML document."""
    changes = dict(values)
    known_sections = {section for section, _ in _SCALARS} | set(_TABLE_SECTIONS)
    for section, table in document.items():
        where = f"{path.name}: [{section}]"
        if section not in known_sections:
            raise SelectionError(f"{where} is not a settings section; known: {', '.join(sorted(known_sections))}")
        if not isinstance(table, dict):
            raise SelectionError(f"{where} must be a table")
        if section == "weights":
            changes["weights"] = {**values.get("weights", {}), **_weight_table(where, table, INDICATORS)}
        elif section == "discipline_weights":
            merged = {key: dict(value) for key, value in values.get("discipline_weights", {}).items()}
            for discipline, weights in table.items():
                parsed = _weight_table(f"{where}.{discipline}", weights, INDICATORS)
                merged[discipline] = {**merged.get(discipline, {}), **parsed}
            changes["discipline_weights"] = merged
        else:
            for key, value in table.items():
                if (section, key) not in _SCALARS:
                    known = ", ".join(name for sec, name in _SCALARS if sec == section)
                    raise SelectionError(f"{where}: unknown key {key!r}; known keys: {known}")
                field_name, parse = _SCALARS[(section, key)]
                changes[field_name] = parse(f"{section}.{key}", value)
    return changes


def _check(settings: RankSettings, source: str) -> None:
    def fail(message: str) -> None:
        raise SelectionError(f"{source}: {message}")

    if settings.author_rule not in AUTHOR_RULES:
        fail(f"author_rule {settings.author_rule!r} is not one of {', '.join(AUTHOR_RULES)}")
    if settings.diversity_unit not in DIVERSITY_UNITS:
        fail(f"diversity_unit {settings.diversity_unit!r} is not one of {', '.join(DIVERSITY_UNITS)}")
    low, high = PER_GROUP_BOUNDS
    if not low <= settings.per_group <= high:
        fail(f"per_group (quota) {settings.per_group} is outside [{low}, {high}]; choose a value in that range")
    low, high = WINDOW_YEARS_BOUNDS
    if not low <= settings.window_years <= high:
        fail(f"window_years {settings.window_years} is outside [{low}, {high}]")
    low, high = WINDOW_END_YEAR_BOUNDS
    if settings.window_end_year is not None and not low <= settings.window_end_year <= high:
        fail(f"window_end_year {settings.window_end_year} is outside [{low}, {high}]; give a publication year or \"\"")
    for name in ("eligibility_top_share", "topic_cap_share", "stability_interval", "priority_top_share",
                 "review_seat_share"):
        if not 0 < getattr(settings, name) <= 1:
            fail(f"{name} must be in (0, 1], got {getattr(settings, name)}")
    if not 0 <= settings.citation_part <= 1:
        fail(f"influence.citation_part must be in [0, 1], got {settings.citation_part}")
    for name in ("fwci_cap", "frontier_smoothing", "frontier_current_year_weight"):
        if getattr(settings, name) <= 0:
            fail(f"{name} must be > 0, got {getattr(settings, name)}")
    if settings.weight_jitter < 0:
        fail(f"stability.weight_jitter must be >= 0, got {settings.weight_jitter}")
    for name in ("top_of_list_factor", "max_clusters", "max_features", "bootstrap_rounds", "min_stratum_works",
                 "consortium_authors", "consortium_countries", "contention_factor"):
        if getattr(settings, name) < 1:
            fail(f"{name} must be >= 1, got {getattr(settings, name)}")
    if set(settings.weights) != set(INDICATORS):
        fail(f"[weights] needs all of {', '.join(INDICATORS)}")
    for discipline in [None, *settings.discipline_weights]:
        overrides = settings.discipline_weights.get(discipline, {}) if discipline else {}
        weights = {**settings.weights, **overrides}
        if any(value < 0 for value in weights.values()):
            fail("weights must be >= 0")
        if sum(weights.values()) <= 0:
            where = f"discipline_weights.{discipline}" if discipline else "weights"
            fail(f"[{where}] weights sum to 0; give at least one indicator a positive weight")
    if "originality" in settings.gate_indicators:
        fail("gate_indicators may not include originality: a topic-pairing measure alone does not make a candidate")
