"""Request ids: the client's when safe, else fresh 128-bit random ones, never repeated, not across a fork either."""

from __future__ import annotations

import os
import re

from gateway.proxy import request_id

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_a_safe_client_id_is_kept_and_an_unsafe_one_replaced() -> None:
    """A token of letters, digits and ._:- is the client's to choose; anything else gets a fresh id."""
    assert request_id({"x-request-id": "trace-42:a.b"}) == "trace-42:a.b"
    assert HEX32.match(request_id({"x-request-id": "two words"}))
    assert HEX32.match(request_id({"x-request-id": "trace-42\n"}))  # a trailing newline is not part of a token
    assert HEX32.match(request_id({"x-request-id": "x" * 129}))
    assert HEX32.match(request_id({}))


def test_fresh_ids_are_hex_and_distinct_across_many_refills() -> None:
    """Ids are cut from a random pool refilled every 256 ids: 5,000 of them are all distinct."""
    ids = [request_id({}) for _ in range(5000)]
    assert all(HEX32.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_process_does_not_repeat_its_parents_ids() -> None:
    """After a fork the child draws new randomness instead of continuing the parent's pool."""
    request_id({})  # the parent's pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.write(write, "".join(request_id({}) for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode()
    parent = "".join(request_id({}) for _ in range(10))
    assert len(child) == 320 and child != parent
