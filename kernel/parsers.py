"""The API's JSON parser: JSON that Python reads but the clinic's code cannot hold is
refused here, with a 400 that says where, before any view sees it.

Python's `json` accepts `NaN`, `Infinity` and `1e999` (a float that no id, score or date
can become: `int(inf)` raises OverflowError) and nests as deep as its stack allows (past
that, RecursionError). No request the clinic takes is more than a few levels deep. A
`\\ud800` escape gives a string with a lone surrogate, which cannot be written as UTF-8 (the
database's encoding), so it is refused too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 16


class _NonFinite:
    """Stands in for a number Python would read as infinite or not a number."""

    def __init__(self, text: str) -> None:
        self.text = text


def _number(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


# A JSON string (with an optional key's colon after it) or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(\s*:)?|[\[\]{}]')


def _deepest_field(text: str) -> str:
    """The top-level field of a body too deep for `json` to read at all, found by
    counting brackets outside strings (only on this rare path)."""
    depth, field = 0, ""
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return field or "the body"
        elif bracket in "]}":
            depth -= 1
        elif token.group(1) and depth == 1:
            try:
                field = json.loads(bracket[: bracket.rindex(":")].rstrip())
            except ValueError:  # an escape json refuses: the key stays unnamed
                field = ""
    return "the body"


def _where(path: list[str | int]) -> str:
    return ".".join(str(step) for step in path) or "the body"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_parsed(data: Any) -> Any:
    """`data`, or a ParseError naming the first value nested too deep or not finite."""
    pending: list[tuple[Any, list[str | int]]] = [(data, [])]
    while pending:
        value, path = pending.pop()
        if isinstance(value, _NonFinite):
            raise ParseError(f"{_where(path)}: {value.text} is not a finite number.")
        if isinstance(value, str) and not _is_unicode(value):
            raise ParseError(f"{_where(path)}: a lone surrogate (\\ud800-\\udfff) is not text.")
        if isinstance(value, dict) and (
            bad := next((key for key in value if not _is_unicode(key)), None)
        ):
            raise ParseError(f"{_where(path)}: the key {bad!a} is not text.")
        if isinstance(value, dict | list):
            if len(path) >= MAX_DEPTH:
                raise ParseError(f"{_where(path)}: nested deeper than {MAX_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending += [(item, [*path, key]) for key, item in items]
    return data


class ClinicJSONParser(JSONParser):
    """DRF's JSON parser, with depth bounded and numbers finite."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json.loads(text, parse_constant=_NonFinite, parse_float=_number)
        except RecursionError as error:
            raise ParseError(
                f"{_deepest_field(text)}: nested deeper than {MAX_DEPTH} levels."
            ) from error
        except ValueError as error:  # also UnicodeDecodeError
            raise ParseError(f"JSON parse error - {error}") from error
        return check_parsed(data)
