"""What can go wrong in a benchmark run, from one failed call to a run that cannot start.

    BenchError            the run cannot go on (bad setup, unreachable gateway, forcing refused);
    │                     the command reports it and exits with status 4
    └── ForceRefused      the gateway answered 403 to a forced variant (allow_force_variant is off)
    CallFailed            one model call failed; ``transient`` ones are retried with backoff,
                          the others are recorded on the case as an error

Callers translate their client's exceptions into these at their own boundary, so the runner
never sees an HTTP-client or SDK exception.
"""

from __future__ import annotations


class BenchError(Exception):
    """The benchmark cannot run (or go on); the message says what to fix."""


class ForceRefused(BenchError):
    """The gateway refused to force a variant (403)."""


class CallFailed(Exception):
    """One model call failed; ``transient`` says whether another attempt may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
