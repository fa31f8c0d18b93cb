"""Redaction of sampled text: e-mail addresses, phone numbers, card-like numbers, configured patterns.

Runs off the request path (in the queue writer or the scoring worker), before a sample is stored
anywhere. Patterns are compiled once. It errs on the side of privacy: a long bare digit run that
might be a phone number is blanked, while dates, versions, amounts and short ids are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.settings import RedactionConfig

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\w)(?<!\d\.)\d(?:[ \-]?\d){12,18}(?!\w|\.\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d\.)(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)|\d{1,5})(?:[ .\-]?(?:\(\d{1,5}\)|\d{1,5})){1,6}(?!\w|\.\d)"
)
_PHONE_DIGITS = (9, 15)
_DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

EMAIL, PHONE, CARD, REDACTED = "[email]", "[phone]", "[card]", "[redacted]"


def _phone(match: re.Match[str]) -> str:
    # The pattern alone also matches dates and version-like groups; the digit count decides.
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    low, high = _PHONE_DIGITS
    if not low <= digits <= high or _DOTTED_QUAD.fullmatch(text):  # an IPv4 address is not a phone
        return text
    return PHONE


_ASCII_DIGITS = "0123456789"


def _may_hold_digits(text: str, count: int) -> bool:
    """Whether ``text`` has ``count`` digits: exact for ASCII text; otherwise True (``\\d`` matches other scripts' digits)."""
    if not text.isascii():
        return True
    return sum(map(text.count, _ASCII_DIGITS)) >= count  # ten C-level scans: faster than one translate


class Redactor:
    """Blanks personal data out of text, as configured."""

    def __init__(self, config: RedactionConfig | None = None):
        config = config or RedactionConfig()
        steps: list[Callable[[str], str]] = []
        # Each pattern scans the whole text (~6-13 µs per 500 characters); a cheap check first skips
        # the texts it cannot match: no '@', or fewer digits than a phone or card number has.
        if config.emails:
            steps.append(lambda text: _EMAIL.sub(EMAIL, text) if "@" in text else text)
        if config.cards:  # before phones: a card number would otherwise read as one
            steps.append(lambda text: _CARD.sub(CARD, text) if _may_hold_digits(text, 13) else text)
        if config.phones:
            steps.append(lambda text: _PHONE.sub(_phone, text) if _may_hold_digits(text, _PHONE_DIGITS[0]) else text)
        for pattern in config.patterns:
            compiled = re.compile(pattern)
            steps.append(lambda text, compiled=compiled: compiled.sub(REDACTED, text))  # type: ignore[misc]
        self._steps = tuple(steps)

    @property
    def active(self) -> bool:
        return bool(self._steps)

    def __call__(self, text: str) -> str:
        """``text`` with every configured kind of personal data replaced by its placeholder."""
        for step in self._steps:
            text = step(text)
        return text
