"""Everything a person reads is translatable, and translated into
Simplified Chinese.

* Every message our code and templates mark (``gettext`` and friends,
  ``{% translate %}``, ``{% blocktranslate %}``) under tickets/, sla/,
  departments/ and config/ has a non-empty, non-fuzzy entry in the
  ``zh_Hans`` catalogue (``locale/zh_Hans/LC_MESSAGES/django.po``).
  Regenerate it with ``makemessages`` (README: Languages) and translate
  what is new.
* The customer page, the emails and the admin pages Baton adds show no
  text that is not marked for translation (text nodes and human
  attributes), apart from the short allow-list below.

Pure Python: neither test needs GNU gettext.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

from tests.i18n_extract import (
    CATALOGUE,
    ROOT,
    Message,
    python_messages,
    source_files,
    template_messages,
    unmarked_text,
)

#: Templates whose every word must be marked: the customer page, the
#: emails (notifications, reports) and the admin pages Baton adds.
CHECKED = (
    "tickets/templates/tickets/customer*.html",
    "tickets/templates/tickets/mail/*",
    "sla/templates/sla/*",
    "*/templates/admin/**/*.html",
    "config/templates/admin/*.html",
)

#: Text that stays as written, with the reason. Each is a regular
#: expression matched against a whole piece of unmarked text.
ALLOWED: dict[str, str] = {
    # The product's name, like a trademark, is the same in every language.
    r"Baton": "brand name",
    # The mail renderer reads a text template's first line as the subject
    # and removes this marker (tickets.mail.render.render); never shown.
    r"Subject:": "email subject marker, removed before sending",
    # A command to type as written (shown in <code>).
    r"manage\.py [a-z_]+( --[a-z-]+)*": "command line",
}


def checked_templates() -> list[Path]:
    found: set[Path] = set()
    for pattern in CHECKED:
        found.update(p for p in ROOT.glob(pattern) if p.is_file())
    return sorted(found)


def marked_messages() -> list[Message]:
    messages: list[Message] = []
    for path in source_files((".py",)):
        if "migrations" in path.parts:
            continue
        messages += python_messages(path)
    for path in source_files((".html", ".txt")):
        if "templates" in path.parts:
            messages += template_messages(path)
    return messages


def test_the_extractor_sees_python_and_template_messages() -> None:
    """The reader is not vacuous: it finds messages we know are there, with
    their plural and context."""
    messages = {m.key: m for m in marked_messages()}
    assert (None, "We received your request: %(ticket_subject)s") in messages
    assert (None, "Too many failed logins") in messages
    assert ("email date and time", "D j M Y H:i") in messages
    assert len(messages) > 100


def test_every_marked_message_has_a_chinese_translation() -> None:
    catalogue = polib.pofile(str(CATALOGUE), encoding="utf-8")
    entries = {(e.msgctxt, e.msgid): e for e in catalogue if not e.obsolete}
    missing: dict[tuple[str | None, str], str] = {}
    for message in marked_messages():
        entry = entries.get(message.key)
        translated = (
            entry is not None
            and "fuzzy" not in entry.flags
            and (
                all(entry.msgstr_plural.values())
                if entry.msgid_plural
                else bool(entry.msgstr.strip())
            )
        )
        if not translated:
            missing.setdefault(message.key, message.where)
    listed = "\n".join(
        f"  {where}: {msgid!r}" + (f" (context {context!r})" if context else "")
        for (context, msgid), where in sorted(missing.items(), key=lambda i: i[1])
    )
    assert not missing, (
        f"{len(missing)} message(s) have no Chinese translation in "
        f"{CATALOGUE.relative_to(ROOT)} (run makemessages, then translate):\n{listed}"
    )


def test_the_catalogue_has_no_fuzzy_entries_and_keeps_placeholders() -> None:
    catalogue = polib.pofile(str(CATALOGUE), encoding="utf-8")
    placeholder = re.compile(r"%\((\w+)\)[sd]|%[sd]|\{\w+\}")
    wrong = []
    for entry in catalogue:
        if entry.obsolete or not entry.msgid:
            continue
        if "fuzzy" in entry.flags:
            wrong.append(f"fuzzy: {entry.msgid!r}")
        wanted = sorted(placeholder.findall(entry.msgid))
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            if text and sorted(placeholder.findall(text)) != wanted:
                wrong.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    assert catalogue.metadata.get("Plural-Forms", "").startswith("nplurals=1;")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "path", checked_templates(), ids=lambda p: str(p.relative_to(ROOT))
)
def test_templates_show_no_text_unmarked_for_translation(path: Path) -> None:
    pieces = [
        piece
        for piece in unmarked_text(path)
        if not any(re.fullmatch(allowed, piece) for allowed in ALLOWED)
    ]
    assert not pieces, (
        f"{path.relative_to(ROOT)} shows text not marked for translation "
        "(wrap it in {% translate %} or {% blocktranslate %}):\n"
        + "\n".join(f"  {piece!r}" for piece in pieces)
    )


def test_the_unmarked_text_check_catches_text_and_attributes(tmp_path: Path) -> None:
    """The check itself: plain text, a title and a button's value are
    caught, even inside blocks and conditions; marked text, tags,
    comments, scripts and entities are not."""
    sample = tmp_path / "probe.html"
    sample.write_text(
        '{% load i18n %}{% if x %}<p title="Hover text">Unmarked words</p>'
        "{% endif %}<!-- a comment --><script>var a = 'code';</script>"
        '<p>{% translate "Marked" %} &nbsp; 12:30 — {{ value }}</p>'
        '<input type="submit" value="Send">'
        "{% block b %}<span aria-label='{% translate \"Fine\" %}'>x</span>"
        "{% endblock %}",
        encoding="utf-8",
    )
    pieces = unmarked_text(sample)
    assert pieces == [
        "title='Hover text'",
        "value='Send'",
        "Unmarked words",
        "x",
    ]
