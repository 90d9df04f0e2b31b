"""Files attached to a ticket's entries: the one place that stores,
checks, claims and authorises them.

A file is first *stored* (:func:`store`): its size is counted and its
SHA-256 computed while it is copied to the ``attachments`` storage, its
type is decided from its name and its first bytes (never the sender's say-
so alone) and checked against ``BATON_ATTACHMENT_TYPES``; a file that
fails a check is refused (:class:`AttachmentRefused`) and nothing is kept.
It is then *pending*: only its uploader may attach it. A command that
carries attachment ids *claims* them (:func:`claim`): each must be
pending, the caller's and held by no other command (the claim reserves
it, and is released if the command is refused), and the ticket's total
must stay within ``BATON_ATTACHMENT_MAX_TICKET_BYTES``; the event records
each file's id, name, size, content type and SHA-256 (never the bytes).
The core projection :class:`AttachmentProjection` then marks them
attached, with the audience of the entry (a note's files are internal; the opening
message's, a reply's and the customer's are customer-visible).

Who may read which of a ticket's files is one rule (staff all of them,
the customer the customer-visible ones), applied by :func:`attached_files`
and :func:`attached_file`, which every list and download (admin, API,
customer page) uses; downloads answer with :func:`download_response`.
Each timeline entry's files are :func:`entry_files` (joined on the
version of the event that attached them: the timeline rows need no
copy). An uploader keeps at most a ticket's worth of unattached uploads
(``pending_uploads_full``), and :func:`purge_pending` deletes the ones
never attached. A form that posts files checks the request's size first
(:func:`check_body_size`).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import posixpath
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, cast
from uuid import UUID

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from tickets import clock
from tickets.domain import (
    MAX_ATTACHMENTS,
    ActorKind,
    InvalidInput,
    Principal,
    Ticket,
    TicketError,
)
from tickets.models import Attachment
from tickets.projection_runner import Projection, ProjectionSession, handles

CHUNK = 64 * 1024

#: First bytes that must open a file of these types (a ``.png`` that is
#: really HTML is refused as not what it says).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
#: Office files are zip (OOXML) or OLE containers.
for _type, _magic in (
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "zip"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip"),
    ("application/msword", "ole"),
    ("application/vnd.ms-excel", "ole"),
):
    MAGIC[_type] = (
        MAGIC["application/zip"] if _magic == "zip" else (b"\xd0\xcf\x11\xe0",)
    )


class AttachmentRefused(InvalidInput):
    """A file Baton will not keep or attach; ``code`` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, field="attachments", code=code)


class AttachmentNotFound(TicketError):
    """Raised when a file is not attached to that ticket, or not one the
    caller may read (the same answer for both)."""

    code = "attachment_not_found"


def too_large(name: str) -> AttachmentRefused:
    """The refusal of a file over ``BATON_ATTACHMENT_MAX_BYTES``."""
    return AttachmentRefused(
        _("%(name)s is larger than %(limit)s, the most a file may be.")
        % {"name": name, "limit": filesizeformat(settings.BATON_ATTACHMENT_MAX_BYTES)},
        code="attachment_too_large",
    )


#: Room in a multipart body for each file's part headers (its name...)
#: and for the form's text fields (a message is at most ``MAX_TEXT``
#: characters).
PART_BYTES = 2 * 1024
FIELDS_BYTES = 64 * 1024


def body_limit(files: int = 1) -> int:
    """The largest request body that can carry ``files`` files of the
    largest size and a form's fields."""
    return files * (settings.BATON_ATTACHMENT_MAX_BYTES + PART_BYTES) + FIELDS_BYTES


def check_body_size(meta: Mapping[str, Any], *, files: int = 1) -> None:
    """Refuse (``attachment_too_large``) a request whose declared length
    (``Content-Length`` in ``meta``, the request's ``META``) is over
    :func:`body_limit`: called before anything reads the body, so none of
    it is parsed or spooled to disk. (A body without a length is read as
    empty by Django's form parser.)"""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= body_limit(files):
        return
    if files == 1:
        raise too_large(_("The file"))
    raise AttachmentRefused(
        _(
            "What you sent is larger than %(limit)s, the most one message may "
            "carry (up to %(count)s files of at most %(size)s each)."
        )
        % {
            "limit": filesizeformat(body_limit(files)),
            "count": files,
            "size": filesizeformat(settings.BATON_ATTACHMENT_MAX_BYTES),
        },
        code="attachment_too_large",
    )


