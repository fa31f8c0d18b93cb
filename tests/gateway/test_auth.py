"""Agent keys: who is calling, from the ``Authorization`` header, in memory only."""

from __future__ import annotations

import pytest

from gateway.auth import RECENT_KEYS, KeyRing
from gateway.errors import Unauthorized
from gateway.settings import ApiKey, AuthConfig

ENV = {"SUPPORT_KEY": "sk-support-0123456789", "OPS_KEY": "sk-ops-9876543210"}


def _ring() -> KeyRing:
    keys = (
        ApiKey(name="support", key_env="SUPPORT_KEY", agents=("support_agent",)),
        ApiKey(name="ops", key_env="OPS_KEY", agents=("*",)),
    )
    return KeyRing(AuthConfig(keys=keys), ENV)


def test_a_known_key_is_its_caller_every_time_in_any_spelling_of_the_scheme() -> None:
    ring = _ring()
    for header in ("Bearer sk-support-0123456789", "bearer sk-support-0123456789", "Bearer  sk-support-0123456789 "):
        for _ in range(2):  # the second time from memory
            caller = ring.authenticate(header)
            assert caller.name == "support"
            assert caller.may_call("support_agent") and not caller.may_call("legal_agent")
    assert ring.authenticate("Bearer sk-ops-9876543210").name == "ops"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_key"),
        ("", "missing_key"),
        ("sk-support-0123456789", "missing_key"),  # no scheme
        ("Basic sk-support-0123456789", "missing_key"),
        ("Bearer sk-support-012345678", "invalid_key"),  # a prefix of a known key
        ("Bearer sk-support-0123456789x", "invalid_key"),
        ("Bearer SUPPORT_KEY", "invalid_key"),
    ],
)
def test_a_missing_or_unknown_key_is_refused_even_after_the_right_one_was_seen(header: str | None, code: str) -> None:
    ring = _ring()
    ring.authenticate("Bearer sk-support-0123456789")
    for _ in range(2):  # refusals are not remembered: the second try is refused the same way
        with pytest.raises(Unauthorized) as refused:
            ring.authenticate(header)
        assert refused.value.code == code


def test_the_memory_of_authenticated_headers_is_bounded() -> None:
    """Headers that differ only in trailing spaces are one key each time, however many spellings arrive."""
    ring = _ring()
    for i in range(RECENT_KEYS + 50):
        assert ring.authenticate("Bearer sk-ops-9876543210" + " " * i).name == "ops"
    assert len(ring._recent) <= RECENT_KEYS


def test_with_no_keys_configured_the_gateway_is_open() -> None:
    ring = KeyRing(AuthConfig(), {})
    assert ring.open
    assert ring.authenticate(None).may_call("any_agent")
