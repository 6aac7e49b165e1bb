"""Enrich a harvest from OpenAlex with grouped queries: what the ranking compares with.

``python -m selection enrich --works HARVEST/works.parquet --out DIR`` runs three phases,
each resumable (page logs in ``DIR/state``) and counted in ``DIR/manifest.json``:

1. topics: ``topic_growth.parquet``, works per primary topic and year in all of OpenAlex
   over the works' years (the frontier's world line);
2. national: ``national_baseline.parquet``, the citation-count histograms of the articles
   and reviews in China-published journals per subfield and year (the domestic track's
   national baseline);
3. citing: ``citing.parquet``, for the works of ``--contention FILE`` the citing works,
   those with no author in China and the citing countries (influence from who cites).

``--budget N`` caps the requests of a session; what it leaves is listed in the manifest and
fetched by the next ``--resume``. ``read_enrichment(DIR)`` reads the folder back.
"""

from selection.enrich.folder import Enrichment, read_enrichment
from selection.enrich.run import EnrichSettings, enrich

__all__ = ["EnrichSettings", "Enrichment", "enrich", "read_enrichment"]
