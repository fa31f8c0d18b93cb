"""Instruction-following cues read from the prompt, and the matching facts about an answer.

What the request says about the answer's shape: how many items it wants ("three ways", "name
5 animals", or one thing: "suggest a snack"), a word limit ("in 50 words or less") or a
sentence limit ("in one sentence"), or an output it implies (a link, a letter's greeting, code, a
number); and how many items or sentences the answer actually gives, and which implied outputs
it lacks.
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


# What the request implies the answer must contain, beyond its shape: a link when links are
# asked for, a greeting or sign-off when an email or letter is to be written, code when code is
# to be written, a number when a quantity is asked. Read from the instruction part only.
# A link is asked for ("provide a link", "include URLs"), not merely mentioned ("do we need a link?").
LINK_ASKED_RE = re.compile(
    r"\b(?:provide|give|include|share|send|add|post|attach|with)\b[^.?!\n]{0,30}\b(?:links?|urls?|hyperlinks?)\b"
)
LINK_GIVEN_RE = re.compile(r"https?://|\bwww\.|\b[a-z0-9-]+\.(?:com|org|net|io|gov|edu)\b")
LETTER_ASKED_RE = re.compile(
    r"\b(?:write|draft|compose|prepare|create)\b[^.?!\n]{0,40}\b(?:e-?mail|letter|cover letter|memo)\b"
    r"(?!\s*(?:signature|address|subject|list|template|campaign))"
)
LETTER_SHAPE_RE = re.compile(
    r"^\s*(?:subject:|dear\b|hi\b|hello\b|hey\b|greetings\b|to whom\b|good (?:morning|afternoon|evening)\b)|"
    r"\b(?:sincerely|regards|best|thanks|thank you|cheers|yours|respectfully|warmly)\b[^\n]{0,25}\n",
    re.MULTILINE,
)
# "Script", "class" and "function" also name a screenplay, a category and an Excel formula: they
# ask for code only next to a programming language; "code", "program", "snippet" always do.
CODE_WRITE_RE = re.compile(
    r"\b(?:write|create|implement|generate|give me|provide)\b[^.?!\n]{0,40}"
    r"\b(?:code|program|snippet|sql query|regex|regular expression)\b"
)
CODE_UNIT_RE = re.compile(r"\b(?:write|create|implement|generate)\b[^.?!\n]{0,40}\b(?:function|script|class|method)\b")
LANGUAGE_RE = re.compile(
    r"\b(?:python|javascript|typescript|java|c\+\+|c#|golang|rust|ruby|php|bash|shell|sql|kotlin|swift|perl)\b"
)
CODE_GIVEN_RE = re.compile(
    r"```|`[^`\n]+`|\bdef \w+\(|\bfunction\b|\breturn\b|[;{}]\s*$|\bselect\b[^\n]+\bfrom\b|=>|"
    r"\bimport \w|#include|\bconsole\.log|\bprint\(|^\s{4}\S",
    re.MULTILINE,
)
QUANTITY_ASKED_RE = re.compile(
    r"^(?:how (?:many|much|long|old|far|big|tall)|what (?:percentage|percent|year|is the (?:sum|total|average|"
    r"value|result|product))|calculate|compute)\b"
)
NUMBER_GIVEN_RE = re.compile(
    r"\d|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|"
    r"million|billion|half|dozen)\b"
)


def code_asked(instruction: str) -> bool:
    """The (lower-cased) instruction asks for code to be written."""
    if CODE_WRITE_RE.search(instruction):
        return True
    return CODE_UNIT_RE.search(instruction) is not None and LANGUAGE_RE.search(instruction) is not None


def missing_outputs(prompt: str, answer: str) -> list[str]:
    """What the request implies the answer should contain that it does not (link, letter, code, number)."""
    instruction, lowered = instruction_part(prompt), answer.lower()
    missing: list[str] = []
    if LINK_ASKED_RE.search(instruction) and not LINK_GIVEN_RE.search(lowered):
        missing.append("link")
    if LETTER_ASKED_RE.search(instruction) and not LETTER_SHAPE_RE.search(lowered + "\n"):
        missing.append("letter shape")
    if code_asked(instruction) and not CODE_GIVEN_RE.search(answer):
        missing.append("code")
    if QUANTITY_ASKED_RE.search(instruction) and not NUMBER_GIVEN_RE.search(lowered):
        missing.append("number")
    return missing
