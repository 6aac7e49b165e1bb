"""Output 2: the harvest-eligible part of the draw as the ``works.parquet`` table,
built with numpy and pyarrow compute (no JSON, no per-row Python).

Each column is what ``selection.harvest.normalize.WorkNormalizer`` makes of the world's
JSON (``world.py``), except ``record_sources``: ``["synthetic"]`` here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from selection.disciplines import load_disciplines
from selection.files import write_atomic
from selection.journal_groups import JournalGroupResolver
from selection.schema import AUTHORSHIPS_TYPE, COUNTS_BY_YEAR_TYPE, WORKS_SCHEMA, short_id
from selection.synthetic.catalogue import (
    DOI_PREFIX,
    FAMILY_NAMES,
    FIRST_WORK_NUMBER,
    GIVEN_NAMES,
    OA_PDF_PREFIX,
    OTHER_TYPES,
    REPOSITORY_PREFIX,
    WORDS,
    Topics,
    default_topics_path,
    funder_names,
    institution_records,
    load_topics,
    source_records,
)
from selection.synthetic.draw import (
    AUTHOR_POSITIONS,
    OA_KINDS,
    WorkDraws,
    author_identities,
    author_keys,
    author_positions,
    beijing_flags,
    draw_works,
    eligible,
)


def works_table(
    n_works: int, seed: int = 0, from_year: int = 2021, to_year: int = 2025, topics_path: str | Path | None = None
) -> pa.Table:
    """The harvest-eligible works of ``generate_world(n_works, seed, ...)`` as a table of
    exactly ``WORKS_SCHEMA``, built with numpy and pyarrow (no JSON).

    ``n_works`` works are drawn, traps included; about 86 % of them are eligible and
    become rows, sorted by work id."""
    topics = load_topics(Path(topics_path) if topics_path else default_topics_path())
    draws = draw_works(n_works, seed, from_year, to_year, True, topics)
    keep = np.flatnonzero(eligible(draws))
    columns = {**_bibliographic_columns(draws, seed, keep), **_classification_columns(draws, topics, keep),
               **_authorship_columns(draws, keep), **_citation_columns(draws, keep)}
    columns.update(_imported_columns(len(keep)))
    return pa.Table.from_arrays([columns[f.name] for f in WORKS_SCHEMA], schema=WORKS_SCHEMA)


def works_frame(
    n_works: int, seed: int = 0, from_year: int = 2021, to_year: int = 2025, topics_path: str | Path | None = None
) -> pd.DataFrame:
    """``works_table`` as a DataFrame with Arrow-backed dtypes (``pd.ArrowDtype`` of each
    schema type), which ``write_works_parquet`` writes back losslessly."""
    return works_table(n_works, seed, from_year, to_year, topics_path).to_pandas(types_mapper=pd.ArrowDtype)


def write_works_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a works DataFrame as ``works.parquet`` of exactly ``WORKS_SCHEMA``, atomically
    (``selection.files.write_atomic``)."""
    path = Path(path)
    # The schema's own metadata (table name and version), not pandas': that names Arrow-backed
    # dtypes some pandas readers reject.
    table = pa.Table.from_pandas(frame, schema=WORKS_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata(WORKS_SCHEMA.metadata)
    write_atomic(path, lambda temporary: pq.write_table(table, temporary))


def _joined_words(word_indices: np.ndarray) -> pa.Array:
    """Rows of word indices -> ``"word word ..."`` strings, first letter capitalised."""
    rows, width = word_indices.shape
    words = pa.array(WORDS).take(pa.array(word_indices.ravel()))
    lists = pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32) * width), words)
    return pc.binary_join(lists, " ")


