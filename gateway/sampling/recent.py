"""Recently seen request ids in memory, each with a small value, forgotten after a TTL or past a cap.

What the embedded home remembers per request id: who answered it (the request index, for
feedback) and which ids were already scored or rated (the duplicate guards of the result store).
Every id is kept at most ``ttl_s`` and at most ``cap`` are kept; the oldest leave first.

An id leaves in O(1): the ids are also kept in arrival order in a deque, and expiry is kept per
slice of arrivals (1 % of the TTL, at most a second), not per id. (Popping a dict's first key
instead slows down once the dict is full: deleted slots stay at the front of a dict until it
resizes, and finding the first key walks past all of them — 60 to 230 µs per request at 200,000
ids, measured.)

An id is kept as its hash (``hash(str)``: 64 bits, keyed per process, computed once per string
anyway), not as its string: ~87 bytes per id (an int, a dict slot and a deque slot) instead of
~135 with the string, ~5 MB less per 100,000 ids. Two ids of the same hash would count as one;
among 100,000 kept ids, a new one does so with a chance of about 1 in 10^14.
"""

from __future__ import annotations

import time
from collections import deque


class RecentIds:
    """id -> int for ``ttl_s``, at most ``cap`` ids; putting an id again updates its value, not its place."""

    def __init__(self, ttl_s: float, cap: int):
        self._ttl = ttl_s
        self._cap = cap
        self._values: dict[int, int] = {}
        """The ids' hashes, with their values."""
        self._order: deque[int] = deque()
        self._expiries: deque[float] = deque()
        """When each slice of arrivals expires (its first arrival's expiry), oldest first."""
        self._counts: deque[int] = deque()
        """How many ids of ``_order`` belong to each of ``_expiries``."""
        self._slice = min(1.0, ttl_s / 100)
        """Arrivals this close share one expiry: an id may leave up to 1 % of the TTL (at most 1 s) early."""

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: str, now: float | None = None) -> int | None:
        """The id's value, or None when it was never put, has expired or was pushed out."""
        self._expire(time.monotonic() if now is None else now)
        return self._values.get(hash(key))

    def add(self, key: str) -> bool:
        """Remember ``key`` unless it is already here: whether it was new (a duplicate guard's check)."""
        now = time.monotonic()
        if self.get(key, now) is not None:
            return False
        self.put(key, 0, now)
        return True

    def put(self, key: str, value: int, now: float | None = None) -> None:
        """Remember ``key`` (a new id goes last in line; a known one keeps its place and expiry)."""
        now = time.monotonic() if now is None else now
        self._expire(now)
        hashed = hash(key)
        if hashed in self._values:
            self._values[hashed] = value
            return
        if len(self._values) >= self._cap:
            self._drop_oldest()
        self._values[hashed] = value
        self._order.append(hashed)
        expires = now + self._ttl
        if self._expiries and expires - self._expiries[-1] < self._slice:
            self._counts[-1] += 1
        else:
            self._expiries.append(expires)
            self._counts.append(1)

    def _drop_oldest(self) -> None:
        del self._values[self._order.popleft()]
        self._counts[0] -= 1
        if not self._counts[0]:
            self._counts.popleft()
            self._expiries.popleft()

    def _expire(self, now: float) -> None:
        while self._expiries and self._expiries[0] <= now:
            self._expiries.popleft()
            for _ in range(self._counts.popleft()):
                del self._values[self._order.popleft()]
