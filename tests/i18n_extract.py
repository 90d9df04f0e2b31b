"""What Baton asks to be translated, and what it shows untranslated:
pure-Python readers of our sources (no GNU gettext needed).

* :func:`python_messages`: the string arguments of ``_``, ``gettext``,
  ``gettext_lazy``, ``pgettext(_lazy)``, ``ngettext(_lazy)`` and
  ``npgettext(_lazy)`` calls (what ``makemessages`` extracts), via ``ast``;
* :func:`template_messages`: the ``{% translate %}`` and
  ``{% blocktranslate %}`` messages of a template, from Django's compiled
  nodes (the msgid Django looks up when rendering);
* :func:`unmarked_text`: the human text of a template that no translate
  tag covers: text nodes (tags, comments, entities, scripts and styles
  removed) and human attributes (``title``, ``alt``, ``placeholder``,
  ``aria-label``, a button's ``value``).
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.template import Template
from django.template.base import Node, NodeList, TextNode, Variable
from django.template.engine import Engine
from django.templatetags.i18n import BlockTranslateNode, TranslateNode

ROOT = Path(__file__).resolve().parents[1]
APPS = ("tickets", "sla", "departments", "config")
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

#: Calls whose string arguments are messages: name -> (context index or
#: None, singular index, plural index or None), as makemessages' keywords.
KEYWORDS: dict[str, tuple[int | None, int, int | None]] = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None
    context: str | None
    where: str

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def source_files(suffixes: tuple[str, ...]) -> Iterator[Path]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if path.suffix in suffixes and path.is_file():
                yield path


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names of the translation functions (``gettext_noop as
    _noop``), so that aliased calls count too. (makemessages' xgettext
    knows only the keyword names: an alias other than ``_`` hides the
    messages from it, and the catalogue test then names them.)"""
    names = {keyword: keyword for keyword in KEYWORDS}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "django.utils.translation"
        ):
            for alias in node.names:
                if alias.name in KEYWORDS and alias.asname:
                    names[alias.asname] = alias.name
    return names


def python_messages(path: Path) -> list[Message]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = _aliases(tree)
    found: list[Message] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        name = names.get(called or "")
        if name is None:
            continue
        context_at, singular_at, plural_at = KEYWORDS[name]

        def constant(index: int | None, node: ast.Call = node) -> str | None:
            if index is None or index >= len(node.args):
                return None
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                return arg.value
            return None

        msgid = constant(singular_at)
        if msgid is None:
            continue  # a variable: nothing to extract
        found.append(
            Message(
                msgid=msgid,
                plural=constant(plural_at),
                context=constant(context_at),
                where=f"{path.relative_to(ROOT)}:{node.lineno}",
            )
        )
    return found


def compile_template(path: Path) -> Template:
    engine = Engine.get_default()
    return Template(path.read_text(encoding="utf-8"), engine=engine, name=str(path))


def walk(nodelist: NodeList) -> Iterator[Node]:
    """Every node, depth first, into every child nodelist (block, if,
    for, with, autoescape, blocktranslate's none)."""
    for node in nodelist:
        yield node
        for child in _children(node):
            yield from walk(child)


def _children(node: Node) -> Iterator[NodeList]:
    seen: set[int] = set()
    for value in vars(node).values():
        # (A NodeList is a list itself: test for it first.)
        candidates = (
            [value]
            if isinstance(value, NodeList)
            else value
            if isinstance(value, list | tuple)
            else [value]
        )
        for item in candidates:
            pair = item if isinstance(item, tuple) else (item,)
            for element in pair:
                if isinstance(element, NodeList) and id(element) not in seen:
                    seen.add(id(element))
                    yield element


def _literal(value: object) -> str | None:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Variable) and isinstance(value.literal, str):
        return str(value.literal)
    return None


def template_messages(path: Path) -> list[Message]:
    template = compile_template(path)
    where = str(path.relative_to(ROOT))
    found: list[Message] = []
    for node in walk(template.nodelist):
        if isinstance(node, TranslateNode):
            msgid = _literal(node.filter_expression.var)
            if msgid is None or node.noop:
                continue
            context = (
                _literal(node.message_context.var) if node.message_context else None
            )
            found.append(Message(msgid, None, context, where))
        elif isinstance(node, BlockTranslateNode):
            singular, _vars = node.render_token_list(node.singular)
            plural = (
                node.render_token_list(node.plural)[0]
                if node.plural and node.countervar
                else None
            )
            context = (
                _literal(node.message_context.var) if node.message_context else None
            )
            found.append(Message(singular, plural, context, where))
    return found


# -- unmarked text -------------------------------------------------------------

#: Stands for whatever a template tag or variable puts in the text.
HOLE = "\x00"
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^<>]*>", re.S)
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z][a-z0-9]*);", re.I)
_HUMAN_ATTRIBUTE = re.compile(
    r"""\b(title|alt|placeholder|aria-label|aria-description|label)\s*=\s*
        (?:"([^"]*)"|'([^']*)')""",
    re.X | re.I,
)
_BUTTON_VALUE = re.compile(
    r"""<input\b[^>]*\btype\s*=\s*["']?(?:submit|button|reset)["']?[^>]*>""", re.I
)
_VALUE = re.compile(r"""\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def flatten(nodelist: NodeList) -> str:
    """The template as text: text nodes as written, every other node a
    hole, child nodelists inlined where they sit (so a tag split by
    ``{% if %}`` is still one tag)."""
    parts: list[str] = []
    for node in nodelist:
        if isinstance(node, TextNode):
            parts.append(node.s)
            continue
        parts.append(HOLE)
        if isinstance(node, TranslateNode | BlockTranslateNode):
            continue
        for child in _children(node):
            parts.append(flatten(child))
            parts.append(HOLE)
    return "".join(parts)


def has_letters(text: str) -> bool:
    return bool(_LETTERS.search(text.replace(HOLE, " ")))


def _shown(text: str) -> str:
    return " ".join(text.replace(HOLE, "…").split())


def unmarked_text(path: Path) -> list[str]:
    """The pieces of ``path`` a reader sees that no translate tag covers."""
    source = flatten(compile_template(path).nodelist)
    source = _COMMENT.sub(" ", _SCRIPT.sub(" ", source))
    problems: list[str] = []
    for tag in _TAG.findall(source):
        for match in _HUMAN_ATTRIBUTE.finditer(tag):
            value = html.unescape(match.group(2) or match.group(3) or "")
            if has_letters(value):
                problems.append(f"{match.group(1)}={_shown(value)!r}")
    for tag in _BUTTON_VALUE.findall(source):
        for match in _VALUE.finditer(tag):
            value = html.unescape(match.group(1) or match.group(2) or "")
            if has_letters(value):
                problems.append(f"value={_shown(value)!r}")
    # Each run of text between two tags is one piece.
    text = _ENTITY.sub(" ", _TAG.sub("\x01", source))
    if path.suffix == ".txt":  # plain text has no tags: each line is a piece
        text = text.replace("\n", "\x01")
    for piece in text.split("\x01"):
        if has_letters(piece):
            problems.append(_shown(piece.strip(HOLE + " \t\n")))
    return problems
