"""Instruction-following cues read from the prompt, and the matching facts about an answer.

What the request says about the answer's shape: how many items it wants ("three ways", "name
5 animals", or one thing: "suggest a snack"), a word limit ("in 50 words or less") or a
sentence limit ("in one sentence"); and how many items or sentences the answer actually gives.
The format scorer turns mismatches into penalties. Only the instruction part of the prompt is
read (the text before the first blank line), so numbers inside the input text are not
mistaken for a requested count.
"""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUM = r"(one|two|three|four|five|six|seven|eight|nine|ten|\d{1,3})"
# A number right after an instruction verb ("list five", "give me 3") asks for that many items.
VERB_COUNT_RE = re.compile(
    r"\b(?:list|name|give|provide|suggest|generate|write|create|find|identify|mention|recommend|think of|"
    r"come up with|brainstorm|choose|select|pick|outline|describe|explain|share|tell me)\s+"
    r"(?:me\s+|us\s+)?(?:the\s+)?(?:top\s+)?" + _NUM + r"\s+(?:[a-z-]+\s+){0,2}?[a-z]+s\b"
)
# A number before a typical item noun asks for that many items wherever it stands.
NOUN_COUNT_RE = re.compile(
    r"\b" + _NUM + r"\s+(?:\w+\s+){0,2}?"
    r"(?:ways|tips|steps|examples|ideas|reasons|items|points|things|questions|names|facts|benefits)\b"
)
# "Suggest a snack", "name a famous mathematician": one thing, not a list.
SINGLE_RE = re.compile(
    r"^(?:please\s+)?(?:name|suggest|tell me|tell|recommend|choose|pick|think of)\s+(?:me\s+)?"
    r"(?:a|an|one|the name of an?|a single)\s+(?!list|few|couple|number|set|series|variety|range)"
)
WORD_LIMIT_RE = re.compile(
    r"\b(?:in|within|under|below|(?:no|not) (?:more|longer) than|less than|fewer than|at most|maximum(?: of)?|max|up to)\s+"
    + _NUM
    + r"\s+words\b|\b"
    + _NUM
    + r"[- ]words? or (?:less|fewer)\b|\b"
    + _NUM
    + r"-word\b"
)
SENTENCE_LIMIT_RE = re.compile(
    r"\b(?:in|with|using|write|as|into|of|at most|no more than|just|only)\s+(?:a\s+|exactly\s+)?"
    r"(single|one|two|three|four|five|\d)\s+(?:short\s+|concise\s+|brief\s+)?sentences?\b|\bone-sentence\b"
)
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|[a-z][.)])\s+\S", re.MULTILINE)
INLINE_SPLIT_RE = re.compile(r",|;|\band\b")
SHORT_ITEM_WORDS = 8


def instruction_part(prompt: str) -> str:
    """The instruction: the prompt's text before its first blank line, lower-cased."""
    return prompt.strip().split("\n\n", 1)[0].lower()


def _number(token: str) -> int:
    if token == "single":
        return 1
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


def requested_count(prompt: str) -> int | None:
    """The number of items the prompt asks for ("three ways", "list 5 tips", "suggest a snack" = 1)."""
    instruction = instruction_part(prompt)
    match = VERB_COUNT_RE.search(instruction) or NOUN_COUNT_RE.search(instruction)
    if match is not None:
        return _number(match.group(1))
    return 1 if SINGLE_RE.search(instruction) else None


def word_limit(prompt: str) -> int | None:
    """The most words the prompt allows ("in 50 words or less", "under 100 words"), if it says."""
    match = WORD_LIMIT_RE.search(instruction_part(prompt))
    if match is None:
        return None
    return _number(next(g for g in match.groups() if g is not None))


def sentence_limit(prompt: str) -> int | None:
    """The number of sentences the prompt asks for ("in one sentence", "in two sentences"), if any."""
    match = SENTENCE_LIMIT_RE.search(instruction_part(prompt))
    if match is None:
        return None
    return 1 if match.group(1) is None else _number(match.group(1))


def answer_items(answer: str) -> int:
    """How many items the answer gives: list entries, short lines, or a short comma-separated run."""
    listed = len(LIST_ITEM_RE.findall(answer))
    if listed >= 2:
        return listed
    lines = [line for line in answer.splitlines() if line.strip()]
    if len(lines) >= 2 and all(len(line.split()) <= SHORT_ITEM_WORDS for line in lines):
        return len(lines)
    if len(lines) == 1 and len(answer.split()) <= 5 * SHORT_ITEM_WORDS:
        parts = [p for p in INLINE_SPLIT_RE.split(answer) if p.strip()]
        if len(parts) >= 2 and all(len(p.split()) <= 5 for p in parts):
            return len(parts)
    return 1