def _prefixed_numbers(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _null_where(array: pa.Array, present: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(present), array, pa.scalar(None, array.type))


def _bibliographic_columns(draws: WorkDraws, seed: int, keep: np.ndarray) -> dict[str, pa.Array]:
    sources, _ = source_records()
    source = pa.array(draws.source[keep])
    title = pc.utf8_capitalize(_joined_words(draws.title_words[keep]))
    days = np.array(draws.year[keep] - 1970, dtype="datetime64[Y]").astype("datetime64[D]") + draws.day_of_year[keep]
    work_id = _prefixed_numbers("W", keep + FIRST_WORK_NUMBER)
    oa_kind = draws.oa_kind[keep]
    pdf_url = pc.binary_join_element_wise(OA_PDF_PREFIX, work_id, ".pdf", "")
    repository_url = pc.binary_join_element_wise(REPOSITORY_PREFIX, work_id, "")
    oa_url = pc.if_else(pa.array(oa_kind == OA_KINDS.index("publisher")), pdf_url, repository_url)
    return {
        "work_id": work_id,
        "doi": _null_where(_prefixed_numbers(f"{DOI_PREFIX}{seed}.", keep), draws.has_doi[keep]),
        "title": title,
        "publication_year": pa.array(draws.year[keep], pa.int32()),
        "publication_date": pa.array(days.astype(np.int32), pa.int32()).view(pa.date32()),
        "type": pa.array(["article", "review", *OTHER_TYPES]).take(pa.array(draws.type_index[keep])),
        "language": pa.array(["en", "zh"]).take(pa.array(draws.language_zh[keep].astype(np.int64))),
        "source_id": pa.array([short_id(s["id"]) for s in sources]).take(source),
        "source_name": pa.array([s["display_name"] for s in sources]).take(source),
        "issn_l": pa.array([s["issn_l"] for s in sources], pa.string()).take(source),
        "issns": pa.array([s["issn"] for s in sources], pa.list_(pa.string())).take(source),
        "abstract": _null_where(_joined_words(draws.abstract_words[keep]), draws.has_abstract[keep]),
        "keywords": _padded_lists(draws.keyword_words[keep], pa.array([word.capitalize() for word in WORDS])),
        "funders": _padded_lists(_present_columns(draws.funders[keep]), pa.array(funder_names())),
        "oa_url": _null_where(oa_url, oa_kind != OA_KINDS.index("closed")),
    }


def _padded_lists(indices: np.ndarray, labels: pa.Array) -> pa.ListArray:
    """Rows of indices into ``labels``, padded with -1, as a list array (order kept)."""
    present = indices >= 0
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), labels.take(pa.array(indices[present])))


def _present_columns(flags: np.ndarray) -> np.ndarray:
    """A (rows, columns) bool grid as rows of the true columns' indices, -1 padded."""
    return np.where(flags, np.arange(flags.shape[1])[None, :], -1)


def _classification_columns(draws: WorkDraws, topics: Topics, keep: np.ndarray) -> dict[str, pa.Array]:
    sources, overrides = source_records()
    resolver = JournalGroupResolver(overrides, {short_id(s["id"]): s["country_code"] for s in sources})
    decisions = [resolver.resolve(s) for s in sources]
    disciplines = load_disciplines()
    source, topic, has_topic = pa.array(draws.source[keep]), pa.array(draws.topic[keep]), draws.has_topic[keep]
    by_topic = {
        "discipline": pa.array([disciplines.for_subfield(int(s)) for s in topics.subfield_ids], pa.string()),
        "subfield_id": pa.array(topics.subfield_ids, pa.int32()),
        "topic_id": pa.array(topics.topic_ids),
        "field_id": pa.array(topics.field_ids, pa.int32()),
    }
    # every topic, the primary first: -1 where a work has none
    all_topics = np.column_stack([np.where(has_topic, draws.topic[keep], -1), draws.secondary_topics[keep]])
    present = all_topics >= 0
    scores = draws.topic_scores[keep][present]
    offsets = pa.array(np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32))
    return {
        "journal_group": pa.array([group for group, _ in decisions]).take(source),
        "journal_group_rule": pa.array([rule for _, rule in decisions]).take(source),
        **{name: _null_where(values.take(topic), has_topic) for name, values in by_topic.items()},
        "topic_ids": _padded_lists(all_topics, pa.array(topics.topic_ids)),
        "topic_names": _padded_lists(all_topics, pa.array(topics.names)),
        "topic_scores": pa.ListArray.from_arrays(offsets, pa.array(scores, pa.float64())),
    }


def _distinct_per_work(n: int, work: np.ndarray, item: np.ndarray, labels: list[str]) -> pa.Array:
    """For each work, the distinct labels of its items, in label order, as a list array."""
    # A presence grid (works x labels) is far cheaper than sorting the (work, item) pairs.
    present = np.zeros((n, len(labels)), dtype=bool)
    present[work, item] = True
    _, label = np.nonzero(present)
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(labels).take(pa.array(label)))


