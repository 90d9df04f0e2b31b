"""Email in: the one service that turns a received message into a ticket,
a reply, a reopen or a recorded refusal. The SMTP gateway
(``tickets.mail.gateway``) and ``manage.py ingest_email`` both call
:func:`receive`.

Every message is recorded as an ``InboundEmail`` row with what became of
it (its ``outcome``), and its raw bytes are kept in the ``attachments``
storage, also when it is refused: nothing that arrives is lost. What is
not a customer writing to us gets no ticket: a message that cannot be
read, one larger than ``BATON_MAIL_MAX_BYTES``, a delivery failure report
(bounce), an automatic reply (out of office, lists) and mail from
ourselves (a loop).

A new message opens a ticket on the front line (``BATON_MAIL_FRONT_LINE``,
by default the only one), channel ``email``, for the sender, at most
``BATON_MAIL_OPENS_PER_HOUR`` per sender address (past that it is
``refused``: no ticket, no acknowledgement). A reply is recorded as a
customer message on its ticket, which ends a wait; a reply to a resolved
ticket reopens it first; a reply to a closed ticket opens a follow-up
ticket (the same customer's, when they sent it). Who may reply:

* to the ticket's own reply address (a key only its customer was sent):
  anyone; the customer as the customer, anyone else under their own
  address (the ``detail`` says so);
* referring to one of the ticket's customer-facing Message-IDs only (its
  root, a notification to the customer, the customer's earlier mail):
  the ticket's customer (its contact address) alone. Message-IDs are no
  secret (everyone in ``Cc`` has them), so anyone else's such message is
  new mail and opens a ticket of its own;
* staff never post as the customer: mail from an active user's or a
  department's address (unless that is the ticket's customer), or any
  answer to a notification sent to staff, is recorded ``staff_reply``
  for its ticket and posted nowhere (staff answer in the admin).

Raw messages are deleted from storage after ``BATON_MAIL_RAW_DAYS``
(``housekeeping``); their records stay.

Exactly once: the same message delivered twice (same Message-ID, same
sender) is recorded once and stores one event. Each ticket command runs
under a command key derived from the Message-ID (the mechanism the API's
``Idempotency-Key`` uses), so a message whose processing died after its
event was stored (its row still says ``received`` or ``failed``) is run
again without storing the event twice.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage, Message
from email.utils import getaddresses
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from departments.models import Department
from departments.selectors import default_front_line
from tickets import attachments, clock, services
from tickets.application import CommandResult, command_key, get_tickets_application
from tickets.domain import (
    MAX_ATTACHMENTS,
    MAX_REASON,
    MAX_SHORT,
    MAX_SUBJECT,
    MAX_TEXT,
    ActorKind,
    Channel,
    ConcurrencyConflict,
    InvalidInput,
    Principal,
    Status,
    Ticket,
    TicketError,
    TicketNotFound,
)
from tickets.eventstore import CommandKey
from tickets.languages import language_of_email
from tickets.mail import render, threading
from tickets.mail.notifications import customer_address
from tickets.mail.screening import classify
from tickets.mail.text import (
    Content,
    File,
    header,
    headers,
    one_line,
    parse,
    read,
    sender_of,
    strip_quoted,
)
from tickets.models import Attachment, InboundEmail, MailThread

logger = logging.getLogger(__name__)

Outcome = InboundEmail.Outcome
#: Outcomes of a message whose processing did not finish: it runs again.
UNFINISHED = (Outcome.RECEIVED, Outcome.FAILED)
#: The domain of the Message-IDs made up for messages that have none.
SYNTHETIC_DOMAIN = "baton.invalid"
#: Tries of a command that lost a race with another change of its ticket.
CONFLICT_TRIES = 3
#: The namespace of ticket ids derived from Message-IDs.
TICKET_NAMESPACE = uuid.UUID("0c9f3e1c-7a51-4c43-9d0e-5b8a2f0e6d11")

SHORTENED = "[The message was shortened here: the whole email is kept with it.]"
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
REOPENED_BY_EMAIL = "The customer replied by email."


def email_principal(front_line: str) -> Principal:
    """Who opens the tickets that email brings: the email channel itself,
    acting for the front line."""
    return Principal(
        kind=ActorKind.SYSTEM,
        id="email",
        name="Email",
        short_name="Email",
        departments=(front_line,),
    )


def front_line_code() -> str:
    """The front-line department that opens email's tickets (its code):
    ``BATON_MAIL_FRONT_LINE``, or the only active front line. Raises
    ``InvalidInput`` (``front_line_ambiguous``) when there is none."""
    configured = (getattr(settings, "BATON_MAIL_FRONT_LINE", "") or "").strip()
    if configured:
        return configured.upper()
    department = default_front_line()
    if department is None:
        raise InvalidInput(
            "No front-line department receives email: set MAIL_FRONT_LINE.",
            field="department",
            code="front_line_ambiguous",
        )
    return department.code


def message_id_of(message: Message, digest: str) -> str:
    """The message's Message-ID (with brackets); one made up from the
    SHA-256 of its bytes when it has none (so that a second delivery of
    the same bytes is still the same message)."""
    value = header(message, "Message-ID")
    found = threading.message_ids(value)
    if found:
        message_id = found[0]
    elif value and " " not in value:
        message_id = f"<{value.strip('<>')}>"
    else:
        return f"<{digest}@{SYNTHETIC_DOMAIN}>"
    if len(message_id) > 255:
        hashed = hashlib.sha256(message_id.encode()).hexdigest()
        return f"<{hashed}@{SYNTHETIC_DOMAIN}>"
    return message_id


# ---------------------------------------------------------------------------
# Receiving
# ---------------------------------------------------------------------------


@dataclass
class Verdict:
    outcome: str
    detail: list[str] = field(default_factory=list)
    ticket_id: UUID | None = None


def receive(
    raw: bytes,
    *,
    envelope_from: str | None = None,
    envelope_to: Sequence[str] = (),
    source: str,
    size: int | None = None,
) -> InboundEmail:
    """Record one received message and act on it; returns its record.

    ``raw`` is the message as it arrived (RFC 5322 bytes), or, for a
    message larger than ``BATON_MAIL_MAX_BYTES``, at least its beginning
    (``size`` then says how large it was). ``envelope_from`` and
    ``envelope_to`` are the SMTP envelope (None: the sender is not known);
    ``source`` says which way it came (``smtp``, ``stdin``, ``maildir``).

    The record's ``outcome`` says what became of it. A message that was
    recorded before is not acted on again (its record is returned), unless
    its processing did not finish (``received``, ``failed``): it then runs
    again, and its ticket commands are not stored twice. A refusal by the
    ticket rules is ``refused`` (with its code in ``detail``); an
    unexpected error is ``failed`` (logged; the caller should answer with a
    temporary failure so the message comes again). Never raises for what
    the message contains."""
    size = len(raw) if size is None else size
    too_large = size > settings.BATON_MAIL_MAX_BYTES
    digest = hashlib.sha256(raw).hexdigest()
    message = parse(raw, headers_only=too_large)
    sender_name, sender = sender_of(message)
    record, run, note = _record(
        raw,
        message,
        digest=digest,
        keep_raw=not too_large,
        size=size,
        sender=sender,
        sender_name=sender_name,
        envelope_from=envelope_from,
        envelope_to=envelope_to,
    )
    if not run:
        logger.info("Inbound email %s again (%s)", record.message_id, record.outcome)
        return record
    if too_large:
        verdict = Verdict(
            Outcome.TOO_LARGE,
            [
                f"{size} bytes; the largest message accepted is "
                f"{settings.BATON_MAIL_MAX_BYTES} bytes. Only its headers were kept."
            ],
        )
    else:
        verdict = _verdict(record, message, envelope_from, envelope_to)
    record.outcome = verdict.outcome
    notes = [note, *verdict.detail] if note else verdict.detail
    record.detail = "\n".join([*notes, f"Received by {source}."])
    record.ticket_id = verdict.ticket_id or record.ticket_id
    record.save(update_fields=["outcome", "detail", "ticket_id"])
    logger.info(
        "Inbound email %s from %s: %s %s",
        record.message_id,
        record.sender,
        record.outcome,
        record.ticket_id or "",
    )
    return record


def record_unread(
    *,
    envelope_from: str | None,
    envelope_to: Sequence[str],
    size: int | None,
    source: str,
) -> InboundEmail:
    """Record a message the SMTP server refused before reading it whole:
    larger than it reads (``size``: more bytes than that; ``too_large``),
    or with a line longer than SMTP allows (``size`` None;
    ``unparseable``). Only its envelope is known, so it gets a Message-ID
    of its own."""
    if size is not None:
        outcome = Outcome.TOO_LARGE
        detail = (
            f"More than {size - 1} bytes; the largest message accepted is "
            f"{settings.BATON_MAIL_MAX_BYTES} bytes."
        )
    else:
        outcome = Outcome.UNPARSEABLE
        detail = "A line longer than SMTP allows (1000 characters)."
    return InboundEmail.objects.create(
        message_id=f"<{uuid.uuid4().hex}@{SYNTHETIC_DOMAIN}>",
        received_at=clock.now(),
        envelope_from=(envelope_from or "")[:320],
        envelope_to="\n".join(envelope_to),
        size=size or 0,
        outcome=outcome,
        detail=f"{detail} It was refused before its headers were read.\n"
        f"Received by {source}.",
    )


def _record(
    raw: bytes,
    message: EmailMessage,
    *,
    digest: str,
    keep_raw: bool,
    size: int,
    sender: str,
    sender_name: str,
    envelope_from: str | None,
    envelope_to: Sequence[str],
) -> tuple[InboundEmail, bool, str]:
    """The message's record, whether to act on it (a new one, created
    ``received``, or one recorded before whose processing did not finish),
    and a note about it. A Message-ID already taken by another sender's
    message does not make this one a duplicate: it is recorded under one
    made from its bytes."""
    message_id = message_id_of(message, digest)
    note = ""
    existing = InboundEmail.objects.filter(message_id=message_id).first()
    if existing is not None and existing.sender != sender:
        note = f"Its Message-ID {message_id} is also another sender's."
        message_id = f"<{digest}@{SYNTHETIC_DOMAIN}>"
        existing = InboundEmail.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, existing.outcome in UNFINISHED, note
    now = clock.now()
    raw_name = _keep(raw, digest, now.strftime("%Y/%m")) if keep_raw else ""
    try:
        with transaction.atomic():
            record = InboundEmail.objects.create(
                message_id=message_id,
                received_at=now,
                envelope_from=(envelope_from or "")[:320],
                envelope_to="\n".join(envelope_to),
                sender=sender[:320],
                sender_name=sender_name[:200],
                subject=one_line(header(message, "Subject"))[:300],
                size=size,
                raw_name=raw_name,
            )
    except IntegrityError:  # the same message, delivered at the same time
        record = InboundEmail.objects.get(message_id=message_id)
        return record, record.outcome in UNFINISHED, note
    return record, True, note


def _keep(raw: bytes, digest: str, month: str) -> str:
    """Keep the raw message in the attachments storage; its name."""
    name = f"mail/{month}/{digest}.eml"
    storage = attachments.storage()
    if storage.exists(name):
        return name
    return storage.save(name, ContentFile(raw))


def purge_raw(days: int | None = None) -> int:
    """Delete the raw messages received more than ``days`` days ago
    (``BATON_MAIL_RAW_DAYS``; 0: keep them for ever) from storage. Their
    records stay (sender, subject, outcome, ticket), with ``raw_name``
    cleared. Returns how many records lost their raw message."""
    if days is None:
        days = int(getattr(settings, "BATON_MAIL_RAW_DAYS", 90) or 0)
    if days <= 0:
        return 0
    old = InboundEmail.objects.filter(
        received_at__lt=clock.now() - timedelta(days=days)
    ).exclude(raw_name="")
    storage = attachments.storage()
    purged = 0
    for pk, name in old.values_list("pk", "raw_name").iterator():
        # The same bytes are kept once: a newer record may still need them.
        shared = InboundEmail.objects.filter(raw_name=name).exclude(
            pk__in=old.values("pk")
        )
        if not shared.exists():
            storage.delete(name)
        purged += InboundEmail.objects.filter(pk=pk, raw_name=name).update(raw_name="")
    return purged


def _verdict(
    record: InboundEmail,
    message: EmailMessage,
    envelope_from: str | None,
    envelope_to: Sequence[str],
) -> Verdict:
    try:
        content = read(message)
        refused = classify(message, content, envelope_from=envelope_from)
    except Exception as error:  # a structure the parser cannot take apart
        logger.warning("Inbound email %s unreadable", record.message_id, exc_info=True)
        return Verdict(
            Outcome.UNPARSEABLE, [f"It could not be read: {type(error).__name__}."]
        )
    if refused is not None:
        return Verdict(refused[0], [refused[1]])
    try:
        return _deliver(record, message, content, envelope_to)
    except ConcurrencyConflict as error:
        return Verdict(Outcome.FAILED, [f"{error.code}: {error.message}"])
    except TicketError as error:
        return Verdict(Outcome.REFUSED, [f"{error.code}: {error.message}"])
    except Exception as error:
        logger.exception("Inbound email %s failed", record.message_id)
        return Verdict(Outcome.FAILED, [f"{type(error).__name__}: {error}"])


# ---------------------------------------------------------------------------
# Into a ticket
# ---------------------------------------------------------------------------


def _recipients(message: EmailMessage, envelope_to: Sequence[str]) -> list[str]:
    values = [
        value
        for name in ("To", "Cc", "Delivered-To", "X-Original-To")
        for value in headers(message, name)
    ]
    return [*envelope_to, *(address for _, address in getaddresses(values))]


def _referenced(message: EmailMessage) -> list[str]:
    return [
        *threading.message_ids(header(message, "In-Reply-To")),
        *threading.message_ids(header(message, "References")),
    ]


def _ticket(ticket_id: UUID | None) -> Ticket | None:
    if ticket_id is None:
        return None
    try:
        return get_tickets_application().get_ticket(ticket_id)
    except TicketNotFound:
        return None


def is_customer(sender: str, ticket: Ticket) -> bool:
    """Whether ``sender`` (an address) is the ticket's customer: its
    contact, when that is an email address (case-insensitive)."""
    address = customer_address(ticket.customer_contact)
    return bool(sender) and address is not None and address.lower() == sender.lower()


def is_staff_address(address: str) -> bool:
    """Whether ``address`` is an active staff member's email or a
    department's shared mailbox (case-insensitive)."""
    if not address:
        return False
    return (
        get_user_model().objects.filter(is_active=True, email__iexact=address).exists()
        or Department.objects.filter(email__iexact=address).exists()
    )


