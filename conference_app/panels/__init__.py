"""Expert panels. For now the selection rounds: a ranking's output (candidates.parquet,
summary.json and its charts, from ``python -m selection rank``) imported once, its
candidates per discipline and journal group, and why each has its score."""