def storage() -> Storage:
    return storages["attachments"]


def uploader_key(principal: Principal, ticket_id: UUID | None = None) -> str:
    """Whose pending uploads a principal may attach: a staff user's (or
    integration's) own; a customer's, per ticket."""
    if principal.kind == ActorKind.CUSTOMER:
        return f"customer:{ticket_id}"
    return f"{principal.kind}:{principal.id}"


def clean_filename(name: str) -> str:
    """A file name safe to show and to send back: its last path part,
    printable, at most 255 characters, never empty."""
    base = posixpath.basename(str(name or "").replace("\\", "/"))
    base = "".join(
        ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable()
    ).strip(" .")
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        short_ext = dot and len(ext) < 20
        base = (stem[: 250 - len(ext)] + dot + ext) if short_ext else base[:255]
    return base or "file"


def content_type_of(filename: str, declared: str, head: bytes) -> str:
    """The type Baton records for a file: by its name's extension when
    known (what a browser will open it as), else what the sender declared;
    ``text/plain`` only when the bytes are text."""
    guessed = mimetypes.guess_type(filename, strict=False)[0]
    chosen = (guessed or declared or "application/octet-stream").lower()
    return chosen.split(";")[0].strip()


def _allowed(content_type: str) -> bool:
    for allowed in settings.BATON_ATTACHMENT_TYPES:
        allowed = allowed.lower()
        if allowed == content_type or (
            allowed.endswith("/*") and content_type.startswith(allowed[:-1])
        ):
            return True
    return False


def _check_type(content_type: str, head: bytes, filename: str) -> None:
    if not _allowed(content_type):
        raise AttachmentRefused(
            _("Files of type %(type)s (%(name)s) are not accepted.")
            % {"type": content_type, "name": filename},
            code="attachment_type_not_allowed",
        )
    magic = MAGIC.get(content_type)
    if magic and not head.startswith(magic):
        raise AttachmentRefused(
            _("%(name)s is not a valid %(type)s file.")
            % {"name": filename, "type": content_type},
            code="attachment_type_mismatch",
        )
    if content_type.startswith("text/") and b"\x00" in head:
        raise AttachmentRefused(
            _("%(name)s is not a text file.") % {"name": filename},
            code="attachment_type_mismatch",
        )


def _check_pending(uploader: str) -> None:
    """One uploader keeps at most a full ticket's worth of files waiting
    to be attached (uploads never attached cannot fill the storage)."""
    waiting = (
        Attachment.objects.filter(
            uploader=uploader[:80], audience=Attachment.Audience.PENDING
        ).aggregate(total=Sum("size"))["total"]
        or 0
    )
    if waiting >= settings.BATON_ATTACHMENT_MAX_TICKET_BYTES:
        raise AttachmentRefused(
            _(
                "You have %(size)s of uploads not attached to anything yet: "
                "attach them, or wait until they expire."
            )
            % {"size": filesizeformat(waiting)},
            code="pending_uploads_full",
        )