def _authorship_columns(draws: WorkDraws, keep: np.ndarray) -> dict[str, pa.Array]:
    n = len(draws.year)
    institutions = institution_records()
    authors = np.diff(draws.author_offsets)
    work_of_author = np.repeat(np.arange(n), authors)
    author_of_affiliation = np.repeat(np.arange(int(draws.author_offsets[-1])), np.diff(draws.affiliation_offsets))
    work_of_affiliation = work_of_author[author_of_affiliation]
    beijing_affiliation = beijing_flags()[draws.affiliation_institution]
    author_has_beijing = _author_has_beijing(draws)
    beijing_authors = np.bincount(work_of_author, weights=author_has_beijing, minlength=n)
    first_author = draws.author_offsets[:-1]
    beijing_first = author_has_beijing[first_author]
    flagged = np.bincount(work_of_author, weights=draws.corresponding, minlength=n) > 0
    beijing_flagged = np.bincount(work_of_author, weights=draws.corresponding & author_has_beijing, minlength=n) > 0

    beijing_ids = [short_id(r["id"]) for r in institutions]
    countries = sorted({r["country_code"] for r in institutions})
    country_of_institution = np.array([countries.index(r["country_code"]) for r in institutions])
    beijing_lists = _distinct_per_work(
        n, work_of_affiliation[beijing_affiliation], draws.affiliation_institution[beijing_affiliation], beijing_ids
    )
    country_lists = _distinct_per_work(
        n, work_of_affiliation, country_of_institution[draws.affiliation_institution], countries
    )
    take = pa.array(keep)
    return {
        "beijing_any": pa.array((np.bincount(work_of_affiliation, weights=beijing_affiliation, minlength=n) > 0)[keep]),
        "beijing_first": pa.array(beijing_first[keep]),
        "beijing_corresponding": pa.array(np.where(flagged, beijing_flagged, beijing_first)[keep]),
        "beijing_institution_ids": beijing_lists.take(take),
        "countries": country_lists.take(take),
        "authors_count": pa.array(authors[keep], pa.int32()),
        "authorships": _authorships_column(draws, keep, author_has_beijing),
        "beijing_author_share": pa.array(beijing_authors[keep] / authors[keep]),
    }


def _author_has_beijing(draws: WorkDraws) -> np.ndarray:
    """Per author: has a Beijing institution (the normaliser's Beijing authorship: the
    synthetic affiliation strings of a Beijing institution always place it in Beijing)."""
    author_of_affiliation = np.repeat(np.arange(int(draws.author_offsets[-1])), np.diff(draws.affiliation_offsets))
    hits = beijing_flags()[draws.affiliation_institution]
    return np.bincount(author_of_affiliation, weights=hits, minlength=int(draws.author_offsets[-1])) > 0


