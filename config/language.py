"""The interface language of a staff member on the admin.

``LocaleMiddleware`` picks a language for every request: the
``django_language`` cookie (``/i18n/setlang/``), else ``Accept-Language``,
else ``LANGUAGE_CODE``. On the admin, a staff member who chose a language
under "My settings" (``NotificationSettings.language``) gets that one
instead, on every browser; a blank choice leaves LocaleMiddleware's.

Cheap by design: only ``/admin/`` requests of an authenticated staff user
look the choice up (one query, memoised on the user object by
:func:`tickets.preferences.viewer_language`); the API and the customer
pages never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

from tickets.preferences import viewer_language


def _admin_prefix() -> str:
    try:
        return reverse("admin:index")
    except Exception:  # pragma: no cover - no admin in the URLconf
        return "/admin/"


class StaffLanguageMiddleware:
    """Activates a staff member's chosen language on the admin (after
    ``AuthenticationMiddleware``, which gives ``request.user``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.prefix:
            self.prefix = _admin_prefix()
        if request.path.startswith(self.prefix):
            user = getattr(request, "user", None)
            if (
                user is not None
                and user.is_authenticated
                and getattr(user, "is_staff", False)
            ):
                language = viewer_language(user)
                if language:
                    translation.activate(language)
                    request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
