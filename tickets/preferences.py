"""A staff member's display preferences: the one timezone rule and the
interface language.

The timezone rule (every page that shows times uses it, nowhere else
decides):

1. the user's own choice (``NotificationSettings.timezone``, "My settings"),
   when it names an IANA zone;
2. else the timezone of the department the user acts for by default: the
   first of :func:`departments.selectors.memberships_for_user` (front-line
   departments first, then by department code; active departments only);
3. else ``settings.TIME_ZONE`` (UTC when that is not a valid zone).

The answer is memoised on the user object, so a page (or a template tag
run once per row) calls :func:`viewer_timezone` freely: one lookup per
request, as a request's user object lives only as long as the request.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from typing import Any

from django.conf import settings

from departments.selectors import memberships_for_user

#: Where the answers are memoised on the user object.
_TIMEZONE_MEMO = "_baton_viewer_timezone"
_LANGUAGE_MEMO = "_baton_viewer_language"
_SETTINGS_MEMO = "_baton_own_settings"
_NONE = object()


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    name = str(name or "").strip()
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def default_timezone() -> zoneinfo.ZoneInfo:
    """``settings.TIME_ZONE`` as a zone (UTC if it is not one)."""
    return _zone(getattr(settings, "TIME_ZONE", "") or "UTC") or zoneinfo.ZoneInfo(
        "UTC"
    )


def _own_settings(user: Any) -> Any | None:
    """The user's settings row (None: the defaults), read once per user
    object (a request's)."""
    from tickets.models import NotificationSettings

    remembered = getattr(user, _SETTINGS_MEMO, None)
    if remembered is not None:
        return None if remembered is _NONE else remembered
    found = NotificationSettings.objects.filter(user_id=user.pk).first()
    with contextlib.suppress(AttributeError):  # immutable stand-ins
        setattr(user, _SETTINGS_MEMO, _NONE if found is None else found)
    return found


def viewer_timezone(user: Any) -> zoneinfo.ZoneInfo:
    """The zone ``user`` reads times in (the rule in the module docstring).
    Anonymous or missing users get the default zone."""
    remembered = getattr(user, _TIMEZONE_MEMO, None)
    if remembered is not None:
        return remembered  # type: ignore[no-any-return]
    zone = _resolve_timezone(user)
    if user is not None:
        with contextlib.suppress(AttributeError):  # immutable stand-ins
            setattr(user, _TIMEZONE_MEMO, zone)
    return zone


def _resolve_timezone(user: Any) -> zoneinfo.ZoneInfo:
    if not getattr(user, "is_authenticated", False):
        return default_timezone()
    own = _own_settings(user)
    chosen = _zone(own.timezone) if own is not None else None
    if chosen is not None:
        return chosen
    for membership in memberships_for_user(user):
        zone = _zone(membership.department.timezone)
        if zone is not None:
            return zone
    return default_timezone()


def department_timezone(user: Any) -> zoneinfo.ZoneInfo:
    """The zone the user gets when they choose none (step 2-3 of the rule):
    shown as the default on "My settings"."""
    for membership in memberships_for_user(user):
        zone = _zone(membership.department.timezone)
        if zone is not None:
            return zone
    return default_timezone()


def viewer_language(user: Any) -> str:
    """The interface language ``user`` chose (a code of
    ``settings.LANGUAGES``), or ``""``: follow the browser
    (Accept-Language). Memoised on the user object like the timezone."""
    remembered = getattr(user, _LANGUAGE_MEMO, None)
    if remembered is not None:
        return str(remembered)
    language = ""
    if getattr(user, "is_authenticated", False):
        own = _own_settings(user)
        code = str(own.language or "") if own is not None else ""
        if code in {c for c, _n in getattr(settings, "LANGUAGES", ())}:
            language = code
    if user is not None:
        with contextlib.suppress(AttributeError):
            setattr(user, _LANGUAGE_MEMO, language)
    return language


def forget_preferences(user: Any) -> None:
    """Drop the memoised answers (after the user changes their settings
    within the same request)."""
    for name in (_TIMEZONE_MEMO, _LANGUAGE_MEMO, _SETTINGS_MEMO):
        if hasattr(user, name):
            delattr(user, name)
