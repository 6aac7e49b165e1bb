"""Hand-made works frames in the works.parquet shape, for the ranking tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from selection.schema import WORKS_SCHEMA


def work(number: int, **fields) -> dict:
    """One harvest-eligible Beijing work with plain defaults; ``fields`` override any column."""
    row = {
        "work_id": f"W{number}",
        "doi": f"10.1000/w{number}",
        "title": f"paper {number}",
        "publication_year": 2024,
        "publication_date": dt.date(2024, 6, 1),
        "type": "article",
        "language": "en",
        "source_id": "S1",
        "source_name": "Journal One",
        "issn_l": "1234-5678",
        "issns": ["1234-5678"],
        "journal_group": "international",
        "journal_group_rule": "source_country",
        "discipline": "mathematics",
        "subfield_id": 2604,
        "topic_id": f"T{number}",
        "beijing_any": True,
        "beijing_first": True,  # the default author rule's Beijing first author
        "beijing_corresponding": False,
        "beijing_institution_ids": ["I20231570"],
        "countries": ["CN"],
        "authors_count": 1,
        "authorships": [
            {"author_id": f"A{number}", "name": f"Author {number}", "orcid": None, "position": "first",
             "is_corresponding": True, "institution_ids": ["I20231570"], "lineage_ids": ["I20231570"],
             "institution_names": ["Peking University"], "is_beijing": True}
        ],
        "cited_by_count": 10,
        "counts_by_year": [{"year": 2024, "cited_by_count": 10}],
        "fwci": 1.0,
        "citation_normalized_percentile": 0.5,
        "referenced_works_count": 30,
        "is_retracted": False,
        "abstract": None,
        "field_id": None,
        "topic_ids": None,
        "topic_names": None,
        "topic_scores": None,
        "keywords": [],
        "funders": [],
        "oa_url": None,
        "world_top_1pct": None,
        "world_top_10pct": None,
        "beijing_author_share": 1.0,
        "wos_times_cited": None,
        "esi_highly_cited": None,
        "esi_hot_paper": None,
        "record_sources": ["openalex"],
    }
    unknown = set(fields) - set(row)
    assert not unknown, f"not works columns: {unknown}"
    row.update(fields)
    if row["field_id"] is None and row["subfield_id"] is not None:
        row["field_id"] = row["subfield_id"] // 100
    if row["topic_ids"] is None:
        row["topic_ids"] = [] if row["topic_id"] is None else [row["topic_id"]]
        row["topic_scores"] = [0.99] * len(row["topic_ids"])
        row["topic_names"] = [f"topic {topic}" for topic in row["topic_ids"]]
    return row


def works_frame_of(rows: list[dict]) -> pd.DataFrame:
    """The rows as a pandas frame converted from a WORKS_SCHEMA Arrow table."""
    return pa.Table.from_pylist(rows, schema=WORKS_SCHEMA).to_pandas()
