"""Expert panels' library: experts and their works, conflicts of interest, assignment of
candidates to experts, and the statistics of a panel's scores. Plain Python, no Flask."""