def store(
    content: IO[bytes] | bytes,
    *,
    filename: str,
    declared_type: str = "",
    uploader: str,
    uploaded_by: str = "",
) -> Attachment:
    """Check and keep one file as a pending attachment of ``uploader``.

    Raises :class:`AttachmentRefused` (``attachment_empty``,
    ``attachment_too_large``, ``attachment_type_not_allowed``,
    ``attachment_type_mismatch``) and then keeps nothing."""
    stream: IO[bytes] = io.BytesIO(content) if isinstance(content, bytes) else content
    name = clean_filename(filename)
    limit = settings.BATON_ATTACHMENT_MAX_BYTES
    head = stream.read(CHUNK)
    if not head:
        raise AttachmentRefused(
            _("%(name)s is empty.") % {"name": name}, code="attachment_empty"
        )
    content_type = content_type_of(name, declared_type, head)
    _check_type(content_type, head, name)
    _check_pending(uploader)
    attachment_id = uuid.uuid4()
    storage_name = f"{attachment_id.hex[:2]}/{attachment_id.hex}"
    digest = hashlib.sha256()
    size = 0
    target = storage()

    def chunks() -> Iterable[bytes]:
        nonlocal size
        chunk = head
        while chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(name)
            digest.update(chunk)
            yield chunk
            chunk = stream.read(CHUNK)

    saved = ""
    try:
        saved = target.save(
            storage_name, File(cast(IO[bytes], _ChunkReader(chunks())), name=name)
        )
        return Attachment.objects.create(
            id=attachment_id,
            storage_name=saved,
            filename=name,
            size=size,
            content_type=content_type,
            sha256=digest.hexdigest(),
            uploader=uploader[:80],
            uploaded_by=uploaded_by[:200],
            created_at=clock.now(),
        )
    except BaseException:
        if saved:
            target.delete(saved)
        else:
            _delete_quietly(target, storage_name)
        raise


def _delete_quietly(target: Storage, name: str) -> None:
    try:
        if target.exists(name):
            target.delete(name)
    except OSError:  # pragma: no cover - nothing was written
        pass


class _ChunkReader:
    """A file-like reader over chunks (what ``Storage.save`` reads): a
    forward-only stream, so backends that rewind what they may (S3's
    ``upload_fileobj``) read it once, in order."""

    closed = False

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("forward-only stream")

    def close(self) -> None:
        self.closed = True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def __iter__(self) -> Any:
        while data := self.read(CHUNK):
            yield data


def event_record(attachment: Attachment) -> dict[str, Any]:
    """What an event records of a file."""
    return {
        "id": str(attachment.id),
        "name": attachment.filename,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "sha256": attachment.sha256,
    }


#: How long a command's reservation of its files holds if the command
#: never finishes (its process died): then the files are free again (to
#: claim, or for :func:`purge_pending`).
CLAIM_TIMEOUT = timedelta(minutes=15)


def _free(now: datetime) -> Q:
    """Pending files no command holds: never reserved, released, or whose
    reservation outlived its command."""
    return Q(claim__isnull=True) | Q(claimed_until__lt=now)


@dataclass(frozen=True)
class Claim:
    """A command's reservation of its files: ``records`` for its event.
    :meth:`keep` once the event is stored, :meth:`release` if it is not."""

    token: UUID | None
    records: list[dict[str, Any]]

    def keep(self, ticket_id: UUID) -> None:
        """The event is stored: the files are its own for good (the
        projection marks them attached)."""
        if self.token is not None:
            Attachment.objects.filter(
                claim=self.token, audience=Attachment.Audience.PENDING
            ).update(ticket_id=ticket_id, claimed_until=None)

    def release(self) -> None:
        """The command was refused (or replayed): the files are the
        uploader's pending uploads again."""
        if self.token is not None:
            _release(self.token)


def _release(token: UUID) -> None:
    Attachment.objects.filter(claim=token, audience=Attachment.Audience.PENDING).update(
        claim=None, claimed_until=None, ticket_id=None
    )


def claim(ids: Iterable[UUID | str], *, uploader: str, ticket_id: UUID | None) -> Claim:
    """Reserve the pending files ``ids`` for a command by ``uploader`` on
    ``ticket_id`` (None: a ticket being opened), with their event records.
    Raises ``unknown_attachment`` for a file that is not the caller's
    pending upload or that another command holds, ``ticket_attachments_full``
    past the per-ticket limit (then nothing stays reserved).

    The reservation is one conditional update, so of two commands
    claiming one file only one gets it. The caller keeps it
    (:meth:`Claim.keep`) once the event is stored and releases it
    (:meth:`Claim.release`) if not; a reservation whose command died
    expires after :data:`CLAIM_TIMEOUT`."""
    wanted = list(dict.fromkeys(UUID(str(i)) for i in ids))
    if not wanted:
        return Claim(token=None, records=[])
    token = uuid.uuid4()
    now = clock.now()
    Attachment.objects.filter(
        _free(now),
        id__in=wanted,
        uploader=uploader,
        audience=Attachment.Audience.PENDING,
    ).update(claim=token, claimed_until=now + CLAIM_TIMEOUT, ticket_id=ticket_id)
    found = {a.id: a for a in Attachment.objects.filter(claim=token)}
    try:
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise AttachmentRefused(
                _("No such upload of yours waiting to be attached: %(ids)s")
                % {"ids": ", ".join(missing)},
                code="unknown_attachment",
            )
        _check_ticket_total(ticket_id, sum(a.size for a in found.values()), now)
    except BaseException:
        _release(token)
        raise
    return Claim(token=token, records=[event_record(found[i]) for i in wanted])


