"""The request bodies the simulator refuses: those the real Mistral API answers with 422.

The real API validates a chat request against the schema of its public OpenAPI document and
reports every problem at once, in pydantic's shape (``type``, ``loc``, ``msg``, ``input``, and
``ctx`` for constraints), inside its own error envelope:

    {"object": "error", "message": {"detail": [...]}, "type": "invalid_request_error", "param": null, "code": null}

What is checked is what that schema rejects: a closed body and closed messages (unknown keys are
``extra_forbidden``), messages discriminated on ``role``, ``temperature`` in [0, 1.5], ``top_p`` in
[0, 1], ``max_tokens`` and ``random_seed`` ≥ 0, ``n`` ≥ 1, the penalties in [-2, 2], booleans,
``stop`` as a string or a list of strings, and the enums of ``response_format.type``,
``tool_choice`` and ``prediction.type``. The known fields are those of ``ChatCompletionRequest``
in ``mistralai`` 3.7.0 (a test keeps them in step). Values are judged the way pydantic's lax mode
judges them (``"0.5"`` is a number, ``"yes"`` a boolean, ``3.0`` an integer), so nothing the API
takes is refused here. Semantic refusals the API answers with 400 (an assistant message with
neither content nor tool calls, ...) are not simulated.

Every check is a small function over one value that returns its problems; the tables that map
field names to checks are built once, at import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.errors import UpstreamRejected
from gateway.upstream.base import Payload

Loc = tuple[str | int, ...]


class Problem(msgspec.Struct, omit_defaults=True):
    """One item of the 422 ``detail`` list, in pydantic's shape (and key order)."""

    type: str
    loc: Loc
    msg: str
    input: Any
    ctx: dict[str, Any] | None = None


class _Detail(msgspec.Struct):
    detail: list[Problem]


class _Rejection(msgspec.Struct, kw_only=True):
    object: str = "error"
    message: _Detail
    type: str = "invalid_request_error"
    param: None = None
    code: None = None


Check = Callable[[Any, Loc], list[Problem]]

_encode = msgspec.json.Encoder().encode


def problems(payload: Payload) -> list[Problem]:
    """Everything the real API would refuse in ``payload`` (a Mistral-dialect body); empty when valid."""
    found = [Problem("missing", ("body", name), "Field required", payload) for name in _REQUIRED if name not in payload]
    for name, value in payload.items():
        check = _FIELDS.get(name)
        if check is None:
            found.append(_extra(value, ("body", name)))
        else:
            found.extend(check(value, ("body", name)))
    return found


def rejection(payload: Payload) -> UpstreamRejected | None:
    """The 422 the real API answers ``payload`` with, or None when it would accept it."""
    found = problems(payload)
    if not found:
        return None
    body = _encode(_Rejection(message=_Detail(found)))
    return UpstreamRejected(422, body, "application/json")


# --- scalars, judged like pydantic's lax mode -------------------------------------------------

_BOOLEAN_WORDS = frozenset({"1", "on", "t", "true", "y", "yes", "0", "off", "f", "false", "n", "no"})


def _extra(value: Any, loc: Loc) -> Problem:
    return Problem("extra_forbidden", loc, "Extra inputs are not permitted", value)


def string(value: Any, loc: Loc) -> list[Problem]:
    if isinstance(value, str):
        return []
    return [Problem("string_type", loc, "Input should be a valid string", value)]


