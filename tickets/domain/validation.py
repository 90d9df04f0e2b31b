"""Pure checks every command runs on its arguments before any event.

Each returns the cleaned value or raises :class:`InvalidInput` (with a
field-level code), :class:`ReasonRequired` or :class:`InvalidScore`;
:func:`_instant` refuses event times that are not timezone-aware UTC (a
programming error, so a plain ValueError).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tickets.domain.errors import InvalidInput, InvalidScore, ReasonRequired
from tickets.domain.vocabulary import (
    ATTACHMENT_KEYS,
    CONTROL_CHARACTERS,
    MAX_ATTACHMENTS,
    MAX_REASON,
    SCENARIO_RE,
)


def _text(
    value: Any, field_name: str, max_length: int, *, required: bool = True
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field_name} must be text.", field=field_name, code="invalid_type"
        )
    value = str(value).strip()
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            f"{field_name} contains control characters (such as NUL) that text "
            "cannot hold.",
            field=field_name,
            code="invalid_characters",
        )
    if required and not value:
        raise InvalidInput(
            f"{field_name} is required.", field=field_name, code="field_required"
        )
    if len(value) > max_length:
        raise InvalidInput(
            f"{field_name} must be at most {max_length} characters (got {len(value)}).",
            field=field_name,
            code="field_too_long",
        )
    return str(value)


def _reason(value: Any, field_name: str = "reason") -> str:
    text = _text(value, field_name, MAX_REASON, required=False)
    if not text:
        raise ReasonRequired(f"A {field_name} is required.", field=field_name)
    return text


def _choice(value: Any, enum: type[StrEnum], field_name: str) -> str:
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise InvalidInput(
            f"{field_name} must be one of {', '.join(allowed)}.",
            field=field_name,
            code="invalid_choice",
        )
    return str(value)


def _scenario(value: Any) -> str:
    text = _text(value, "scenario", 64, required=False)
    if text and not SCENARIO_RE.match(text):
        raise InvalidInput(
            "scenario must be a code of letters, digits, '.', '_' or '-'.",
            field="scenario",
            code="invalid_scenario",
        )
    return text.upper()


def _timezone(value: Any) -> str:
    text = _text(value, "customer_timezone", 64, required=False) or "UTC"
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"customer_timezone {text!r} is not an IANA timezone name.",
            field="customer_timezone",
            code="invalid_timezone",
        ) from None
    return text


LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


def _language(value: Any) -> str:
    """A language tag, lower case (``en``, ``zh-hans``), or ``""`` for the
    site's default. Which languages a site offers is the interface's
    business (it knows the settings); the domain keeps the shape."""
    text = _text(value, "language", 16, required=False).lower()
    if text and not LANGUAGE_TAG.fullmatch(text):
        raise InvalidInput(
            f"language {text!r} is not a language code such as en or zh-hans.",
            field="language",
            code="invalid_language",
        )
    return text


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidScore("A score is a whole number from 1 to 5.", field="score")
    return value


def _instant(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise ValueError("event times must be timezone-aware UTC datetimes")
    return at


def _attachments(value: Any) -> list[dict[str, Any]]:
    """The files an entry carries, as their events record them: a list of
    ``{"id", "name", "size", "content_type", "sha256"}`` (the bytes are in
    storage; the interface stored and checked them), at most
    ``MAX_ATTACHMENTS``, each once."""
    files = list(value or ())
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"At most {MAX_ATTACHMENTS} files can be attached to one entry.",
            field="attachments",
            code="too_many_attachments",
        )
    cleaned: list[dict[str, Any]] = []
    for item in files:
        if not isinstance(item, dict) or set(item) != set(ATTACHMENT_KEYS):
            raise InvalidInput(
                "An attachment is described by " + ", ".join(ATTACHMENT_KEYS) + ".",
                field="attachments",
                code="invalid_attachment",
            )
        if not isinstance(item["size"], int) or item["size"] < 0:
            raise InvalidInput(
                "An attachment's size is a whole number of bytes.",
                field="attachments",
                code="invalid_attachment",
            )
        cleaned.append({key: item[key] for key in ATTACHMENT_KEYS})
    if len({str(item["id"]) for item in cleaned}) != len(cleaned):
        raise InvalidInput(
            "The same file is attached twice.",
            field="attachments",
            code="invalid_attachment",
        )
    return cleaned
