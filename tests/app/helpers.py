"""Small helpers for web tests."""

from __future__ import annotations

import re

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, url: str) -> str:
    """The CSRF token from the form (or meta tag) on the page at ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF_PATTERN.search(html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    if match is None:
        raise AssertionError(f"no csrf token on {url}")
    return next(group for group in match.groups() if group)