def _deliver(
    record: InboundEmail,
    message: EmailMessage,
    content: Content,
    envelope_to: Sequence[str],
) -> Verdict:
    """A reply to its ticket, a follow-up of its closed ticket, a new
    ticket, or a reply from staff that is posted nowhere.

    The reply address (a key only the ticket's customer was sent) ties a
    message to its ticket from any sender, who is then named as its
    author. A Message-ID it refers to ties it only when it comes from the
    ticket's customer: anyone on the thread knows those (people in Cc,
    lists); from anyone else it is new mail. Staff (an active user's or a
    department's address, or an answer to a notification sent to staff)
    are never posted as the customer."""
    match = threading.match_reply(
        _recipients(message, envelope_to), _referenced(message), sender=record.sender
    )
    if match.staff_notification is not None:
        return _staff_reply(
            record,
            match.staff_notification,
            "it answers a notification sent to staff",
        )
    ticket = _ticket(match.by_key)
    by_key = ticket is not None
    if ticket is None:
        ticket = _ticket(match.by_message_id)
    notes: list[str] = []
    if ticket is not None:
        own = is_customer(record.sender, ticket)
        if not own and is_staff_address(record.sender):
            return _staff_reply(
                record, ticket.id, f"{record.sender} is a staff address"
            )
        if not own and not by_key:
            notes.append(
                f"It refers to messages of ticket {ticket.id}, but {record.sender} "
                "is not that ticket's customer and did not write to its reply "
                "address: opened as new mail."
            )
            ticket = None
    if ticket is None:
        return _open(record, message, content, notes=notes)
    if ticket.status == Status.CLOSED:
        return _open(record, message, content, follows=ticket)
    return _reply(record, ticket, content)