def boolean(value: Any, loc: Loc) -> list[Problem]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float) and value in (0, 1):
        return []
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return []
    if isinstance(value, int | float | str):
        return [Problem("bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value)]
    return [Problem("bool_type", loc, "Input should be a valid boolean", value)]


def _as_float(value: Any) -> float | None:
    if isinstance(value, int | float | str):  # bool included, as pydantic's lax mode does
        try:
            return float(value.strip() if isinstance(value, str) else value)
        except ValueError:
            return None
        except OverflowError:  # an integer beyond a float's range
            return math.inf
    return None


def _as_int(value: Any) -> int | str:
    """The integer ``value`` stands for, or the pydantic error type saying why there is none."""
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return "finite_number"
        return int(value) if value.is_integer() else "int_from_float"
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return "int_parsing"
    return "int_type"


_INT_MESSAGES = {
    "int_type": "Input should be a valid integer",
    "int_parsing": "Input should be a valid integer, unable to parse string as an integer",
    "int_from_float": "Input should be a valid integer, got a number with a fractional part",
    "finite_number": "Input should be a finite number",
}


def _bounds(number: float, value: Any, loc: Loc, ge: float | None, le: float | None) -> list[Problem]:
    # pydantic tests ``le`` before ``ge``: NaN, which fails both, is reported as too large.
    if le is not None and not number <= le:
        return [Problem("less_than_equal", loc, f"Input should be less than or equal to {le}", value, {"le": le})]
    if ge is not None and not number >= ge:
        return [Problem("greater_than_equal", loc, f"Input should be greater than or equal to {ge}", value, {"ge": ge})]
    return []


def number(*, ge: float | None = None, le: float | None = None, nullable: bool = True) -> Check:
    """A check for a float field within [ge, le]."""

    def check(value: Any, loc: Loc) -> list[Problem]:
        if value is None and nullable:
            return []
        parsed = _as_float(value)
        if parsed is None:
            if isinstance(value, str):
                msg = "Input should be a valid number, unable to parse string as a number"
                return [Problem("float_parsing", loc, msg, value)]
            return [Problem("float_type", loc, "Input should be a valid number", value)]
        return _bounds(parsed, value, loc, ge, le)

    return check


def integer(*, ge: int | None = None, nullable: bool = True) -> Check:
    """A check for an int field of at least ``ge``."""

    def check(value: Any, loc: Loc) -> list[Problem]:
        if value is None and nullable:
            return []
        parsed = _as_int(value)
        if isinstance(parsed, str):
            return [Problem(parsed, loc, _INT_MESSAGES[parsed], value)]
        return _bounds(parsed, value, loc, ge, None)

    return check


def one_of(*allowed: str) -> Check:
    """A check for a string enum, reported as pydantic reports a ``Literal``."""
    expected = _expected(allowed)
    choices = frozenset(allowed)

    def check(value: Any, loc: Loc) -> list[Problem]:
        if isinstance(value, str) and value in choices:
            return []
        return [Problem("literal_error", loc, f"Input should be {expected}", value, {"expected": expected})]

    return check


def _expected(allowed: tuple[str, ...]) -> str:
    quoted = [f"'{a}'" for a in allowed]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def nullable_list(value: Any, loc: Loc) -> list[Problem]:
    if value is None or isinstance(value, list):
        return []
    return [Problem("list_type", loc, "Input should be a valid list", value)]


# --- unions and objects ---------------------------------------------------------------------


def stop(value: Any, loc: Loc) -> list[Problem]:
    """``str | list[str]`` (or null): a union reports each member's failure under the member's name."""
    if value is None or isinstance(value, str):
        return []
    if not isinstance(value, list):
        return [
            Problem("string_type", (*loc, "str"), "Input should be a valid string", value),
            Problem("list_type", (*loc, "list[str]"), "Input should be a valid list", value),
        ]
    wrong = [p for i, item in enumerate(value) for p in string(item, (*loc, "list[str]", i))]
    if not wrong:
        return []
    return [Problem("string_type", (*loc, "str"), "Input should be a valid string", value), *wrong]


def content(*, nullable: bool, chunks: str) -> Check:
    """A message's ``content``: a string or a list of chunks (the chunks themselves are not checked)."""
    member = f"list[{chunks}]"

    def check(value: Any, loc: Loc) -> list[Problem]:
        if isinstance(value, str | list) or (value is None and nullable):
            return []
        return [
            Problem("string_type", (*loc, "str"), "Input should be a valid string", value),
            Problem("list_type", (*loc, member), "Input should be a valid list", value),
        ]

    return check


@dataclass(frozen=True, slots=True)
class Shape:
    """A closed JSON object: its checked fields, which of them are required, its pydantic class name."""

    name: str
    fields: Mapping[str, Check]
    required: tuple[str, ...] = ()

    def check(self, value: Any, loc: Loc) -> list[Problem]:
        if not isinstance(value, dict):
            msg = f"Input should be a valid dictionary or instance of {self.name}"
            return [Problem("model_type", loc, msg, value, {"class_name": self.name})]
        return self.check_fields(value, loc)

    def check_fields(self, value: dict[str, Any], loc: Loc) -> list[Problem]:
        found = [
            Problem("missing", (*loc, name), "Field required", value) for name in self.required if name not in value
        ]
        for name, item in value.items():
            check = self.fields.get(name)
            found.extend([_extra(item, (*loc, name))] if check is None else check(item, (*loc, name)))
        return found


def _anything(value: Any, loc: Loc) -> list[Problem]:
    return []


def tool_choice(value: Any, loc: Loc) -> list[Problem]:
    """``ToolChoice | ToolChoiceEnum``: an object naming a function, or one of four strings."""
    if isinstance(value, dict):
        return _TOOL_CHOICE.check_fields(value, (*loc, "ToolChoice"))
    if isinstance(value, str) and value in _TOOL_CHOICES:
        return []
    msg = "Input should be a valid dictionary or instance of ToolChoice"
    expected = _expected(_TOOL_CHOICES)
    return [
        Problem("model_type", (*loc, "ToolChoice"), msg, value, {"class_name": "ToolChoice"}),
        Problem("enum", (*loc, "ToolChoiceEnum"), f"Input should be {expected}", value, {"expected": expected}),
    ]


def messages(value: Any, loc: Loc) -> list[Problem]:
    if not isinstance(value, list):
        return [Problem("list_type", loc, "Input should be a valid list", value)]
    if not value:
        # The schema sets no minimum; the API cannot answer nothing, and this is pydantic's wording for it.
        ctx = {"field_type": "List", "min_length": 1, "actual_length": 0}
        return [Problem("too_short", loc, "List should have at least 1 item after validation, not 0", value, ctx)]
    return [p for i, message in enumerate(value) for p in _message(message, (*loc, i))]


def _message(value: Any, loc: Loc) -> list[Problem]:
    """One message of the union discriminated on ``role``; problems inside it are located under the role."""
    if not isinstance(value, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        return [Problem("model_attributes_type", loc, msg, value)]
    if "role" not in value:
        msg = "Unable to extract tag using discriminator 'role'"
        return [Problem("union_tag_not_found", loc, msg, value, {"discriminator": "'role'"})]
    role = value["role"]
    shape = _ROLES.get(role) if isinstance(role, str) else None
    if shape is None:
        msg = f"Input tag '{role}' found using 'role' does not match any of the expected tags: {_ROLE_TAGS}"
        ctx = {"discriminator": "'role'", "tag": str(role), "expected_tags": _ROLE_TAGS}
        return [Problem("union_tag_invalid", loc, msg, value, ctx)]
    return shape.check_fields(value, (*loc, role))


# --- the schema -----------------------------------------------------------------------------

_TOOL_CHOICES = ("auto", "none", "any", "required")
_TOOL_CHOICE = Shape("ToolChoice", {"type": one_of("function"), "function": _anything}, required=("function",))


def _optional_string(value: Any, loc: Loc) -> list[Problem]:
    return [] if value is None else string(value, loc)


_ROLES: dict[str, Shape] = {
    "system": Shape(
        "SystemMessage", {"role": _anything, "content": content(nullable=False, chunks="TextChunk")}, ("content",)
    ),
    "user": Shape(
        "UserMessage", {"role": _anything, "content": content(nullable=True, chunks="ContentChunk")}, ("content",)
    ),
    "assistant": Shape(
        "AssistantMessage",
        {
            "role": _anything,
            "content": content(nullable=True, chunks="ContentChunk"),
            "tool_calls": nullable_list,
            "prefix": boolean,
        },
    ),
    "tool": Shape(
        "ToolMessage",
        {
            "role": _anything,
            "content": content(nullable=True, chunks="ContentChunk"),
            "tool_call_id": _optional_string,
            "name": _optional_string,
        },
        ("content",),
    ),
}
_ROLE_TAGS = ", ".join(f"'{role}'" for role in _ROLES)

_RESPONSE_FORMAT = Shape(
    "ResponseFormat", {"type": one_of("text", "json_object", "json_schema"), "json_schema": _anything}
)
_PREDICTION = Shape("Prediction", {"type": one_of("content"), "content": string})

_REQUIRED = ("model", "messages")

# Every field of ChatCompletionRequest; those whose constraints the schema does not state are not checked.
_FIELDS: dict[str, Check] = {
    "model": string,
    "messages": messages,
    "temperature": number(ge=0, le=1.5),
    "top_p": number(ge=0, le=1),
    "max_tokens": integer(ge=0),
    "stream": boolean,
    "stop": stop,
    "random_seed": integer(ge=0),
    "metadata": _anything,
    "response_format": _RESPONSE_FORMAT.check,
    "tools": nullable_list,
    "tool_choice": tool_choice,
    "presence_penalty": number(ge=-2, le=2),
    "frequency_penalty": number(ge=-2, le=2),
    "min_tokens": _anything,
    "repetition_penalty": _anything,
    "top_k": _anything,
    "logprobs": _anything,
    "top_logprobs": _anything,
    "prompt_logprobs": _anything,
    "top_prompt_logprobs": _anything,
    "n": integer(ge=1),
    "prediction": _PREDICTION.check,
    "parallel_tool_calls": boolean,
    "reasoning_effort": _anything,
    "prompt_mode": _anything,
    "guardrails": _anything,
    "prompt_cache_key": _anything,
    "service_tier": _anything,
    "safe_prompt": boolean,
}
KNOWN_FIELDS = frozenset(_FIELDS)
"""The body fields the API knows; any other is ``extra_forbidden``."""

MESSAGE_FIELDS = {role: frozenset(shape.fields) for role, shape in _ROLES.items()}
"""The keys each message role may carry; any other is ``extra_forbidden``."""
