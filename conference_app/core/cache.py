"""A micro-cache of rendered page parts that everyone sees alike (the public calendar's list,
a salon series' public page): kept a few seconds in each worker process.

Under a crowd (the Academic Month calendar on its opening day) most requests are for the
same few pages; rendering their lists once every ``PUBLIC_PAGE_CACHE_SECONDS`` instead of on
every request is what keeps them fast. What is cached holds nothing of a user's own (no
form, no CSRF token, no name): only the part of a page that is the same for every visitor,
so it may be at most that many seconds old (a new event, the places left). 0 turns it off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
MAX_ENTRIES = 512


class MicroCache:
    """A small LRU of values that expire after the app's ``PUBLIC_PAGE_CACHE_SECONDS``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value cached for ``key``, or ``make()``'s (kept for the next requests)."""
        seconds = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
        if seconds <= 0:
            return make()
        key = (id(current_app._get_current_object()), key)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                return found[1]
        value = make()
        with self._lock:
            self._entries[key] = (now + seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


public_pages = MicroCache()
