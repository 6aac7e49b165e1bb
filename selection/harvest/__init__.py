"""Harvest the Beijing papers in ISSN journals from OpenAlex into ``works.parquet``.

The query (SPEC section 4): works with an author at one of the Beijing institutions of
the editable list, published in the year window, of type article or review, whose
primary source is a journal with an ISSN, neither retracted nor paratext. OpenAlex
cannot filter on a city, so works are asked for by institution id, at most 50 ids in
one OR filter; a work under two batches is kept once.

The work is cut into partitions, one per year and institution batch; a partition whose
first page reports more than ``split_above`` works is split into publication-date
ranges, again and again if needed, so that no cursor chain dominates the wall time.
Worker threads fetch pages under one shared rate limit, one page of a partition at a
time, always the next page of the partition with the most pages left. After every page the
partition's checkpoint (cursor, pages written) is replaced atomically, the page itself
having been written before as ``raw/<partition>.p<NNNNN>.jsonl.gz``; ``--resume`` after
a kill at any point continues each partition from its checkpoint.

At the end the sources' countries are looked up from ``/sources`` (batches of 50,
cached), every raw page is normalised (``selection.harvest.normalize``), works are deduplicated
and sorted by id and written as ``works.parquet``, then ``manifest.json``. The manifest
is written with ``status: "running"`` at the start and ``"complete"`` only last: an
output folder whose manifest does not say complete is not a harvest result.
"""
