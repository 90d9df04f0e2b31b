"""The mail gateway: an SMTP server (aiosmtpd) that the mail server (MTA)
relays Baton's mail to. Each message goes to ``tickets.mail.inbound.receive``
in a worker thread, and the answer says what became of it:

* ``250`` it was recorded (a ticket, a reply, or a recorded refusal: an
  automatic reply or a bounce must not bounce back to its sender);
* ``552 5.3.4`` it is larger than ``BATON_MAIL_MAX_BYTES`` (recorded too);
* ``451 4.3.0`` processing failed: the MTA keeps it and tries again later
  (the ticket commands run at most once per message, so that is safe);
* ``550 5.7.1`` at ``RCPT``: a recipient outside ``BATON_MAIL_DOMAIN``
  (the gateway relays nothing anywhere).

``manage.py run_mail_gateway`` runs it; tests start :class:`Gateway` on a
free port in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email.utils import parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections, connections

from tickets.mail import inbound, threading
from tickets.models import InboundEmail

logger = logging.getLogger(__name__)

Outcome = InboundEmail.Outcome

#: Bytes the SMTP server reads beyond BATON_MAIL_MAX_BYTES, so that a
#: message somewhat too large is still read and recorded with its headers.
#: Past that the server stops keeping the data; the message is refused and
#: recorded from its envelope alone.
HEADROOM = 1024 * 1024

ACCEPTED = "250 2.0.0 Accepted: {outcome}"
TOO_BIG = "552 5.3.4 Message too big"
TRY_AGAIN = "451 4.3.0 Temporary failure, please try again later"
NOT_OURS = "550 5.7.1 Relaying denied: {address} is not a local address"


def is_local(address: str) -> bool:
    """Whether ``address`` is in Baton's mail domain."""
    domain = parseaddr(address)[1].rpartition("@")[2].lower()
    return bool(domain) and domain == threading.mail_domain().lower()


def _recorded(record: Callable[..., InboundEmail], /, **kwargs: Any) -> InboundEmail:
    """``record(**kwargs)`` (an ``inbound`` function) in a worker thread.
    The thread's database connections are closed after each message: the
    pool's threads come and go, and a connection left in one would stay
    open, idle, unseen."""
    close_old_connections()
    try:
        return record(source="smtp", **kwargs)
    finally:
        connections.close_all()


class InboundHandler:
    """The aiosmtpd handler: local recipients only; each message to
    ``inbound.receive``."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not is_local(address):
            return NOT_OURS.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        try:
            record = await asyncio.to_thread(
                _recorded,
                inbound.receive,
                raw=raw,
                envelope_from=envelope.mail_from or "",
                envelope_to=list(envelope.rcpt_tos),
            )
        except Exception:
            logger.exception("The mail gateway could not record a message")
            return TRY_AGAIN
        return reply_for(record)

    async def record_unread(self, envelope: Envelope, size: int | None) -> None:
        """Record a message the SMTP server refused before it had read it
        whole: larger than its data limit (``size``: more than that), or
        else with a line too long for SMTP. Only its envelope is known."""
        try:
            await asyncio.to_thread(
                _recorded,
                inbound.record_unread,
                envelope_from=envelope.mail_from or "",
                envelope_to=list(envelope.rcpt_tos),
                size=size,
            )
        except Exception:
            logger.exception("The mail gateway could not record a refused message")


def reply_for(record: InboundEmail) -> str:
    """The SMTP reply that says what became of a recorded message."""
    if record.outcome == Outcome.TOO_LARGE:
        return TOO_BIG
    if record.outcome in inbound.UNFINISHED:
        return TRY_AGAIN
    return ACCEPTED.format(outcome=record.outcome)


class GatewaySMTP(SMTP):
    """aiosmtpd's SMTP server, which also records the messages it refuses
    unread (past its data limit, or with a line longer than SMTP allows):
    it drops those without calling the handler."""

    last_reply = ""

    async def push(self, status: Any) -> None:
        self.last_reply = status if isinstance(status, str) else status.decode()
        await super().push(status)

    async def smtp_DATA(self, arg: str) -> None:
        envelope = self.envelope
        await super().smtp_DATA(arg)
        refused_unread = (
            envelope is not None
            and self.envelope is not envelope  # the transaction is over
            and envelope.content is None  # ... without the handler
            and self.last_reply[:3] in ("500", "552")
        )
        if refused_unread and isinstance(self.event_handler, InboundHandler):
            assert envelope is not None
            too_large = self.last_reply.startswith("552")
            await self.event_handler.record_unread(
                envelope, (self.data_size_limit or 0) + 1 if too_large else None
            )


class Gateway(Controller):
    """The SMTP server in a thread of its own. ``port=0`` picks a free
    port; ``self.port`` is the one it listens on once started."""

    def __init__(self, *, host: str, port: int, **kwargs: Any) -> None:
        kwargs.setdefault("server_hostname", threading.mail_domain())
        kwargs.setdefault("data_size_limit", settings.BATON_MAIL_MAX_BYTES + HEADROOM)
        super().__init__(InboundHandler(), hostname=host, port=port, **kwargs)

    def factory(self) -> SMTP:
        return GatewaySMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # Learn the port the system picked before connecting to it.
        server = self.server
        if self.port == 0 and isinstance(server, asyncio.Server) and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]

    @property
    def url(self) -> str:
        return f"smtp://{self.hostname}:{self.port}"
