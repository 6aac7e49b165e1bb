"""Bibliographic imports merged into a harvest by DOI: Web of Science exports (``wos``, read
with ``wosfile``) and CNKI / Wanfang RIS files (``ris``, read with ``rispy``) add citation
counts, ESI highly-cited and hot-paper flags and missing domestic papers, each value
labelled with its file in ``record_sources`` (``merge``); ``cli`` holds ``import-wos`` and
``import-ris``."""

from selection.imports.merge import MergeReport, merge_into_works
from selection.imports.ris import read_ris_files, ris_record_to_work
from selection.imports.wos import read_wos_files, wos_record_to_work

__all__ = ["MergeReport", "merge_into_works", "read_ris_files", "read_wos_files", "ris_record_to_work",
           "wos_record_to_work"]
