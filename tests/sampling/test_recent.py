"""RecentIds: ids with a value, for a TTL and up to a cap, the oldest leaving first, in O(1)."""

from __future__ import annotations

import tracemalloc

from gateway.sampling.recent import RecentIds


def test_past_the_cap_the_oldest_ids_leave_first() -> None:
    """With a cap of 3, putting 5 ids keeps the last 3."""
    ids = RecentIds(ttl_s=60, cap=3)
    for i in range(5):
        ids.put(f"id-{i}", i, now=0.0)
    assert [ids.get(f"id-{i}", now=0.0) for i in range(5)] == [None, None, 2, 3, 4]
    assert len(ids) == 3


def test_ids_expire_after_the_ttl_in_arrival_order() -> None:
    """An id put at t=0 is gone at t=ttl; one put at t=5 is still there then and gone at t=5+ttl."""
    ids = RecentIds(ttl_s=10, cap=100)
    ids.put("early", 1, now=0.0)
    ids.put("late", 2, now=5.0)
    assert ids.get("early", now=9.9) == 1
    assert ids.get("early", now=10.0) is None
    assert ids.get("late", now=10.0) == 2
    assert ids.get("late", now=15.0) is None
    assert len(ids) == 0


def test_putting_an_id_again_updates_its_value_not_its_place() -> None:
    """A known id keeps its arrival slot: it leaves at its first expiry, and is pushed out in its first turn."""
    ids = RecentIds(ttl_s=10, cap=2)
    ids.put("a", 1, now=0.0)
    ids.put("b", 1, now=1.0)
    ids.put("a", 7, now=2.0)
    assert ids.get("a", now=2.0) == 7
    ids.put("c", 1, now=3.0)  # over the cap: "a", the oldest arrival, leaves
    assert ids.get("a", now=3.0) is None
    assert ids.get("b", now=3.0) == 1


def test_a_full_set_stays_fast_and_exact_many_times_over() -> None:
    """Ten times past the cap, exactly the newest ``cap`` ids are kept, with their values."""
    ids = RecentIds(ttl_s=3600, cap=1000)
    for i in range(10_000):
        ids.put(f"r{i}", i % 7, now=float(i) / 1000)
    assert len(ids) == 1000
    assert ids.get("r8999", now=10.0) is None
    assert ids.get("r9000", now=10.0) == 9000 % 7


def test_add_takes_an_id_once_until_it_is_pushed_out() -> None:
    """``add`` is a duplicate guard: True for a new id, False for one already held, True again once
    the cap has pushed it out."""
    ids = RecentIds(ttl_s=60, cap=2)
    assert ids.add("a") is True
    assert ids.add("a") is False
    assert ids.add("b") is True
    assert ids.add("c") is True  # over the cap: "a" leaves
    assert ids.add("a") is True


def test_an_id_costs_its_hash_not_its_string() -> None:
    """100,000 request ids (32 hex characters, let go by their requests) take under 110 bytes each: the
    set keeps a 64-bit hash per id (~96 bytes with its slots), not the 81-byte string (~128)."""
    ids = RecentIds(ttl_s=3600, cap=100_000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100_000):
            ids.put(f"{i:032x}", 3, now=0.0)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert ids.get(f"{99_999:032x}", now=0.0) == 3
    assert grown / 100_000 < 110, grown / 100_000
