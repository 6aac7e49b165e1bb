"""Output 1: the draw as OpenAlex-shaped JSON (institutions, sources, works)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from selection.schema import short_id
from selection.synthetic.catalogue import (
    DOI_PREFIX,
    DOMAINS,
    FAMILY_NAMES,
    FIELDS,
    FIRST_FUNDER_NUMBER,
    FIRST_WORK_NUMBER,
    GIVEN_NAMES,
    OA_PDF_PREFIX,
    OPENALEX,
    ORCID,
    OTHER_TYPES,
    REPOSITORY_PREFIX,
    WORDS,
    Topics,
    default_topics_path,
    funder_names,
    institution_kind,
    institution_records,
    load_topics,
    source_records,
)
from selection.synthetic.draw import (
    AUTHOR_POSITIONS,
    OA_KINDS,
    TRAP_KINDS,
    WorkDraws,
    author_identities,
    author_keys,
    author_positions,
    draw_works,
    eligible,
)


@dataclass
class SyntheticWorld:
    """OpenAlex-shaped records of one seeded draw.

    ``beijing_institution_ids`` are short ids (``I9100000001``); ``journal_overrides`` maps
    the ISSNs of the Chinese journals registered abroad to CN numbers (the shape of
    ``journal_groups.load_overrides``); ``traps`` lists the short work ids of each trap
    kind; ``eligible_work_ids`` are the works a correct harvest keeps, computed from the
    draw, independently of the JSON.
    """

    institutions: list[dict]
    sources: list[dict]
    works: list[dict]
    beijing_institution_ids: list[str]
    journal_overrides: dict[str, str]
    traps: dict[str, list[str]] = field(default_factory=dict)
    eligible_work_ids: set[str] = field(default_factory=set)

    def source_countries(self) -> dict[str, str | None]:
        """Short source id -> country code, as a harvest learns it from ``/sources``."""
        return {short_id(source["id"]): source["country_code"] for source in self.sources}


def generate_world(
    n_works: int,
    seed: int = 0,
    from_year: int = 2021,
    to_year: int = 2025,
    with_traps: bool = True,
    topics_path: str | Path | None = None,
) -> SyntheticWorld:
    """A deterministic world of ``n_works`` works (same arguments, same output).

    With ``with_traps`` about 2 % of the works fall in each of ``TRAP_KINDS``; all but
    ``two_beijing_institutions`` are works a harvest must leave out. ``topics_path``
    defaults to ``default_topics_path()``.
    """
    topics = load_topics(Path(topics_path) if topics_path else default_topics_path())
    draws = draw_works(n_works, seed, from_year, to_year, with_traps, topics)
    institutions = institution_records()
    sources, overrides = source_records()
    work_ids = _work_ids(n_works)
    keys = author_keys(draws)
    ids, orcids = (column.take(pa.array(keys)).to_pylist() for column in author_identities())
    parts = _WorldParts(
        seed=seed,
        draws=_as_python_lists(draws),
        topics=topics,
        institutions=_embedded_institutions(institutions),
        sources=sources,
        author_ids=[f"{OPENALEX}{author_id}" for author_id in ids],
        orcids=[None if orcid is None else f"{ORCID}{orcid}" for orcid in orcids],
        positions=[AUTHOR_POSITIONS[position] for position in author_positions(draws).tolist()],
        funders=[{"id": f"{OPENALEX}F{FIRST_FUNDER_NUMBER + k}", "display_name": name}
                 for k, name in enumerate(funder_names())],
    )
    works = [_work_json(i, parts) for i in range(n_works)]
    return SyntheticWorld(
        institutions=institutions,
        sources=sources,
        works=works,
        beijing_institution_ids=[short_id(r["id"]) for r in institutions if institution_kind(r) == "beijing"],
        journal_overrides=overrides,
        traps={kind: [work_ids[i] for i in np.flatnonzero(draws.trap == k)] for k, kind in enumerate(TRAP_KINDS)},
        eligible_work_ids={work_ids[i] for i in np.flatnonzero(eligible(draws))},
    )


@dataclass(frozen=True)
class _WorldParts:
    """What every work's JSON is made from: the draw as Python lists, the catalogue records
    and the per-author ids, ORCIDs (None for an author without one) and positions."""

    seed: int
    draws: WorkDraws
    topics: Topics
    institutions: list[tuple[dict, str]]
    sources: list[dict]
    author_ids: list[str]
    orcids: list[str | None]
    positions: list[str]
    funders: list[dict]  # per funder of funder_names()
    topic_records: dict[int, dict] = field(default_factory=dict)  # filled as topics are met


def _work_ids(n: int) -> list[str]:
    return [f"W{FIRST_WORK_NUMBER + i}" for i in range(n)]


def _as_python_lists(draws: WorkDraws) -> WorkDraws:
    """The draw with its arrays as Python lists: indexing them one by one is much faster."""
    arrays = {f.name: getattr(draws, f.name) for f in fields(draws)}
    return replace(draws, **{name: value.tolist() for name, value in arrays.items() if isinstance(value, np.ndarray)})


def _embedded_institutions(institutions: list[dict]) -> list[tuple[dict, str]]:
    """Per institution: its summary as embedded in an authorship, and its raw affiliation string."""
    keys = ("id", "display_name", "ror", "country_code", "type", "lineage")
    return [
        ({key: r[key] for key in keys}, f"{r['display_name']}, {r['geo']['city']}, {r['geo']['country']}")
        for r in institutions
    ]


def _publication_date(draws: WorkDraws, i: int) -> dt.date:
    return dt.date(draws.year[i], 1, 1) + dt.timedelta(days=draws.day_of_year[i])


def _work_json(i: int, parts: _WorldParts) -> dict:
    draws, seed, sources = parts.draws, parts.seed, parts.sources
    doi_url = f"https://doi.org/{DOI_PREFIX}{seed}.{i}" if draws.has_doi[i] else None
    title = " ".join(WORDS[w] for w in draws.title_words[i]).capitalize()
    trap = TRAP_KINDS[draws.trap[i]] if draws.trap[i] >= 0 else None
    source = sources[draws.source[i]] if draws.source[i] >= 0 else None
    work_topics = _topics_json(i, parts)
    return {
        "id": f"{OPENALEX}W{FIRST_WORK_NUMBER + i}",
        "doi": doi_url,
        "title": title,
        "display_name": title,
        "publication_year": draws.year[i],
        "publication_date": _publication_date(draws, i).isoformat(),
        "type": ("article", "review", *OTHER_TYPES)[draws.type_index[i]],
        "language": "zh" if draws.language_zh[i] else "en",
        "primary_location": {
            "is_oa": OA_KINDS[draws.oa_kind[i]] == "publisher",
            "landing_page_url": doi_url,
            "source": None if source is None else {
                key: source[key] for key in ("id", "display_name", "issn_l", "issn", "type", "host_organization_name")
            },
        },
        "authorships": _authorships_json(i, parts),
        "cited_by_count": draws.citations[i],
        "counts_by_year": [
            {"year": draws.reference_year - j, "cited_by_count": count}
            for j, count in enumerate(draws.counts_by_year[i]) if count
        ],
        "fwci": None if math.isnan(draws.fwci[i]) else draws.fwci[i],
        "citation_normalized_percentile": _percentile_json(draws.percentile[i]),
        "primary_topic": dict(work_topics[0]) if work_topics else None,
        "topics": work_topics,
        "keywords": [
            {"id": f"{OPENALEX}keywords/{WORDS[word]}", "display_name": WORDS[word].capitalize(),
             "score": round(0.75 * 0.85**rank, 4)}
            for rank, word in enumerate(draws.keyword_words[i]) if word >= 0
        ],
        "funders": [funder for funder, funded in zip(parts.funders, draws.funders[i]) if funded],
        **_open_access_json(OA_KINDS[draws.oa_kind[i]], f"W{FIRST_WORK_NUMBER + i}", doi_url, source),
        "referenced_works_count": draws.references[i],
        "is_retracted": trap == "retracted",
        "is_paratext": trap == "paratext",
        "abstract_inverted_index": _inverted_index(draws.abstract_words[i]) if draws.has_abstract[i] else None,
        "updated_date": (dt.datetime(draws.reference_year, 1, 1, 3) + dt.timedelta(days=draws.updated_day[i])).isoformat(),
        "created_date": f"{draws.year[i]}-01-01T00:00:00",
    }


def _authorships_json(i: int, parts: _WorldParts) -> list[dict]:
    draws, institutions = parts.draws, parts.institutions
    authorships = []
    for author in range(draws.author_offsets[i], draws.author_offsets[i + 1]):
        affiliated = draws.affiliation_institution[draws.affiliation_offsets[author]:draws.affiliation_offsets[author + 1]]
        name_index = draws.author_name[author]
        name = f"{GIVEN_NAMES[name_index % len(GIVEN_NAMES)]} {FAMILY_NAMES[name_index // len(GIVEN_NAMES)]}"
        authorships.append(
            {
                "author_position": parts.positions[author],
                "author": {"id": parts.author_ids[author], "display_name": name, "orcid": parts.orcids[author]},
                "institutions": [dict(institutions[k][0]) for k in affiliated],
                "countries": sorted({institutions[k][0]["country_code"] for k in affiliated}),
                "is_corresponding": draws.corresponding[author],
                "raw_author_name": name,
                "raw_affiliation_strings": [institutions[k][1] for k in affiliated],
            }
        )
    return authorships


def _percentile_json(value: float) -> dict | None:
    if math.isnan(value):
        return None
    return {"value": value, "is_in_top_1_percent": bool(value >= 0.99), "is_in_top_10_percent": bool(value >= 0.9)}


def _topics_json(i: int, parts: _WorldParts) -> list[dict]:
    """The work's topics, primary first, each with its score; none without a primary topic."""
    draws = parts.draws
    if not draws.has_topic[i]:
        return []
    indices = [draws.topic[i], *(t for t in draws.secondary_topics[i] if t >= 0)]
    records = parts.topic_records
    for t in indices:
        if t not in records:
            records[t] = _topic_json(parts.topics, t)
    return [{**records[t], "score": score} for t, score in zip(indices, draws.topic_scores[i])]


