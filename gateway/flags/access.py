"""Admin tokens: who may read and change flags through ``/admin/``. Distinct from agent keys.

Two environment variables, read once at start (both may be set):

* ``GATEWAY_ADMIN_TOKEN=<token>`` — one read-write token, named ``admin`` in the audit log;
* ``GATEWAY_ADMIN_TOKENS="alice:<token>:rw,grafana:<token>:ro,ml:<token>:content"`` — named
  tokens, each read-write (``rw``), read-only (``ro``: flags, counts, A/B figures), or read-only
  with the scored samples' prompts and answers (``content``: what ``export samples --url`` reads);
  the name is the actor recorded in the audit log. Read-write tokens read content too.

User content is its own level because the tokens that read numbers (a dashboard's, a monitor's)
are the ones most widely handed out, and redaction removes e-mail addresses, phone and card
numbers, not everything a user may write.

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
    """An authenticated admin: the token's name, whether it may change flags, and read user content."""

    name: str
    can_write: bool
    can_read_content: bool


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
            admins[single] = Admin(SINGLE_TOKEN_NAME, can_write=True, can_read_content=True)
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

    @staticmethod
    def check_content(admin: Admin) -> None:
        """403 for a token that may not read prompts and answers."""
        if not admin.can_read_content:
            raise Forbidden(
                f"admin token {admin.name!r} may not read prompts and answers: give it access 'content' or 'rw'",
                code="content_not_allowed",
            )


def _parse_named(spec: str) -> list[tuple[str, Admin]]:
    """``name:token:rw,name2:token2:ro,name3:token3:content`` → ``[(token, Admin), ...]``; the token may
    itself contain ``:``."""
    result = []
    for position, entry in enumerate(part.strip() for part in spec.split(",")):
        if not entry:
            continue
        name, _, rest = entry.partition(":")
        token, _, access = rest.rpartition(":")
        if not _NAME.match(name) or not token or access not in ("rw", "ro", "content"):
            raise ConfigError(
                f"GATEWAY_ADMIN_TOKENS entry {position + 1}: expected 'name:token:rw', 'name:token:ro' or "
                f"'name:token:content' (name of letters, digits, _.@-)"
            )
        result.append((token, Admin(name, can_write=access == "rw", can_read_content=access != "ro")))
    return result
