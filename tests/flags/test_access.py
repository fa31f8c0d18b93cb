"""Admin tokens from the environment: single and named forms, read-only and read-write, refusals."""

from __future__ import annotations

import hashlib

import pytest

from gateway import auth
from gateway.errors import Forbidden, Unauthorized
from gateway.flags import access
from gateway.flags.access import AdminTokens
from gateway.settings import ConfigError


def test_single_token_is_read_write_and_named_admin() -> None:
    """GATEWAY_ADMIN_TOKEN grants read-write access under the name ``admin``."""
    admin = AdminTokens.from_env("s3cret", None).authenticate("Bearer s3cret")
    assert (admin.name, admin.can_write) == ("admin", True)


def test_named_tokens_carry_names_and_rights() -> None:
    """GATEWAY_ADMIN_TOKENS lists name:token:rw|ro entries; a token may contain colons."""
    tokens = AdminTokens.from_env(None, "alice:a:b:c:rw, grafana:ro-token:ro,")
    alice, grafana = tokens.authenticate("Bearer a:b:c"), tokens.authenticate("bearer ro-token")
    assert (alice.name, alice.can_write, grafana.name, grafana.can_write) == ("alice", True, "grafana", False)
    AdminTokens.check_write(alice)
    with pytest.raises(Forbidden, match="read-only"):
        AdminTokens.check_write(grafana)


def test_prompts_and_answers_need_a_content_or_read_write_token() -> None:
    """Access ``content`` reads user content without writing; ``ro`` reads neither; ``rw`` and the single token both."""
    tokens = AdminTokens.from_env("s3cret", "ml:ml-token:content,grafana:ro-token:ro,alice:rw-token:rw")
    ml, grafana = tokens.authenticate("Bearer ml-token"), tokens.authenticate("Bearer ro-token")
    for reader in (ml, tokens.authenticate("Bearer rw-token"), tokens.authenticate("Bearer s3cret")):
        AdminTokens.check_content(reader)
    with pytest.raises(Forbidden, match="prompts and answers"):
        AdminTokens.check_content(grafana)
    with pytest.raises(Forbidden, match="read-only"):
        AdminTokens.check_write(ml)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer wrong"])
def test_missing_or_unknown_tokens_are_401(header: str | None) -> None:
    """No header, another scheme or an unknown token is refused with 401."""
    with pytest.raises(Unauthorized):
        AdminTokens.from_env("s3cret", None).authenticate(header)


def test_without_tokens_the_admin_api_is_closed() -> None:
    """With no admin token configured every call is 401, saying how to enable the API."""
    tokens = AdminTokens.from_env(None, None)
    assert not tokens.configured
    with pytest.raises(Unauthorized, match="GATEWAY_ADMIN_TOKEN"):
        tokens.authenticate("Bearer anything")


@pytest.mark.parametrize("spec", ["alice", "alice:tok", "alice:tok:admin", ":tok:rw", "al ice:tok:rw", "a:t:rw,b:t:ro"])
def test_malformed_token_lists_fail_at_start(spec: str) -> None:
    """A malformed GATEWAY_ADMIN_TOKENS (or a token used twice) is a config error naming the variable."""
    with pytest.raises(ConfigError, match="GATEWAY_ADMIN_TOKENS"):
        AdminTokens.from_env(None, spec)


def test_admin_tokens_and_agent_keys_share_one_digest() -> None:
    """Admin tokens are hashed by the same function as agent keys (gateway.auth), a SHA-256 of the secret."""
    assert access.secret_digest is auth.secret_digest
    assert auth.secret_digest("s3cret") == hashlib.sha256(b"s3cret").digest()
