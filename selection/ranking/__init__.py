"""The quantitative ranking: indicators, stratum percentiles, the eligibility gate, the
quota with its topic cap, text clusters, rank stability, and the output files.
docs/selection-method.md states the method."""