def _staff_reply(record: InboundEmail, ticket_id: UUID, reason: str) -> Verdict:
    return Verdict(
        Outcome.STAFF_REPLY,
        [
            f"Not posted to the ticket: {reason}, and a reply from staff is "
            "never posted as the customer's message. Answer the customer (or "
            f"add a note) in the admin: {render.staff_ticket_url(ticket_id)}"
        ],
        ticket_id=ticket_id,
    )


def opens_refused(record: InboundEmail) -> str:
    """Why the sender may not open another ticket by email now (more than
    ``BATON_MAIL_OPENS_PER_HOUR`` in the last hour; 0: no limit), or ""."""
    limit = int(getattr(settings, "BATON_MAIL_OPENS_PER_HOUR", 20) or 0)
    if limit <= 0:
        return ""
    opened = (
        InboundEmail.objects.filter(
            sender=record.sender,
            outcome__in=(Outcome.OPENED, Outcome.FOLLOW_UP),
            received_at__gt=clock.now() - timedelta(hours=1),
        )
        .exclude(pk=record.pk)
        .count()
    )
    if opened < limit:
        return ""
    return (
        f"Not opened: {record.sender} has opened {opened} tickets by email in "
        f"the last hour, the most allowed (BATON_MAIL_OPENS_PER_HOUR = {limit}). "
        "No ticket was opened and no acknowledgement sent; the message is kept."
    )