def _check_ticket_total(ticket_id: UUID | None, adding: int, now: datetime) -> None:
    """A ticket's files stay within ``BATON_ATTACHMENT_MAX_TICKET_BYTES``:
    the attached ones and those commands on it hold (this one's, just
    reserved, among them; ``adding`` alone for a ticket being opened)."""
    total = adding
    if ticket_id is not None:
        total = (
            Attachment.objects.filter(ticket_id=ticket_id)
            .exclude(audience=Attachment.Audience.PENDING, claimed_until__lt=now)
            .aggregate(total=Sum("size"))["total"]
            or 0
        )
    limit = settings.BATON_ATTACHMENT_MAX_TICKET_BYTES
    if total > limit:
        raise AttachmentRefused(
            _("A ticket holds at most %(limit)s of files.")
            % {"limit": filesizeformat(limit)},
            code="ticket_attachments_full",
        )


def store_all(
    files: Sequence[Any], *, uploader: str, uploaded_by: str = ""
) -> list[Attachment]:
    """Store uploaded files (Django ``UploadedFile`` objects) as pending
    uploads of ``uploader``, all or none: if one is refused, those stored
    before it are discarded and the refusal is raised."""
    if len(files) > MAX_ATTACHMENTS:
        raise AttachmentRefused(
            _("At most %(count)s files can be attached to one entry.")
            % {"count": MAX_ATTACHMENTS},
            code="too_many_attachments",
        )
    stored: list[Attachment] = []
    try:
        for upload in files:
            stored.append(
                store(
                    upload,
                    filename=upload.name or "",
                    declared_type=getattr(upload, "content_type", "") or "",
                    uploader=uploader,
                    uploaded_by=uploaded_by,
                )
            )
    except BaseException:
        discard(stored)
        raise
    return stored


def discard(attachments: Iterable[Attachment]) -> int:
    """Delete pending uploads and their bytes (a form whose command was
    refused keeps nothing); returns how many. Attached files, and files a
    command holds (see :func:`claim`), are never discarded: the row goes
    in one conditional delete, the bytes only with it."""
    count = 0
    for attachment in attachments:
        deleted, _rows = Attachment.objects.filter(
            _free(clock.now()),
            pk=attachment.pk,
            audience=Attachment.Audience.PENDING,
        ).delete()
        if deleted:
            _delete_quietly(storage(), attachment.storage_name)
            count += 1
    return count


def purge_pending(older_than: timedelta = timedelta(hours=24)) -> int:
    """Delete uploads never attached within ``older_than`` that no command
    holds; returns how many (for a periodic task)."""
    now = clock.now()
    stale = Attachment.objects.filter(
        _free(now),
        audience=Attachment.Audience.PENDING,
        created_at__lt=now - older_than,
    )
    return discard(stale.iterator())


@dataclass(frozen=True)
class FileInfo:
    """What a timeline entry shows of one of its files."""

    id: UUID
    name: str
    size: int
    content_type: str
    internal: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
        }


def attached_files(ticket_id: UUID, *, customer_only: bool) -> list[Attachment]:
    """A ticket's attached files, oldest first: all of them for staff, the
    customer-visible ones for the customer."""
    return list(
        Attachment.objects.filter(
            ticket_id=ticket_id, audience__in=_audiences(customer_only=customer_only)
        ).order_by("attached_version", "created_at")
    )


