"""Background jobs: harvests, rankings, imports, exports run outside the request, on RQ with
``REDIS_URL`` or in a thread of the web process without it; each one's state, progress, log
and outputs are a row of ``jobs``."""
