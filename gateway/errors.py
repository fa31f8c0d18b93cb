"""The gateway's own errors, rendered in the Mistral/OpenAI error shape at one boundary.

    GatewayError
    ├── BadRequest            400 invalid_request_error
    ├── Unauthorized          401 unauthorized
    ├── Forbidden             403 forbidden
    ├── NotFound              404 invalid_model (or not_found)
    ├── PayloadTooLarge       413 request_too_large
    ├── RateLimited           429 rate_limited
    ├── UpstreamError         502 upstream_error — the upstream failed or answered nonsense
    │   ├── UpstreamUnavailable  503 upstream_unavailable — refused, or said 503
    │   └── UpstreamTimeout      504 upstream_timeout
    └── UpstreamRejected      4xx upstream_rejected — the upstream refused the request; its body is passed on

Only ``gateway.upstream`` sees HTTP-client exceptions; it raises these. The body shape
``{"object": "error", "message", "type", "param", "code"}`` is what the Mistral API sends and
what both the ``mistralai`` and ``openai`` SDKs read their message from.
"""

from __future__ import annotations

import msgspec


class GatewayError(Exception):
    """Base of every error the gateway answers with."""

    status = 500
    type = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.headers = headers or {}

    def body(self) -> bytes:
        """The error in the Mistral shape, as JSON bytes."""
        return msgspec.json.encode(
            {"object": "error", "message": self.message, "type": self.type, "param": None, "code": self.code}
        )


class BadRequest(GatewayError):
    status = 400
    type = "invalid_request_error"


class Unauthorized(GatewayError):
    status = 401
    type = "unauthorized"


class Forbidden(GatewayError):
    status = 403
    type = "forbidden"


class NotFound(GatewayError):
    status = 404
    type = "invalid_model"


class PayloadTooLarge(GatewayError):
    status = 413
    type = "request_too_large"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limited"


class UpstreamError(GatewayError):
    status = 502
    type = "upstream_error"

    def __init__(self, message: str, *, reason: str, upstream: str, **kwargs: object):
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.reason = reason
        self.upstream = upstream


class UpstreamUnavailable(UpstreamError):
    status = 503
    type = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    type = "upstream_timeout"


class UpstreamRejected(GatewayError):
    """The upstream refused the request itself (a 4xx other than auth): its answer is passed on as is.

    The client sent something the model server will not take (422 on an unknown field, 400 on a
    bad parameter, 429 on its rate limit); the client is best served by the upstream's own words.
    """

    type = "upstream_rejected"  # what the log and the sample say; the body is the upstream's own

    def __init__(self, status: int, body: bytes, content_type: str, *, headers: dict[str, str] | None = None):
        super().__init__(f"upstream answered {status}", headers=headers)
        self.status = status
        self._body = body
        self.content_type = content_type

    def body(self) -> bytes:
        return self._body
