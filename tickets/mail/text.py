"""Reading a received message: its headers, its text (the plain-text
body, or the HTML one made readable), its attached files, and a reply's
own words without the history it quotes. The standard library's email
parser and ``html.parser`` do the reading.
"""

from __future__ import annotations

import contextlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser

from tickets.domain import CONTROL_CHARACTERS

#: Elements whose content is never text a person wrote.
_SKIPPED = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "svg", "object"}
)
#: Elements that stand on lines of their own.
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "div",
        "dl",
        "dt",
        "dd",
        "fieldset",
        "figure",
        "footer",
        "form",
        "header",
        "hr",
        "main",
        "nav",
        "ol",
        "section",
        "table",
        "tr",
        "ul",
    }
)
#: Blocks set off by a blank line.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _TextWriter(HTMLParser):
    """Collects the text of an HTML document as lines: paragraphs apart,
    ``<br>`` as a line break, list items as ``- ``, links as
    ``text (url)``, quotes (``<blockquote>``) prefixed with ``> ``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line = ""
        self.skipping: list[str] = []
        self.pre = 0
        self.quote = 0
        self.links: list[tuple[str, int]] = []
        self.cells = 0

    # -- output ---------------------------------------------------------------

    def _break(self, blank: bool = False) -> None:
        text = self.line.rstrip()
        if text:
            self.lines.append(("> " * self.quote) + text)
        self.line = ""
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _write(self, text: str) -> None:
        if not self.pre:
            text = _SPACES.sub(" ", text)
            if not self.line:
                text = text.lstrip()
            elif self.line.endswith(" ") and text.startswith(" "):
                text = text[1:]
        if self.pre and "\n" in text:
            first, *rest = text.split("\n")
            self.line += first
            for part in rest:
                self._break()
                self.line = part
            return
        self.line += text

    # -- parsing ----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _SKIPPED:
            self.skipping.append(tag)
            return
        if tag == "br":
            self._break()
        elif tag in _PARAGRAPHS:
            self._break(blank=True)
            if tag == "pre":
                self.pre += 1
            elif tag == "blockquote":
                self.quote += 1
        elif tag in _BLOCKS:
            self._break()
            if tag == "tr":
                self.cells = 0
        elif tag == "li":
            self._break()
            self.line = "- "
        elif tag in ("td", "th"):
            if self.cells:
                self._write(" ")
            self.cells += 1
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.links.append((href, len(self.line)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self._write(alt)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in _PARAGRAPHS:
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
            self._break(blank=True)
            if tag == "blockquote":
                self.quote = max(self.quote - 1, 0)
        elif tag in _BLOCKS or tag == "li":
            self._break()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = self.line[start:].strip()
            if _shown_link(href) and href not in (label, f"mailto:{label}"):
                self._write(f" ({href})" if label else href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self._write(data)

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines).strip("\n")


def _shown_link(href: str) -> bool:
    return href.lower().startswith(("http://", "https://", "mailto:"))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML message: paragraphs separated by a
    blank line, line breaks kept, list items as ``- item``, links as
    ``text (url)``, quoted parts as ``> ``; scripts, styles and the
    document head left out."""
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    return writer.text()


#: Lines from which on a reply quotes earlier mail: "On <date>, <someone>
#: wrote:" (Gmail, Apple Mail, Thunderbird; in a few languages), Outlook's
#: "-----Original Message-----" or its "From:" block under a rule.
_QUOTE_MARKERS = (
    re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(forwarded|reply) message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*on\b.*\bwrote\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*am\b.*\bschrieb\b.*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*le\b.*\ba écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*el\b.*\bescribió\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*在.*写道\s*[:\uff1a]\s*$"),  # full-width colon too
)
#: "On <date>, <someone>" wrapped before "wrote:" (a date has digits).
_WRAPPED_ON = re.compile(r"^\s*on\b.*\d", re.IGNORECASE)
_WRAPPED_WROTE = re.compile(r"^.*\bwrote\s*:\s*$", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """A reply's own text: lines quoting earlier mail (``>``) dropped, and
    everything from a "... wrote:" or "Original Message" line on cut off.
    When that would leave nothing, the whole text is kept."""
    lines = text.splitlines()
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if any(marker.match(line) for marker in _QUOTE_MARKERS) or (
            _WRAPPED_ON.match(line) and _WRAPPED_WROTE.match(following)
        ):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    own = "\n".join(kept).strip()
    return own or text.strip()


# -- the message --------------------------------------------------------------


@dataclass
class File:
    """One attached file of a message."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class Content:
    """What a person wrote: the text (plain, or converted from HTML), and
    the attached files."""

    text: str = ""
    from_html: bool = False
    files: list[File] = field(default_factory=list)


def parse(raw: bytes, *, headers_only: bool = False) -> EmailMessage:
    """The message in ``raw`` (RFC 5322). The parser refuses nothing: what
    it cannot make sense of shows as missing headers or parts; a structure
    it cannot take apart (nested past Python's recursion limit) is read
    for its headers only."""
    parser = BytesParser(_class=EmailMessage, policy=policy.default)
    try:
        message: EmailMessage = parser.parsebytes(raw, headersonly=headers_only)
    except Exception:
        if headers_only:
            return EmailMessage()
        return parse(raw, headers_only=True)
    return message


def header(message: Message, name: str) -> str:
    """The decoded value of a header ("" when missing); a value the
    parser cannot decode is read as it came."""
    try:
        value = message.get(name)
        return clean(str(value)) if value is not None else ""
    except Exception:  # a malformed header the parser trips over
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return clean(str(raw))
        return ""


def headers(message: Message, name: str) -> list[str]:
    try:
        return [clean(str(v)) for v in message.get_all(name) or ()]
    except Exception:
        return [
            clean(str(raw))
            for key, raw in message.raw_items()
            if key.lower() == name.lower()
        ]


def clean(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text).strip()


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def sender_of(message: Message) -> tuple[str, str]:
    """The sender's (name, address) from ``From``; the address lowercased
    ("" when there is no usable address)."""
    name, address = parseaddr(header(message, "From"))
    address = address.strip().lower()
    if "@" not in address or " " in address:
        return one_line(name), ""
    return one_line(name), address


def _text_of(part: Message) -> str:
    with contextlib.suppress(Exception):  # an unknown charset, a bad encoding
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def read(message: EmailMessage) -> Content:
    """The message's text (its ``text/plain`` body, else its HTML body as
    readable text) and its attached files (not the inline images of an
    HTML body, not the other version of the body)."""
    content = Content()
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        text = _text_of(body)
        if body.get_content_type() == "text/html":
            text = html_to_text(text)
            content.from_html = True
        content.text = _clean_text(text)
    _collect_files(message, body, content.files, in_related=False)
    return content


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CONTROL_CHARACTERS.sub("", text).strip()


def _collect_files(
    part: Message, body: Message | None, files: list[File], *, in_related: bool
) -> None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        data = inner.as_bytes() if isinstance(inner, Message) else b""
        files.append(File(part.get_filename() or "message.eml", content_type, data))
        return
    if part.is_multipart():
        related = content_type == "multipart/related"
        for sub in part.get_payload():
            if isinstance(sub, Message):
                _collect_files(sub, body, files, in_related=related)
        return
    if part is body:
        return
    disposition = part.get_content_disposition()
    filename = part.get_filename()
    if disposition != "attachment":
        if not filename and content_type in ("text/plain", "text/html"):
            return  # the body's other version
        if in_related and part.get("Content-ID"):
            return  # an image shown inside the HTML body
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        filename = f"attachment-{len(files) + 1}{extension}"
    files.append(File(filename, content_type, data))
