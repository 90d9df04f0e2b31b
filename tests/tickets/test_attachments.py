"""Files on the customer's page and the admin ticket page, and the core
rules of ``tickets.attachments`` (storing, refusing, claiming, purging)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from tests.helpers import Org, event_count, open_ticket
from tests.tickets.test_admin_queue import QUEUE, login
from tests.tickets.test_attachments_api import body_of
from tickets import attachments, clock, services
from tickets.application import VersionMismatch
from tickets.attachments import AttachmentRefused
from tickets.domain import MAX_ATTACHMENTS
from tickets.models import Attachment, TicketSummary

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TEXT = b"Tracking number: 123\n"


def files_in(storage_dir: Path) -> list[Path]:
    return (
        [p for p in storage_dir.rglob("*") if p.is_file()]
        if storage_dir.exists()
        else []
    )


def ticket_with_link(org: Org) -> tuple[UUID, str]:
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject="Refund not received",
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        channel="web",
    )
    return result.ticket_id, result.detail["customer_token"]


# -- the customer's page --------------------------------------------------------


def test_the_customer_sends_files_with_a_message_and_downloads_them(
    org: Org,
) -> None:
    tid, token = ticket_with_link(org)
    page = Client()
    posted = page.post(
        f"/t/{token}/",
        {
            "action": "reply",
            "body": "Here is the tracking label.",
            "attachments": [
                SimpleUploadedFile("label.png", PNG, "image/png"),
                SimpleUploadedFile("tracking.txt", TEXT, "text/plain"),
            ],
        },
    )
    assert posted.status_code == 302, posted.content.decode()[:500]
    files = Attachment.objects.filter(ticket_id=tid).order_by("filename")
    assert [(f.filename, f.audience, f.uploader) for f in files] == [
        ("label.png", "customer", f"customer:{tid}"),
        ("tracking.txt", "customer", f"customer:{tid}"),
    ]
    html = page.get(f"/t/{token}/").content.decode()
    label = files[0]
    link = f"/api/v1/public/timeline/{token}/attachments/{label.id}/"
    assert f'href="{link}"' in html and "label.png" in html
    download = page.get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="label.png"'
    assert hashlib.sha256(body_of(download)).hexdigest() == (
        hashlib.sha256(PNG).hexdigest()
    )


def test_a_refused_file_on_the_page_keeps_the_text_and_stores_nothing(
    org: Org, _attachment_storage: Path
) -> None:
    _tid, token = ticket_with_link(org)
    before = event_count()
    page = Client().post(
        f"/t/{token}/",
        {
            "action": "reply",
            "body": "My typed message",
            "attachments": [
                SimpleUploadedFile("fine.png", PNG, "image/png"),
                SimpleUploadedFile("fake.png", b"<script>x</script>", "image/png"),
            ],
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "fake.png is not a valid image/png file." in html
    assert "My typed message</textarea>" in html
    assert Attachment.objects.count() == 0  # the valid one is not kept either
    assert files_in(_attachment_storage) == []
    assert event_count() == before


def test_files_with_a_refused_message_are_not_kept(
    org: Org, _attachment_storage: Path
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=tid,
        resolution="Refunded",
        root_cause="other",
    )
    page = Client().post(
        f"/t/{token}/",
        {
            "action": "reply",
            "body": "One more thing",
            "attachments": [SimpleUploadedFile("late.png", PNG, "image/png")],
        },
    )
    assert page.status_code == 400
    assert Attachment.objects.count() == 0
    assert files_in(_attachment_storage) == []


def test_the_customer_page_never_links_an_internal_file(org: Org) -> None:
    tid, token = ticket_with_link(org)
    secret = attachments.store(
        PNG, filename="internal.png", uploader=f"user:{org.agents['CS'].pk}"
    )
    services.ticket_add_note(
        principal=org.agent("CS"), ticket_id=tid, body="Fraud?", attachments=[secret.id]
    )
    html = Client().get(f"/t/{token}/").content.decode()
    assert "internal.png" not in html and str(secret.id) not in html


# -- the admin ticket page -------------------------------------------------------


def test_staff_attach_files_to_a_reply_and_a_note_on_the_admin_page(
    org: Org,
) -> None:
    tid = open_ticket(org)
    agent = login(org.agents["CS"])
    url = f"{QUEUE}{tid}/change/"

    def post(action: str, body: str, name: str, content: bytes) -> int:
        seen = TicketSummary.objects.get(pk=tid).version
        response = agent.post(
            url,
            {
                "action": action,
                "version": seen,
                "body": body,
                "attachments": [SimpleUploadedFile(name, content, "")],
            },
        )
        return response.status_code

    assert post("respond", "See the label", "label.png", PNG) == 302
    assert post("note", "Carrier log", "carrier.txt", TEXT) == 302
    by_name = {a.filename: a for a in Attachment.objects.filter(ticket_id=tid)}
    assert by_name["label.png"].audience == "customer"
    assert by_name["carrier.txt"].audience == "internal"
    assert by_name["carrier.txt"].content_type == "text/plain"

    html = agent.get(url).content.decode()
    for attachment in by_name.values():
        assert f"{QUEUE}{tid}/attachments/{attachment.id}/" in html
    # Each file is listed on its own entry; the note's is marked internal.
    reply_line = html[html.index(">label.png</a>") :].split("</li>")[0]
    note_line = html[html.index(">carrier.txt</a>") :].split("</li>")[0]
    assert "internal" in note_line and "internal" not in reply_line

    download = agent.get(f"{QUEUE}{tid}/attachments/{by_name['carrier.txt'].id}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="carrier.txt"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert body_of(download) == TEXT

    # Logistics never had the ticket: its files are missing to them.
    outsider = login(org.agents["LOG"])
    hidden = outsider.get(f"{QUEUE}{tid}/attachments/{by_name['label.png'].id}/")
    assert hidden.status_code == 404


def test_a_refused_file_on_the_admin_page_keeps_the_text_and_stores_nothing(
    org: Org, _attachment_storage: Path
) -> None:
    tid = open_ticket(org)
    before = event_count()
    response = login(org.agents["CS"]).post(
        f"{QUEUE}{tid}/change/",
        {
            "action": "note",
            "version": TicketSummary.objects.get(pk=tid).version,
            "body": "Typed note text",
            "attachments": [SimpleUploadedFile("run.exe", b"MZ" * 50, "")],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "are not accepted" in html
    assert "Typed note text</textarea>" in html
    assert Attachment.objects.count() == 0
    assert files_in(_attachment_storage) == []
    assert event_count() == before


# -- the core ----------------------------------------------------------------------


@pytest.mark.django_db
def test_store_records_size_digest_and_a_clean_name() -> None:
    stored = attachments.store(
        io.BytesIO(PNG), filename="../../etc/re\x00port.png", uploader="user:1"
    )
    assert stored.filename == "report.png"
    assert stored.size == len(PNG)
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored.audience == "pending" and stored.ticket_id is None
    with attachments.storage().open(stored.storage_name, "rb") as handle:
        assert handle.read() == PNG


@pytest.mark.django_db
@override_settings(BATON_ATTACHMENT_MAX_BYTES=300_000)
def test_a_file_refused_mid_stream_leaves_no_partial_file(
    _attachment_storage: Path,
) -> None:
    big = PNG + b"\0" * 400_000  # several chunks written before the limit
    with pytest.raises(AttachmentRefused) as refused:
        attachments.store(big, filename="big.png", uploader="user:1")
    assert refused.value.code == "attachment_too_large"
    assert files_in(_attachment_storage) == []
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
@override_settings(BATON_ATTACHMENT_MAX_TICKET_BYTES=2000)
def test_an_uploader_cannot_pile_up_unattached_files() -> None:
    attachments.store(PNG, filename="a.png", uploader="customer:x")
    attachments.store(PNG, filename="b.png", uploader="customer:x")
    with pytest.raises(AttachmentRefused) as refused:
        attachments.store(PNG, filename="c.png", uploader="customer:x")
    assert refused.value.code == "pending_uploads_full"
    attachments.store(PNG, filename="mine.png", uploader="customer:y")


def test_unattached_uploads_expire_and_attached_files_stay(
    org: Org, _attachment_storage: Path
) -> None:
    tid = open_ticket(org)
    kept = attachments.store(
        PNG, filename="kept.png", uploader=f"user:{org.agents['CS'].pk}"
    )
    services.ticket_respond(
        principal=org.agent("CS"), ticket_id=tid, body="x", attachments=[kept.id]
    )
    stale = attachments.store(PNG, filename="stale.png", uploader="user:1")
    with time_machine.travel(clock.now() + timedelta(hours=25), tick=False):
        fresh = attachments.store(PNG, filename="fresh.png", uploader="user:1")
        assert attachments.purge_pending(timedelta(hours=24)) == 1
    assert set(Attachment.objects.values_list("filename", flat=True)) == {
        "kept.png",
        "fresh.png",
    }
    assert not attachments.storage().exists(stale.storage_name)
    assert attachments.storage().exists(fresh.storage_name)


# -- claiming: one upload goes with one command -----------------------------------


def test_an_upload_claimed_by_one_command_is_refused_to_another(
    org: Org, _attachment_storage: Path
) -> None:
    first, second = open_ticket(org), open_ticket(org)
    principal = org.agent("CS")
    uploader = attachments.uploader_key(principal)
    upload = attachments.store(PNG, filename="label.png", uploader=uploader)
    # A command on the first ticket has reserved it and is still running.
    in_flight = attachments.claim([upload.id], uploader=uploader, ticket_id=first)
    before = event_count()
    with pytest.raises(AttachmentRefused) as refused:
        services.ticket_respond(
            principal=principal, ticket_id=second, body="x", attachments=[upload.id]
        )
    assert refused.value.code == "unknown_attachment"
    assert event_count() == before
    # The first command's reservation is untouched: it finishes with it.
    assert Attachment.objects.get(pk=upload.id).claim == in_flight.token
    assert in_flight.records[0]["id"] == str(upload.id)


def test_a_file_listed_twice_in_one_command_is_attached_once(org: Org) -> None:
    tid = open_ticket(org)
    principal = org.agent("CS")
    upload = attachments.store(
        PNG, filename="a.png", uploader=attachments.uploader_key(principal)
    )
    services.ticket_respond(
        principal=principal, ticket_id=tid, body="x", attachments=[upload.id] * 2
    )
    assert [a.id for a in attachments.attached_files(tid, customer_only=True)] == [
        upload.id
    ]


def test_a_refused_command_releases_its_uploads(org: Org) -> None:
    tid = open_ticket(org)
    principal = org.agent("CS")
    upload = attachments.store(
        PNG, filename="a.png", uploader=attachments.uploader_key(principal)
    )
    seen = TicketSummary.objects.get(pk=tid).version
    services.ticket_add_note(principal=principal, ticket_id=tid, body="meanwhile")
    before = event_count()
    with pytest.raises(VersionMismatch):
        services.ticket_respond(
            principal=principal,
            ticket_id=tid,
            expected_version=seen,  # stale: refused
            body="x",
            attachments=[upload.id],
        )
    assert event_count() == before
    row = Attachment.objects.get(pk=upload.id)
    assert (row.audience, row.claim, row.ticket_id) == ("pending", None, None)
    # The retry attaches it at once.
    services.ticket_respond(
        principal=principal, ticket_id=tid, body="x", attachments=[upload.id]
    )
    assert Attachment.objects.get(pk=upload.id).audience == "customer"


def test_a_reservation_whose_command_died_expires(org: Org) -> None:
    tid = open_ticket(org)
    principal = org.agent("CS")
    uploader = attachments.uploader_key(principal)
    upload = attachments.store(PNG, filename="a.png", uploader=uploader)
    attachments.claim([upload.id], uploader=uploader, ticket_id=tid)  # then died
    with pytest.raises(AttachmentRefused):
        attachments.claim([upload.id], uploader=uploader, ticket_id=tid)
    later = clock.now() + attachments.CLAIM_TIMEOUT + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        services.ticket_respond(
            principal=principal, ticket_id=tid, body="x", attachments=[upload.id]
        )
    assert Attachment.objects.get(pk=upload.id).audience == "customer"


def test_purge_never_deletes_a_file_a_command_holds(
    org: Org, _attachment_storage: Path
) -> None:
    from tickets.application import get_tickets_application
    from tickets.projection_runner import catch_up, projection_group

    tid = open_ticket(org)
    principal = org.agent("CS")
    uploader = attachments.uploader_key(principal)
    start = clock.now()
    reserved = attachments.store(PNG, filename="reserved.png", uploader=uploader)
    stored = attachments.store(PNG, filename="stored.png", uploader=uploader)
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        # A command in flight holds one; another's event is stored but the
        # projector has not marked its file attached yet.
        attachments.claim([reserved.id], uploader=uploader, ticket_id=tid)
        with override_settings(BATON_INLINE_PROJECTION_GROUPS=[]):
            services.ticket_respond(
                principal=principal, ticket_id=tid, body="x", attachments=[stored.id]
            )
        assert Attachment.objects.get(pk=stored.id).audience == "pending"
        assert attachments.purge_pending() == 0
    with time_machine.travel(start + timedelta(days=3), tick=False):
        # Long after: the dead command's reservation expired, the stored
        # event's file is still held.
        assert attachments.purge_pending() == 1
    assert not Attachment.objects.filter(pk=reserved.id).exists()
    assert attachments.storage().exists(stored.storage_name)
    catch_up(get_tickets_application(), projection_group("core"))
    assert Attachment.objects.get(pk=stored.id).audience == "customer"


def test_purge_leaves_files_alone_while_a_rebuild_marks_them_again(
    org: Org, _attachment_storage: Path
) -> None:
    tid = open_ticket(org)
    principal = org.agent("CS")
    upload = attachments.store(
        PNG, filename="a.png", uploader=attachments.uploader_key(principal)
    )
    services.ticket_respond(
        principal=principal, ticket_id=tid, body="x", attachments=[upload.id]
    )
    attachments.AttachmentProjection().reset()  # a rebuild has begun
    with time_machine.travel(clock.now() + timedelta(hours=25), tick=False):
        assert attachments.purge_pending() == 0
    assert attachments.storage().exists(upload.storage_name)


# -- a request too large for the files a form may carry ------------------------------

SMALL_LIMIT = 2000


def multipart_over_the_limit() -> dict[str, Any]:
    """A reply whose files together are over what one message may carry
    (``MAX_ATTACHMENTS`` files of ``SMALL_LIMIT`` and the form's fields)."""
    size = attachments.body_limit(MAX_ATTACHMENTS) // 3 + 1
    return {
        "action": "reply",
        "body": "Here are the photos.",
        "attachments": [
            SimpleUploadedFile(f"p{n}.png", PNG[:8] + b"\0" * size, "image/png")
            for n in range(3)
        ],
    }


@override_settings(BATON_ATTACHMENT_MAX_BYTES=SMALL_LIMIT)
def test_an_oversized_body_to_the_customer_page_is_refused_unread(
    org: Org, _attachment_storage: Path
) -> None:
    _tid, token = ticket_with_link(org)
    before = event_count()
    page = Client().post(f"/t/{token}/", multipart_over_the_limit())
    assert page.status_code == 413
    assert "the most one message may carry" in page.content.decode()
    # Refused on its declared length alone: a body that says it is huge
    # is not read at all (the test client fails a read past what it has).
    huge = Client().post(
        f"/t/{token}/",
        {"action": "reply", "body": "x"},
        CONTENT_LENGTH=str(10 * 1024**3),
    )
    assert huge.status_code == 413
    assert Attachment.objects.count() == 0
    assert files_in(_attachment_storage) == []
    assert event_count() == before


@override_settings(BATON_ATTACHMENT_MAX_BYTES=SMALL_LIMIT)
def test_an_oversized_body_to_the_admin_page_is_refused_unread(
    org: Org, _attachment_storage: Path
) -> None:
    tid = open_ticket(org)
    agent = login(org.agents["CS"])
    before = event_count()
    fields = multipart_over_the_limit() | {
        "action": "respond",
        "version": TicketSummary.objects.get(pk=tid).version,
    }
    response = agent.post(f"{QUEUE}{tid}/change/", fields, follow=True)
    assert response.redirect_chain == [(f"{QUEUE}{tid}/change/", 303)]
    assert "the most one message may carry" in response.content.decode()
    assert Attachment.objects.count() == 0
    assert files_in(_attachment_storage) == []
    assert event_count() == before


def test_the_pages_still_check_csrf_after_the_size(org: Org) -> None:
    tid, token = ticket_with_link(org)
    before = event_count()
    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/t/{token}/")  # sets the CSRF cookie
    forged = browser.post(f"/t/{token}/", {"action": "reply", "body": "forged"})
    assert forged.status_code == 403
    agent = login(org.agents["CS"])
    agent.handler.enforce_csrf_checks = True
    forged = agent.post(
        f"{QUEUE}{tid}/change/",
        {"action": "note", "body": "forged", "version": 1},
    )
    assert forged.status_code == 403
    assert event_count() == before
    sent = browser.post(
        f"/t/{token}/",
        {
            "action": "reply",
            "body": "Real reply",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    assert sent.status_code == 302
    assert event_count() == before + 1
