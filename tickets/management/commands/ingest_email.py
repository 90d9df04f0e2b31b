"""Email in without the gateway: one message from standard input (what a
Postfix ``pipe`` transport runs), or every new message of a Maildir.

Exit status 0 when every message was recorded, whatever became of it
(a refused one too: the mail server must not bounce it back); 75
(EX_TEMPFAIL) when one failed, so that the mail server delivers it again
(a Maildir's failed messages stay in ``new/`` for the next run).

Postfix, for instance (master.cf)::

    baton unix - n n - - pipe flags=Rq user=baton argv=/srv/baton/.venv/bin/python
      /srv/baton/manage.py ingest_email --envelope-from ${sender}
      --envelope-to ${recipient}
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.mail import inbound

EX_TEMPFAIL = 75
CHUNK = 1024 * 1024


def read_limited(stream: IO[bytes], limit: int) -> tuple[bytes, int]:
    """At most ``limit + 1`` bytes of ``stream`` (enough to know it is too
    large), and its whole size: the rest is read and dropped, so that the
    writer (the mail server's pipe) never sees its message cut off."""
    data = stream.read(limit + 1)
    size = len(data)
    while chunk := stream.read(CHUNK):
        size += len(chunk)
    return data, size


class Command(BaseCommand):
    help = (
        "Receive one email message from standard input (or each new message "
        "of a Maildir) into Baton."
    )
    # call_command(..., stdin=<binary stream>) in tests.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--maildir",
            default="",
            help="Receive every message in this Maildir's new/ (moved to cur/).",
        )
        parser.add_argument(
            "--envelope-from",
            default=None,
            help="The SMTP envelope sender (empty for a delivery report).",
        )
        parser.add_argument(
            "--envelope-to",
            nargs="*",
            default=[],
            help="The SMTP envelope recipients.",
        )

    def handle(
        self,
        *args: Any,
        maildir: str,
        envelope_from: str | None,
        envelope_to: list[str],
        **options: Any,
    ) -> None:
        def take(stream: IO[bytes], source: str) -> bool:
            """Receive one message; whether it was recorded for good."""
            raw, size = read_limited(stream, settings.BATON_MAIL_MAX_BYTES)
            record = inbound.receive(
                raw,
                envelope_from=envelope_from,
                envelope_to=envelope_to,
                source=source,
                size=size,
            )
            ticket = f" (ticket {record.ticket_id})" if record.ticket_id else ""
            self.stdout.write(f"{record.message_id}: {record.outcome}{ticket}")
            return record.outcome not in inbound.UNFINISHED

        failed = 0
        if maildir:
            for path in sorted((Path(maildir) / "new").iterdir()):
                if not path.is_file() or path.name.startswith("."):
                    continue
                with path.open("rb") as file:
                    done = take(file, "maildir")
                if not done:
                    failed += 1  # stays in new/ for the next run
                    continue
                name = path.name if ":" in path.name else f"{path.name}:2,"
                os.replace(path, Path(maildir) / "cur" / name)
        elif not take(options.get("stdin") or sys.stdin.buffer, "stdin"):
            failed += 1
        if failed:
            raise CommandError(
                f"{failed} message(s) could not be processed; try again later.",
                returncode=EX_TEMPFAIL,
            )