def _open(
    record: InboundEmail,
    message: EmailMessage,
    content: Content,
    *,
    follows: Ticket | None = None,
    notes: Iterable[str] = (),
) -> Verdict:
    principal = email_principal(front_line_code())
    subject = one_line(header(message, "Subject"))[:MAX_SUBJECT] or NO_SUBJECT
    step = "open" if follows is None else "follow_up"
    ticket_id = uuid.uuid5(TICKET_NAMESPACE, f"{record.message_id}\0{step}")
    verdict = Verdict(Outcome.OPENED if follows is None else Outcome.FOLLOW_UP)
    verdict.detail.extend(notes)
    if _ticket(ticket_id) is None:  # not a message whose ticket was opened
        refused = opens_refused(record)
        if refused:
            verdict.outcome = Outcome.REFUSED
            verdict.detail.append(refused)
            return verdict
    lead = ""
    # The sender is the customer; the follow-up of their own ticket keeps
    # its customer (reference, name, contact and timezone).
    ref, name, contact = record.sender, record.sender_name, record.sender
    timezone = "UTC"
    # Content-Language on the message, else on its first part that has one.
    tags = [header(part, "Content-Language") for part in message.walk()]
    language = language_of_email(next(filter(None, tags), ""), subject, content.text)
    if follows is not None:
        lead = f'Follow-up of the closed ticket "{follows.subject}" ({follows.id}).'
        if is_customer(record.sender, follows):
            ref, name = follows.customer_ref, follows.customer_name
            contact, timezone = follows.customer_contact, follows.customer_timezone
            language = follows.language or language
        else:
            verdict.detail.append(
                f"Sent by {record.sender}, not the closed ticket's customer "
                f"({follows.customer_contact or follows.customer_ref}): the "
                "follow-up is the sender's."
            )
    if content.from_html:
        verdict.detail.append("The message had only HTML: its text was extracted.")

    def run(ids: list[UUID], text: str) -> CommandResult:
        return services.ticket_open(
            principal=principal,
            department=principal.departments[0],
            ticket_id=ticket_id,
            subject=subject,
            description=text,
            customer_ref=ref[:MAX_SHORT],
            customer_name=name[:MAX_SHORT],
            customer_contact=contact[:MAX_SHORT],
            customer_timezone=timezone,
            channel=Channel.EMAIL,
            attachments=ids,
            language=language,
        )

    # The mail thread first, so that every email about the ticket (the
    # acknowledgement too, sent as soon as it is opened) threads under the
    # customer's own message (when it had a Message-ID of its own).
    root = record.message_id
    if root.endswith(f"@{SYNTHETIC_DOMAIN}>"):
        root = ""
    new_thread = not MailThread.objects.filter(ticket_id=ticket_id).exists()
    threading.thread_for(ticket_id, root_message_id=root)
    try:
        result = _with_files(
            record,
            step,
            content,
            attachments.uploader_key(principal, None),
            run,
            lead=lead,
            verdict=verdict,
        )
    except TicketError:
        if new_thread:  # refused: no ticket has this thread
            MailThread.objects.filter(ticket_id=ticket_id).delete()
        raise
    verdict.ticket_id = result.ticket_id
    return verdict


