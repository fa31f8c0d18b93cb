"""Errors of the flag store that the admin API answers with (rendered in the Mistral shape)."""

from __future__ import annotations

from gateway.errors import GatewayError


class VersionConflict(GatewayError):
    """The flags moved on since the version a change was based on; nothing was changed."""

    status = 409
    type = "conflict"


class StoreUnavailable(GatewayError):
    """The shared store (Redis) did not answer; nothing was changed. Chat requests are unaffected."""

    status = 503
    type = "service_unavailable"
