"""The API's one request-body parser: strict JSON (RFC 8259 as I-JSON,
RFC 7493, asks), so that any malformed body is a 400 problem with the code
``malformed_body`` and never reaches a view, a serializer or the event store.

Refused, each with a message that says why:

* bytes that are not UTF-8, or text that is not JSON;
* nesting deeper than :data:`MAX_DEPTH` arrays or objects (a 2 KB body of
  a thousand ``[`` would otherwise exhaust the interpreter's recursion
  limit somewhere between the parser and the database);
* a name repeated within one object (parsers disagree on which one wins);
* strings or names holding a lone surrogate (``"\\ud800"``), which no
  database column or UTF-8 output can hold;
* ``NaN``, ``Infinity``, numbers that overflow a double (``1e400``) and
  integers of more than 4,300 digits. (A field's own range is its
  serializer's business: an integer field declares its bounds.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
#: Python's own default limit, fixed here whatever the interpreter's setting.
MAX_INTEGER_DIGITS = 4300
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedBody(ParseError):
    """The request body is not a JSON document the API accepts."""

    default_code = "malformed_body"


def _no_duplicate_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise ValueError(f"the name {name!r} appears twice in one object")
        document[name] = value
    return document


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_tree(document: Any) -> None:
    """Depth and lone surrogates, walked without recursion."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise MalformedBody(
                    "The body holds a lone surrogate (such as \\ud800), "
                    "which is not text."
                )
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise MalformedBody(
                    f"The body is nested more than {MAX_DEPTH} levels deep."
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for name, item in items:
                if isinstance(name, str):
                    stack.append((name, depth))
                stack.append((item, depth + 1))


class StrictJSONParser(JSONParser):
    """``application/json`` bodies, strictly (see the module docstring)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedBody(
                f"The body is not UTF-8 (byte {error.start} is invalid)."
            ) from None
        try:
            document = json.loads(
                text,
                object_pairs_hook=_no_duplicate_names,
                parse_int=_integer,
                parse_float=_finite_float,
                parse_constant=_refuse_constant,
            )
        except RecursionError:
            raise MalformedBody(
                f"The body is nested more than {MAX_DEPTH} levels deep."
            ) from None
        except ValueError as error:
            raise MalformedBody(f"The body is not valid JSON: {error}.") from None
        _check_tree(document)
        return document
