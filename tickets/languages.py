"""A ticket's language: the customer's, set when the ticket opens.

One place for the rules:

- a ticket's language is one of ``settings.LANGUAGES`` codes (``en``,
  ``zh-hans``), or ``""`` for the site's default (``LANGUAGE_CODE``);
  tickets opened before tickets had a language read as ``""``;
- opened over the API without one, it follows the request's
  ``Accept-Language`` (Django's choice, restricted to ``LANGUAGES``);
- opened from an email, it follows ``Content-Language``, else Chinese when
  most of the letters of the subject and body are CJK, else the default;
- the customer's page and emails use :func:`customer_language`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from tickets.domain import InvalidInput

CHINESE = "zh-hans"


def site_languages() -> list[str]:
    """The language codes the site offers, in settings order."""
    return [code for code, _name in settings.LANGUAGES]


def supported(code: str | None) -> str:
    """``code`` (any case, ``zh-CN``, ``en-us``...) as a code of
    ``LANGUAGES``, or ``""`` when the site offers nothing close."""
    text = str(code or "").strip().replace("_", "-").lower()
    if not text:
        return ""
    try:
        return translation.get_supported_language_variant(text)
    except LookupError:
        pass
    if text.startswith("zh") and CHINESE in site_languages():
        # zh, zh-cn, zh-sg: Simplified Chinese is the Chinese we offer.
        return CHINESE
    return ""


def ticket_language(value: Any) -> str:
    """The language a command may open a ticket in: ``""`` (the default) or
    a code of ``LANGUAGES``; anything else raises :class:`InvalidInput`
    (``invalid_language``)."""
    text = str(value or "").strip().lower()
    if text and text not in site_languages():
        raise InvalidInput(
            gettext("language must be one of %(codes)s.")
            % {"codes": ", ".join(site_languages())},
            field="language",
            code="invalid_language",
        )
    return text


def language_from_request(request: Any) -> str:
    """The language a request asks for (cookie, then ``Accept-Language``,
    then the default), as a code of ``LANGUAGES``."""
    chosen = translation.get_language_from_request(request)
    return supported(chosen) or default_language()


def default_language() -> str:
    return supported(settings.LANGUAGE_CODE) or settings.LANGUAGE_CODE


def customer_language(ticket_language_code: str) -> str:
    """The language a ticket's customer reads: the ticket's, or the site's
    default for a ticket without one."""
    return supported(ticket_language_code) or default_language()


def _is_cjk(char: str) -> bool:
    point = ord(char)
    return (
        0x4E00 <= point <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= point <= 0x4DBF  # extension A
        or 0x20000 <= point <= 0x2A6DF  # extension B
        or 0xF900 <= point <= 0xFAFF  # compatibility ideographs
    )


def language_of_text(*texts: str) -> str:
    """Chinese when more than half of the letters in ``texts`` are CJK
    ideographs (and Chinese is offered), else ``""`` (the default)."""
    letters = cjk = 0
    for text in texts:
        for char in text or "":
            if _is_cjk(char):
                cjk += 1
                letters += 1
            elif char.isalpha():
                letters += 1
    if letters and cjk * 2 > letters and CHINESE in site_languages():
        return CHINESE
    return ""


def language_of_email(content_language: str, *texts: str) -> str:
    """An email's language: its ``Content-Language`` header (the first tag
    the site offers), else what :func:`language_of_text` finds."""
    for tag in (content_language or "").split(","):
        found = supported(tag.split(";")[0])
        if found:
            return found
    return language_of_text(*texts)


def page_language(request: Any, ticket_language_code: str) -> str:
    """The language of a customer's page: the one they chose with the
    page's switcher (Django's language cookie, set by ``set_language``)
    on this browser, else the ticket's."""
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    return chosen or customer_language(ticket_language_code)


def html_lang(code: str) -> str:
    """A language code as HTML's ``lang`` writes it (BCP 47): ``zh-Hans``,
    ``en``."""
    return translation.to_locale(code).replace("_", "-")
