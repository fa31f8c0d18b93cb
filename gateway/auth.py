"""Who is calling: agent keys (``Authorization: Bearer``) mapped to the agents they may call.

Keys come from environment variables named in the config, are hashed once at start and compared
by digest. An ``Authorization`` header that authenticated is then remembered as it came (at most
``RECENT_KEYS`` of them; only valid ones, so unknown keys cannot fill it): an agent sends the same
key with every request, and finding it again is one dict lookup instead of a SHA-256. With no keys
configured the gateway is open, which is what the embedded demo wants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import Forbidden, Unauthorized
from gateway.settings import AuthConfig, ConfigError


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: the key's name and the agents it may use."""

    name: str
    agents: frozenset[str]

    def may_call(self, agent: str) -> bool:
        return "*" in self.agents or agent in self.agents


_ANONYMOUS = Caller("anonymous", frozenset({"*"}))
RECENT_KEYS = 1024
"""Authorization headers remembered after they authenticated; past this many the memory starts again."""


class KeyRing:
    """The agent keys, hashed."""

    def __init__(self, config: AuthConfig, env: Mapping[str, str]):
        self._by_digest: dict[bytes, Caller] = {}
        for key in config.keys:
            secret = env.get(key.key_env)
            if not secret:
                raise ConfigError(f"auth.keys.{key.name}.key_env: environment variable {key.key_env} is not set")
            self._by_digest[secret_digest(secret)] = Caller(key.name, frozenset(key.agents))
        self.open = not self._by_digest
        self._recent: dict[str, Caller] = {}

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller behind an ``Authorization`` header; 401 when it is missing or unknown."""
        if self.open:
            return _ANONYMOUS
        if authorization is not None:
            known = self._recent.get(authorization)
            if known is not None:
                return known
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'", code="missing_key")
        caller = self._by_digest.get(secret_digest(authorization[7:].strip()))
        if caller is None:
            raise Unauthorized("invalid API key", code="invalid_key")
        if len(self._recent) >= RECENT_KEYS:
            self._recent.clear()
        self._recent[authorization] = caller
        return caller

    @staticmethod
    def check(caller: Caller, agent: str) -> None:
        """403 when the caller's key does not cover the agent."""
        if not caller.may_call(agent):
            raise Forbidden(f"key {caller.name!r} may not call agent {agent!r}", code="agent_not_allowed")

    @staticmethod
    def check_passthrough(caller: Caller, model: str) -> None:
        """403 unless the key covers every agent (``*``): a key scoped to agents may not bypass them."""
        if "*" not in caller.agents:
            raise Forbidden(
                f"key {caller.name!r} is scoped to agents and may not call model {model!r} directly",
                code="model_not_allowed",
            )


def secret_digest(secret: str) -> bytes:
    """How agent keys and admin tokens are held and looked up: their SHA-256, never the secret itself."""
    return hashlib.sha256(secret.encode()).digest()