def _reply(record: InboundEmail, ticket: Ticket, content: Content) -> Verdict:
    """The message as the ticket's customer's (from its customer), or as
    its sender's (anyone else who wrote to the ticket's reply address)."""
    verdict = Verdict(Outcome.REPLIED, ticket_id=ticket.id)
    if is_customer(record.sender, ticket):
        customer = services.principal_for_customer(
            customer_ref=ticket.customer_ref, name=ticket.customer_name
        )
    else:
        customer = services.principal_for_customer(
            customer_ref=record.sender[:MAX_SHORT],
            name=(record.sender_name or record.sender)[:MAX_SHORT],
        )
        verdict.detail.append(
            f"Sent by {record.sender} to the ticket's reply address, not by its "
            f"customer ({ticket.customer_contact or ticket.customer_ref}): "
            f"posted as {record.sender}'s message, not the customer's."
        )
    text = strip_quoted(content.text)
    if ticket.status == Status.RESOLVED:
        reason = _shorten(text or REOPENED_BY_EMAIL, MAX_REASON)
        _keyed(
            record,
            "reopen",
            lambda: services.ticket_command(
                "reopen", principal=customer, ticket_id=ticket.id, reason=reason
            ),
        )
        verdict.outcome = Outcome.REOPENED

    def run(ids: list[UUID], body: str) -> CommandResult:
        return services.ticket_command(
            "customer_reply",
            principal=customer,
            ticket_id=ticket.id,
            body=body or NO_TEXT,
            attachments=ids,
        )

    _with_files(
        record,
        "reply",
        Content(text=text, from_html=content.from_html, files=content.files),
        attachments.uploader_key(customer, ticket.id),
        run,
        verdict=verdict,
    )
    return verdict


