"""Redaction of personal data from sampled text."""

from __future__ import annotations

import pytest

from gateway.sampling.redact import CARD, EMAIL, PHONE, REDACTED, Redactor
from gateway.settings import RedactionConfig


@pytest.mark.parametrize(
    "text",
    ["jane.doe+billing@example.co.uk", "ops@mail.example.com"],
)
def test_emails_are_redacted(text: str) -> None:
    """E-mail addresses become the e-mail placeholder."""
    assert Redactor()(f"write to {text} today") == f"write to {EMAIL} today"


@pytest.mark.parametrize(
    "text",
    ["+33 6 12 34 56 78", "(555) 123-4567", "555-123-4567", "+1 415 555 0100", "06 12 34 56 78", "555.123.4567"],
)
def test_phone_numbers_are_redacted(text: str) -> None:
    """Phone numbers in common national and international forms become the phone placeholder."""
    assert Redactor()(f"call {text}.") == f"call {PHONE}."


@pytest.mark.parametrize("text", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005"])
def test_card_numbers_are_redacted(text: str) -> None:
    """Card-like numbers (13-19 digits, spaces or dashes) become the card placeholder."""
    assert Redactor()(f"my card is {text}") == f"my card is {CARD}"


@pytest.mark.parametrize(
    "text",
    [
        "released 2024-05-14",
        "pytest 8.3.2",
        "order #4821",
        "$1,250,000 ARR",
        "host 192.168.100.200",
        "pi is 3.14159",
        "at 12:30",
        "40% over 7 days",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    """Dates, versions, short ids, amounts, IP addresses and times are not mistaken for personal data."""
    assert Redactor()(text) == text


def test_each_kind_can_be_switched_off() -> None:
    """A kind switched off in the config is left in the text."""
    redact = Redactor(RedactionConfig(emails=False, phones=False))
    assert redact("a@b.io, 555-123-4567, card 4111 1111 1111 1111") == f"a@b.io, 555-123-4567, card {CARD}"


def test_configured_patterns_are_redacted() -> None:
    """Extra patterns from the config are replaced by the generic placeholder."""
    redact = Redactor(RedactionConfig(patterns=(r"ACCT-\d+",)))
    assert redact("account ACCT-991 closed") == f"account {REDACTED} closed"


def test_bad_pattern_fails_the_config() -> None:
    """A pattern that does not compile is refused when the config loads."""
    with pytest.raises(ValueError, match="not a valid regular expression"):
        RedactionConfig(patterns=("(unclosed",))


def test_a_phone_with_the_fewest_digits_is_still_redacted() -> None:
    """Nine digits (the shortest phone number) pass the digit-count check that skips shorter texts."""
    assert Redactor()("call 612 345 678.") == f"call {PHONE}."


def test_digits_of_other_scripts_are_still_checked() -> None:
    """A phone number in Arabic-Indic digits is redacted: the ASCII digit count does not skip non-ASCII text."""
    assert Redactor()("call \u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668 now") == f"call {PHONE} now"
