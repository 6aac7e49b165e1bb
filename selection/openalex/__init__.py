"""Talking to OpenAlex: the client (pyalex on any base URL, one rate limit, retries), the
rate limiter, and a local OpenAlex-compatible server for tests and benchmarks."""
