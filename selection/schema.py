"""The columns of ``works.parquet``: the one contract between harvest, snapshot import,
the synthetic generator and the ranking.

Every producer writes exactly ``WORKS_SCHEMA`` (same names, order and types); every
consumer may rely on it. Short OpenAlex ids are used throughout (``W123``, ``S45``,
``I67``, ``T11636``); subfield ids are integers (``2604``).
"""

from __future__ import annotations

import pyarrow as pa

JOURNAL_GROUPS = ("domestic", "international")

# Which rule decided a work's journal group (see selection.journal_groups).
JOURNAL_GROUP_RULES = ("override", "source_country", "default")

COUNTS_BY_YEAR_TYPE = pa.list_(
    pa.struct([("year", pa.int32()), ("cited_by_count", pa.int32())])
)

WORKS_SCHEMA = pa.schema(
    [
        ("work_id", pa.string()),  # "W2741809807", never null, unique in a file
        ("doi", pa.string()),  # lower-case "10.xxxx/..." without the https://doi.org/ prefix
        ("title", pa.string()),
        ("publication_year", pa.int32()),
        ("publication_date", pa.date32()),
        ("type", pa.string()),  # "article" or "review"
        ("language", pa.string()),
        ("source_id", pa.string()),  # "S137773608"
        ("source_name", pa.string()),
        ("issn_l", pa.string()),
        ("issns", pa.list_(pa.string())),
        ("journal_group", pa.string()),  # one of JOURNAL_GROUPS
        ("journal_group_rule", pa.string()),  # one of JOURNAL_GROUP_RULES
        ("discipline", pa.string()),  # key of selection.disciplines, null when unmapped
        ("subfield_id", pa.int32()),  # primary topic's subfield
        ("topic_id", pa.string()),  # primary topic, "T11636"
        ("beijing_any", pa.bool_()),  # some author has a Beijing institution
        ("beijing_first", pa.bool_()),  # the first author has one
        ("beijing_corresponding", pa.bool_()),  # a corresponding author has one
        ("beijing_institution_ids", pa.list_(pa.string())),
        ("countries", pa.list_(pa.string())),  # distinct ISO codes of all authorships
        ("authors_count", pa.int32()),
        ("cited_by_count", pa.int32()),
        ("counts_by_year", COUNTS_BY_YEAR_TYPE),
        ("fwci", pa.float64()),
        ("citation_normalized_percentile", pa.float64()),  # its "value", 0..1
        ("referenced_works_count", pa.int32()),
        ("is_retracted", pa.bool_()),
        ("abstract", pa.string()),  # rebuilt from abstract_inverted_index; may be null
    ]
)

WORKS_COLUMNS = tuple(WORKS_SCHEMA.names)


def empty_works_table() -> pa.Table:
    """A table with no rows and the works schema."""
    return WORKS_SCHEMA.empty_table()
