"""Build the message catalogues (``.mo``) from their sources (``.po``),
with no GNU gettext: ``python -m config.compile_messages``.

Every ``locale/<language>/LC_MESSAGES/*.po`` under the project (or the
directories given on the command line) is compiled next to itself when
its ``.mo`` is missing or older. Fuzzy and untranslated entries are left
out, as ``msgfmt`` does. Each file is written to a temporary name and
moved into place, so concurrent runs (test workers) never read half a
file. ``make install`` and the test suite run it; the ``.mo`` files are
not committed.

Regenerating the ``.po`` from the code (``manage.py makemessages``) needs
GNU gettext's ``xgettext``; building does not.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

#: The project's catalogues (settings.LOCALE_PATHS).
DEFAULT_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def sources(locale_dirs: Iterable[Path]) -> list[Path]:
    """Every ``.po`` file under ``<dir>/<language>/LC_MESSAGES/``."""
    found: list[Path] = []
    for directory in locale_dirs:
        found.extend(sorted(Path(directory).glob("*/LC_MESSAGES/*.po")))
    return found


def is_stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    try:
        return mo.stat().st_mtime < po.stat().st_mtime
    except FileNotFoundError:
        return True


def compile_file(po: Path) -> Path:
    """Compile ``po`` to the ``.mo`` beside it (atomically); returns it."""
    import polib

    mo = po.with_suffix(".mo")
    catalogue = polib.pofile(str(po), encoding="utf-8")
    handle, temporary = tempfile.mkstemp(
        dir=str(mo.parent), prefix=f".{mo.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        catalogue.save_as_mofile(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return mo


def compile_all(
    locale_dirs: Iterable[Path] = (DEFAULT_LOCALE_DIR,), *, force: bool = False
) -> list[Path]:
    """Compile every stale (or, with ``force``, every) catalogue; returns
    the ``.mo`` files written."""
    return [compile_file(po) for po in sources(locale_dirs) if force or is_stale(po)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m config.compile_messages", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "locale_dirs",
        nargs="*",
        type=Path,
        default=[DEFAULT_LOCALE_DIR],
        help="locale directories (default: the project's locale/)",
    )
    parser.add_argument(
        "--force", action="store_true", help="compile even up-to-date catalogues"
    )
    options = parser.parse_args(argv)
    written = compile_all(options.locale_dirs, force=options.force)
    for mo in written:
        sys.stdout.write(f"compiled {mo}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
