"""IANA timezones offered in selects (department, customer, a person's
own): the common zones first, then every other one."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils.translation import gettext

#: Offered first in timezone selects (the zones most customers live in).
COMMON_TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
)


def timezone_choices(*, blank: str = "") -> list[tuple[str, Any]]:
    """A select's choices for an IANA zone: the common zones first, then
    every other zone by name (grouped); with a first blank choice labelled
    ``blank`` when given."""
    common = [z for z in COMMON_TIMEZONES if z in zoneinfo.available_timezones()]
    rest = sorted(zoneinfo.available_timezones() - set(common))
    choices: list[tuple[str, Any]] = [("", blank)] if blank else []
    choices.append((gettext("Common"), [(z, z) for z in common]))
    choices.append((gettext("All timezones"), [(z, z) for z in rest]))
    return choices
