"""Domestic or international journal, decided in a fixed order of rules.

1. ``override``: one of the source's ISSNs is in the editable override table
   (``selection/data/journal_overrides.csv``: ISSN -> CN number 国内统一刊号). Chinese
   journals co-published abroad (Springer, IOP, Elsevier ...) are often registered with a
   foreign country in OpenAlex; the table makes them domestic. A user's imported journal
   table adds to it (``selection.journal_lists.JournalTable.as_resolver_overrides``).
2. ``source_country``: the source's country code (from OpenAlex ``/sources``) is known;
   ``CN`` means domestic, any other code international.
3. ``default``: nothing is known: international.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from selection.errors import SelectionError

DEFAULT_OVERRIDES_PATH = Path(__file__).parent / "data" / "journal_overrides.csv"
DOMESTIC_COUNTRY_CODES = frozenset({"CN"})
OVERRIDE_COLUMNS = ("issn", "cn_number", "title", "note")

_ISSN_PATTERN = re.compile(r"^(\d{4})-?(\d{3}[\dX])$")
_CN_NUMBER_PATTERN = re.compile(r"^\d{2}-\d{4}/[A-Z][A-Z0-9]*$")


def normalize_issn(text: str) -> str | None:
    """``"0256307x"`` -> ``"0256-307X"``; None when it is not a well-formed ISSN with a
    correct check digit."""
    match = _ISSN_PATTERN.match(text.strip().upper())
    if not match:
        return None
    digits = match.group(1) + match.group(2)
    weighted = sum(int(digit) * weight for digit, weight in zip(digits[:7], range(8, 1, -1)))
    check = (11 - weighted % 11) % 11
    if digits[7] != ("X" if check == 10 else str(check)):
        return None
    return f"{digits[:4]}-{digits[4:]}"


def normalize_cn_number(text: str) -> str | None:
    """``"CN 11-5639/o4"`` or full-width ``"１１－５６３９／Ｏ４"`` -> ``"11-5639/O4"``; None when
    it is not a CN number (国内统一刊号 NN-NNNN/X...). A truncated number is never repaired."""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    compact = compact.removeprefix("CN")
    return compact if _CN_NUMBER_PATTERN.match(compact) else None


def load_overrides(path: str | Path | None = None) -> dict[str, str]:
    """Read the override table: normalised ISSN -> CN number.

    Raises SelectionError naming the file and line of a bad ISSN (format or check digit),
    a bad CN number or an ISSN listed twice with different CN numbers.
    """
    path = Path(path) if path is not None else DEFAULT_OVERRIDES_PATH
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("issn", "cn_number") if c not in (reader.fieldnames or [])]
            if missing:
                raise SelectionError(
                    f"{path}: header must have the columns {','.join(OVERRIDE_COLUMNS)} (missing {', '.join(missing)})"
                )
            return _parse_override_rows(path, reader)
    except FileNotFoundError:
        raise SelectionError(f"journal overrides file {path} not found; pass an existing CSV") from None


def _parse_override_rows(path: Path, reader: csv.DictReader) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for row in reader:
        where = f"{path}, line {reader.line_num}"
        issn = normalize_issn(row["issn"] or "")
        if issn is None:
            raise SelectionError(f"{where}: {row['issn']!r} is not a valid ISSN (NNNN-NNNC, check digit)")
        cn_number = (row["cn_number"] or "").strip().upper()
        if not _CN_NUMBER_PATTERN.match(cn_number):
            raise SelectionError(f"{where}: CN number {row['cn_number']!r} must look like 11-5639/O4")
        if overrides.setdefault(issn, cn_number) != cn_number:
            raise SelectionError(f"{where}: ISSN {issn} is listed twice with different CN numbers")
    return overrides


def _short_source_id(source_id: str) -> str:
    return source_id.rsplit("/", 1)[-1]


class JournalGroupResolver:
    """Decides ``(journal_group, rule)`` for a work's primary source.

    ``overrides`` maps ISSN -> CN number (see ``load_overrides``); ``source_countries``
    maps source id (short ``S123`` or full URL) -> ISO country code.
    """

    def __init__(self, overrides: Mapping[str, str], source_countries: Mapping[str, str | None]):
        self.overrides = {normalize_issn(issn) or issn: cn for issn, cn in overrides.items()}
        self.source_countries = {
            _short_source_id(source_id): country
            for source_id, country in source_countries.items()
            if country
        }

    def resolve(self, source: Mapping | None) -> tuple[str, str]:
        """``("domestic" | "international", "override" | "source_country" | "default")``
        for a ``primary_location.source`` dict (None allowed)."""
        if not source:
            return "international", "default"
        if any(issn in self.overrides for issn in _source_issns(source)):
            return "domestic", "override"
        country = self.source_countries.get(_short_source_id(source.get("id") or ""))
        country = country or source.get("country_code")
        if country:
            group = "domestic" if country.upper() in DOMESTIC_COUNTRY_CODES else "international"
            return group, "source_country"
        return "international", "default"


def _source_issns(source: Mapping) -> Iterable[str]:
    issn_l = source.get("issn_l")
    if issn_l:
        yield issn_l.upper()
    for issn in source.get("issn") or ():
        if issn:
            yield issn.upper()
