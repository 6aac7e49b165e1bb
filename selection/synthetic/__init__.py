"""Seeded synthetic OpenAlex data: a whole world as JSON, or a works table straight away.

One set of parameters (``draw``) and one vectorised draw (``draw.draw_works``) feed two
outputs:

- ``generate_world`` turns the draw into OpenAlex-shaped JSON (institutions, sources,
  works) for the demo, the local test server and the snapshot tests, with traps the
  harvest rules must reject;
- ``works_frame`` turns the same draw into the ``works.parquet`` columns with numpy and
  pyarrow (no JSON), keeping the harvest-eligible works: a million rows in seconds.

For the same ``n_works`` and seed, normalising the eligible JSON works gives exactly the
rows of ``works_frame``.

Topics are real OpenAlex topics drawn from ``topics.csv`` of the shared data when it is
found (``$SHARED_DATA/openalex/topics/topics.csv``, else ``../shared/data`` beside the
repository). Without it (a fresh machine) each real subfield gets four stand-in topics with
the ids ``T9<subfield id><1..4>``; subfield, field and domain ids are real either way. The
two sources give different (each deterministic) worlds of the same structure:

- the topics of a subfield grow at clearly different rates (from shrinking to fast: the
  years of a topic's works follow its growth), and growing topics are cited a little more;
- a work has one to three topics (mostly three, as in OpenAlex), the primary first with a
  score of 0.90-1.00 and falling scores after it; secondary topics come mostly from the
  primary's subfield, sometimes from its field or from anywhere, so rare pairs exist;
- each work's citations spread over the years at its own pace (some accelerate, others fade);
- titles, abstracts and keywords lean on a vocabulary of the primary topic; funders
  (Chinese ones, CAS, and foreign ones for works with authors in their country), an
  open-access copy for about half of the works, OpenAlex's world top 1 % / 10 % flags
  from the percentile and the Beijing share of the authorships complete the v3 columns.
"""

from selection.synthetic.catalogue import DOMAINS, FIELDS, default_topics_path
from selection.synthetic.draw import ELIGIBLE_TRAPS, TRAP_KINDS
from selection.synthetic.table import works_frame, works_table, write_works_parquet
from selection.synthetic.world import SyntheticWorld, generate_world

__all__ = [
    "DOMAINS",
    "ELIGIBLE_TRAPS",
    "FIELDS",
    "TRAP_KINDS",
    "SyntheticWorld",
    "default_topics_path",
    "generate_world",
    "works_frame",
    "works_table",
    "write_works_parquet",
]