def _open_access_json(kind: str, work_id: str, doi_url: str | None, source: dict | None) -> dict:
    """``best_oa_location`` and ``open_access``: closed, the publisher's PDF, or a repository copy."""
    if kind == "closed":
        return {"best_oa_location": None,
                "open_access": {"is_oa": False, "oa_status": "closed", "oa_url": None, "any_repository_has_fulltext": False}}
    if kind == "publisher":
        location = {"is_oa": True, "landing_page_url": doi_url, "pdf_url": f"{OA_PDF_PREFIX}{work_id}.pdf",
                    "version": "publishedVersion", "license": "cc-by",
                    "source": None if source is None else {key: source[key] for key in ("id", "display_name", "type")}}
        status = "gold"
    else:
        location = {"is_oa": True, "landing_page_url": f"{REPOSITORY_PREFIX}{work_id}", "pdf_url": None,
                    "version": "acceptedVersion", "license": None, "source": None}
        status = "green"
    oa_url = location["pdf_url"] or location["landing_page_url"]
    return {"best_oa_location": location,
            "open_access": {"is_oa": True, "oa_status": status, "oa_url": oa_url,
                            "any_repository_has_fulltext": kind == "repository"}}


def _topic_json(topics: Topics, t: int) -> dict:
    """A topic as OpenAlex embeds it in a work, without its score."""
    field_id = int(topics.field_ids[t])
    field_name, domain_id, _ = FIELDS[field_id]
    return {
        "id": f"{OPENALEX}{topics.topic_ids[t]}",
        "display_name": topics.names[t],
        "subfield": {"id": f"{OPENALEX}subfields/{int(topics.subfield_ids[t])}", "display_name": topics.subfield_names[t]},
        "field": {"id": f"{OPENALEX}fields/{field_id}", "display_name": field_name},
        "domain": {"id": f"{OPENALEX}domains/{domain_id}", "display_name": DOMAINS[domain_id]},
    }


def _inverted_index(word_indices: list[int]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, word in enumerate(word_indices):
        index.setdefault(WORDS[word], []).append(position)
    return index