def _authorships_column(draws: WorkDraws, keep: np.ndarray, author_has_beijing: np.ndarray) -> pa.ListArray:
    """The ``authorships`` of the works ``keep`` (``AUTHORSHIPS_TYPE``), as the normaliser
    makes them from the world's JSON: ids, names, ORCIDs, positions, corresponding flags,
    the affiliated institutions (ids and names), their lineages (each id once, in order) and
    whether the authorship counts as Beijing."""
    institutions = institution_records()
    institution_ids = pa.array([short_id(r["id"]) for r in institutions])
    institution_names = pa.array([r["display_name"] for r in institutions])
    authors_per_work = np.diff(draws.author_offsets)
    affiliations_per_author = np.diff(draws.affiliation_offsets)
    kept_work = np.zeros(len(authors_per_work), dtype=bool)
    kept_work[keep] = True
    author = np.repeat(kept_work, authors_per_work)  # the kept works' authors, in order
    affiliation_offsets = np.concatenate([[0], np.cumsum(affiliations_per_author[author])]).astype(np.int32)
    affiliation = draws.affiliation_institution[np.repeat(author, affiliations_per_author)]
    keys = pa.array(author_keys(draws)[author])
    ids, orcids = author_identities()
    names = draws.author_name[author]
    authors = {
        "author_id": ids.take(keys),
        "name": pc.binary_join_element_wise(
            pa.array(GIVEN_NAMES).take(pa.array(names % len(GIVEN_NAMES))),
            pa.array(FAMILY_NAMES).take(pa.array(names // len(GIVEN_NAMES))),
            " ",
        ),
        "orcid": orcids.take(keys),
        "position": pa.array(AUTHOR_POSITIONS).take(pa.array(author_positions(draws)[author])),
        "is_corresponding": pa.array(draws.corresponding[author]),
        "institution_ids": pa.ListArray.from_arrays(pa.array(affiliation_offsets), institution_ids.take(pa.array(affiliation))),
        "lineage_ids": _lineages_per_author(affiliation_offsets, affiliation, institutions, institution_ids),
        "institution_names": pa.ListArray.from_arrays(
            pa.array(affiliation_offsets), institution_names.take(pa.array(affiliation))
        ),
        "is_beijing": pa.array(author_has_beijing[author]),
    }
    entry_type = AUTHORSHIPS_TYPE.value_type
    entries = pa.StructArray.from_arrays([authors[f.name] for f in entry_type], fields=list(entry_type))
    work_offsets = np.concatenate([[0], np.cumsum(authors_per_work[keep])]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(work_offsets), entries, type=AUTHORSHIPS_TYPE)


def _lineages_per_author(
    affiliation_offsets: np.ndarray, affiliation: np.ndarray, institutions: list[dict], institution_ids: pa.Array
) -> pa.ListArray:
    """Per author (``affiliation_offsets`` into the institution indices ``affiliation``): the
    lineage ids of its institutions, in order, each id once."""
    index_of = {record["id"]: position for position, record in enumerate(institutions)}
    lineages = [[index_of[member] for member in record["lineage"]] for record in institutions]
    lengths = np.array([len(lineage) for lineage in lineages])
    members = np.concatenate([np.array(lineage) for lineage in lineages])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    author_count = len(affiliation_offsets) - 1
    author_of_affiliation = np.repeat(np.arange(author_count), np.diff(affiliation_offsets))
    per_affiliation = lengths[affiliation]
    entry_author = np.repeat(author_of_affiliation, per_affiliation)
    entry_rank = np.arange(int(per_affiliation.sum())) - np.repeat(np.cumsum(per_affiliation) - per_affiliation, per_affiliation)
    entry_institution = members[np.repeat(starts[affiliation], per_affiliation) + entry_rank]
    # Keep an id's first entry per author: entries come author by author, a few each, so
    # an entry repeats one of the ``longest - 1`` entries before it or none.
    longest = int(np.bincount(entry_author).max()) if len(entry_author) else 0
    kept = np.ones(len(entry_author), dtype=bool)
    for back in range(1, longest):
        same = (entry_author[back:] == entry_author[:-back]) & (entry_institution[back:] == entry_institution[:-back])
        kept[back:] &= ~same
    offsets = np.concatenate([[0], np.cumsum(np.bincount(entry_author[kept], minlength=author_count))])
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), institution_ids.take(pa.array(entry_institution[kept])))


def _citation_columns(draws: WorkDraws, keep: np.ndarray) -> dict[str, pa.Array]:
    counts = draws.counts_by_year[keep]
    nonzero = counts > 0
    years = np.broadcast_to(draws.reference_year - np.arange(counts.shape[1]), counts.shape)[nonzero]
    entries = pa.StructArray.from_arrays(
        [pa.array(years, pa.int32()), pa.array(counts[nonzero], pa.int32())],
        fields=list(COUNTS_BY_YEAR_TYPE.value_type),
    )
    offsets = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int32)
    percentile = draws.percentile[keep]
    unknown = np.isnan(percentile)
    return {
        "cited_by_count": pa.array(draws.citations[keep], pa.int32()),
        "counts_by_year": pa.ListArray.from_arrays(pa.array(offsets), entries, type=COUNTS_BY_YEAR_TYPE),
        "fwci": pa.array(draws.fwci[keep], pa.float64(), from_pandas=True),
        "citation_normalized_percentile": pa.array(draws.percentile[keep], pa.float64(), from_pandas=True),
        "referenced_works_count": pa.array(draws.references[keep], pa.int32()),
        "is_retracted": pa.array(np.zeros(len(keep), dtype=bool)),
        "world_top_1pct": pa.array(percentile >= 0.99, mask=unknown),
        "world_top_10pct": pa.array(percentile >= 0.9, mask=unknown),
    }


def _imported_columns(rows: int) -> dict[str, pa.Array]:
    """The Web of Science columns (null: only ``import-wos`` fills them) and ``record_sources``."""
    sources = pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32)), pa.array(["synthetic"]).take(pa.array(np.zeros(rows, dtype=np.int32))))
    nulls = {name: pa.nulls(rows, WORKS_SCHEMA.field(name).type)
             for name in ("wos_times_cited", "esi_highly_cited", "esi_hot_paper")}
    return {**nulls, "record_sources": sources}
