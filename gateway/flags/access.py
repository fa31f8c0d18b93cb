"""Admin tokens: who may read and change flags through ``/admin/``. Distinct from agent keys.

Two environment variables, read once at start (both may be set):

* ``GATEWAY_ADMIN_TOKEN=<token>`` — one read-write token, named ``admin`` in the audit log;
* ``GATEWAY_ADMIN_TOKENS="alice:<token>:rw,grafana:<token>:ro"`` — named tokens, each read-write
  (``rw``) or read-only (``ro``); the name is the actor recorded in the audit log.

Tokens are hashed at start and looked up by digest. Without any token the admin API answers 401
to everyone: flags cannot be changed by accident on an open demo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.auth import secret_digest
from gateway.errors import Forbidden, Unauthorized
from gateway.settings import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")
SINGLE_TOKEN_NAME = "admin"


@dataclass(frozen=True, slots=True)
class Admin:
    """An authenticated admin: the token's name and whether it may change flags."""

    name: str
    can_write: bool


class AdminTokens:
    """The admin tokens, hashed."""

    def __init__(self, admins: Mapping[str, Admin]):
        """``admins`` maps each token (in clear, as configured) to its holder."""
        self._by_digest = {secret_digest(token): admin for token, admin in admins.items()}

    @classmethod
    def from_env(cls, single: str | None, named: str | None) -> AdminTokens:
        """The tokens of ``GATEWAY_ADMIN_TOKEN`` (``single``) and ``GATEWAY_ADMIN_TOKENS`` (``named``)."""
        admins: dict[str, Admin] = {}
        if single:
            admins[single] = Admin(SINGLE_TOKEN_NAME, can_write=True)
        for token, admin in _parse_named(named or ""):
            if token in admins:
                raise ConfigError(f"GATEWAY_ADMIN_TOKENS: the token of {admin.name!r} is used twice")
            admins[token] = admin
        return cls(admins)

    @property
    def configured(self) -> bool:
        return bool(self._by_digest)

    def authenticate(self, authorization: str | None) -> Admin:
        """The admin behind an ``Authorization: Bearer`` header; 401 when missing or unknown."""
        if not self._by_digest:
            raise Unauthorized(
                "the admin API is disabled: set GATEWAY_ADMIN_TOKEN (or GATEWAY_ADMIN_TOKENS) on the gateway",
                code="admin_disabled",
            )
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing admin token: send 'Authorization: Bearer <admin token>'", code="missing_key")
        admin = self._by_digest.get(secret_digest(authorization[7:].strip()))
        if admin is None:
            raise Unauthorized("invalid admin token", code="invalid_key")
        return admin

    @staticmethod
    def check_write(admin: Admin) -> None:
        """403 for a read-only token."""
        if not admin.can_write:
            raise Forbidden(f"admin token {admin.name!r} is read-only", code="read_only_token")


def _parse_named(spec: str) -> list[tuple[str, Admin]]:
    """``name:token:rw,name2:token2:ro`` → ``[(token, Admin), ...]``; the token may itself contain ``:``."""
    result = []
    for position, entry in enumerate(part.strip() for part in spec.split(",")):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        token, _, access = rest.rpartition(":")
        if not _NAME.match(name) or not token or access not in ("rw", "ro"):
            raise ConfigError(
                f"GATEWAY_ADMIN_TOKENS entry {position + 1}: expected 'name:token:rw' or 'name:token:ro' "
                f"(name of letters, digits, _.@-)"
            )
        result.append((token, Admin(name, can_write=access == "rw")))
    return result