def _audiences(*, customer_only: bool) -> list[str]:
    """Who reads which files of a ticket they may see: staff all attached
    ones, the customer the customer-visible ones."""
    if customer_only:
        return [Attachment.Audience.CUSTOMER]
    return [Attachment.Audience.CUSTOMER, Attachment.Audience.INTERNAL]


def entry_files(ticket_id: UUID, *, customer_only: bool) -> dict[int, list[FileInfo]]:
    """Each timeline entry's files, by the entry's ticket version (the
    event that attached them): the one place every timeline (the API's,
    the customer's, the admin page's) reads them from."""
    files: dict[int, list[FileInfo]] = {}
    for attachment in attached_files(ticket_id, customer_only=customer_only):
        if attachment.attached_version is None:
            continue
        files.setdefault(attachment.attached_version, []).append(
            FileInfo(
                id=attachment.id,
                name=attachment.filename,
                size=attachment.size,
                content_type=attachment.content_type,
                internal=attachment.audience == Attachment.Audience.INTERNAL,
            )
        )
    return files


def attached_file(
    ticket_id: UUID, attachment_id: UUID | str, *, customer_only: bool
) -> Attachment:
    """One of :func:`attached_files` (the same rule): a file attached to
    ``ticket_id``, a customer-visible one for the customer.
    ``AttachmentNotFound`` otherwise, the same answer for a file that does
    not exist, is pending, or is internal. The caller has checked that
    the reader may see the ticket."""
    try:
        wanted = UUID(str(attachment_id))
    except ValueError:
        wanted = None
    attachment = (
        Attachment.objects.filter(
            pk=wanted,
            ticket_id=ticket_id,
            audience__in=_audiences(customer_only=customer_only),
        ).first()
        if wanted
        else None
    )
    if attachment is None:
        raise AttachmentNotFound(_("This ticket has no such file."))
    return attachment


#: Nothing a downloaded file says runs in Baton's origin (an HTML or SVG
#: file opened in the browser is inert).
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def download_response(attachment: Attachment) -> FileResponse:
    """The file's bytes as a download: ``Content-Disposition: attachment``
    with its original name, its recorded type (never sniffed), length,
    and a sandboxing Content-Security-Policy. Only for a file
    :func:`attached_file` gave the reader."""
    handle = storage().open(attachment.storage_name, "rb")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


class AttachmentProjection(Projection):
    """Marks claimed files attached: their ticket, the entry's version and
    audience (only pending files are marked: a replayed event changes
    nothing), and held for good (see :func:`claim`). A rebuild keeps the
    files, still held (the purge leaves them alone meanwhile), and marks
    them again from the log."""

    name = "attachments"
    models = (Attachment,)

    def reset(self) -> None:
        Attachment.objects.exclude(audience=Attachment.Audience.PENDING).update(
            audience=Attachment.Audience.PENDING,
            attached_version=None,
            attached_at=None,
        )

    def _attach(self, e: Any, audience: str) -> None:
        ids = [UUID(str(item["id"])) for item in getattr(e, "attachments", ())]
        if ids:
            Attachment.objects.filter(
                id__in=ids, audience=Attachment.Audience.PENDING
            ).update(
                ticket_id=e.originator_id,
                audience=audience,
                attached_version=e.originator_version,
                attached_at=e.timestamp,
                # An event refers to it: no command claims it, no purge
                # deletes it (also while a rebuild has it pending again).
                claim=Coalesce(F("claim"), F("id")),
                claimed_until=None,
            )

    @handles(Ticket.Opened)
    def opened(self, e: Any, position: int, session: ProjectionSession) -> None:
        self._attach(e, Attachment.Audience.CUSTOMER)

    @handles(Ticket.Responded)
    def responded(self, e: Any, position: int, session: ProjectionSession) -> None:
        self._attach(e, Attachment.Audience.CUSTOMER)

    @handles(Ticket.CustomerReplied)
    def customer_replied(
        self, e: Any, position: int, session: ProjectionSession
    ) -> None:
        self._attach(e, Attachment.Audience.CUSTOMER)

    @handles(Ticket.NoteAdded)
    def note_added(self, e: Any, position: int, session: ProjectionSession) -> None:
        self._attach(e, Attachment.Audience.INTERNAL)