def command_key_for(message_id: str, step: str) -> CommandKey:
    """The command key of one step (``open``, ``reopen``, ``reply``,
    ``follow_up``) of acting on a message: the same for every delivery of
    it, so a step that was stored is answered from its receipt."""
    name = f"email\0{message_id}\0{step}"
    digest = hashlib.sha256(name.encode()).hexdigest()
    return CommandKey(id=f"email:{digest}", fingerprint=digest)


def _keyed(
    record: InboundEmail, step: str, command: Callable[[], CommandResult]
) -> CommandResult:
    """Run ``command`` at most once for this message's ``step``; a race
    lost to another change of the ticket is tried again (with a fresh key
    scope: a failed save uses its scope up)."""
    for attempt in range(CONFLICT_TRIES):
        try:
            with command_key(command_key_for(record.message_id, step)):
                return command()
        except ConcurrencyConflict:
            if attempt + 1 == CONFLICT_TRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _with_files(
    record: InboundEmail,
    step: str,
    content: Content,
    uploader: str,
    run: Callable[[list[UUID], str], CommandResult],
    *,
    verdict: Verdict,
    lead: str = "",
) -> CommandResult:
    """Store the message's files as ``uploader``'s pending uploads and run
    the step with them and the text. A file that is refused (its type, its
    size, one too many) is left out and named in the text and the detail;
    when the ticket cannot hold more files, the step runs without them."""
    stored, notes = _store(content.files, uploader, record.sender)
    try:
        try:
            result = _keyed(
                record,
                step,
                lambda: run([a.id for a in stored], _text(lead, content.text, notes)),
            )
        except attachments.AttachmentRefused as error:
            if error.code != "ticket_attachments_full" or not stored:
                raise
            _discard(stored)
            notes += [_not_attached(a.filename, error.message) for a in stored]
            stored = []
            result = _keyed(
                record, step, lambda: run([], _text(lead, content.text, notes))
            )
    except TicketError:
        _discard(stored)  # refused: nothing was stored, nothing claimed them
        raise
    if result.replayed:
        _discard(stored)  # stored before: its event has the first copies
    verdict.detail.extend(notes)
    return result


def _store(
    files: Iterable[File], uploader: str, uploaded_by: str
) -> tuple[list[Attachment], list[str]]:
    stored: list[Attachment] = []
    notes: list[str] = []
    for file in files:
        name = attachments.clean_filename(file.filename)
        if len(stored) >= MAX_ATTACHMENTS:
            notes.append(
                _not_attached(name, f"at most {MAX_ATTACHMENTS} files per message")
            )
            continue
        try:
            stored.append(
                attachments.store(
                    file.content,
                    filename=name,
                    declared_type=file.content_type,
                    uploader=uploader,
                    uploaded_by=uploaded_by,
                )
            )
        except attachments.AttachmentRefused as error:
            notes.append(_not_attached(name, error.message))
    return stored, notes


def _not_attached(filename: str, reason: str) -> str:
    return f"[{filename} was not attached: {reason}]"


def _discard(stored: Iterable[Attachment]) -> None:
    """Delete this attempt's uploads that no event claimed."""
    for attachment in stored:
        if (
            Attachment.objects.filter(
                pk=attachment.pk, audience=Attachment.Audience.PENDING
            ).delete()[0]
            and attachment.storage_name
        ):
            attachments.storage().delete(attachment.storage_name)


def _text(lead: str, text: str, notes: list[str]) -> str:
    """The entry's text: ``lead``, the message's text (shortened to fit
    ``MAX_TEXT``, with a note) and the notes about files left out."""
    tail = "\n".join(notes)
    fixed = sum(len(part) + 2 for part in (lead, tail) if part)
    return "\n\n".join(
        part for part in (lead, _shorten(text, MAX_TEXT - fixed), tail) if part
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - len(SHORTENED) - 2, 0)].rstrip() + "\n\n" + SHORTENED
