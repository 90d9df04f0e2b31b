"""Files over the API: upload, attach with a command, list, download;
who may read what; and every refusal keeps nothing (no row, no file, no
event)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from tests.helpers import Org, event_count, open_ticket, stored_events
from tests.tickets.api_helpers import Clients
from tickets import services
from tickets.models import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n" + b"0" * 500 + b"\n%%EOF\n"


def files_in(storage_dir: Path) -> list[Path]:
    return (
        [p for p in storage_dir.rglob("*") if p.is_file()]
        if storage_dir.exists()
        else []
    )


def upload(
    client: APIClient,
    content: bytes,
    name: str = "shot.png",
    content_type: str = "image/png",
    url: str = "/api/v1/attachments/",
) -> Any:
    return client.post(
        url,
        {"file": SimpleUploadedFile(name, content, content_type)},
        format="multipart",
    )


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def clients(org: Org) -> Clients:
    return Clients(org)


@pytest.fixture
def ticket(org: Org) -> UUID:
    return open_ticket(org)


def test_a_file_uploads_attaches_to_a_reply_and_downloads_intact(
    clients: Clients, ticket: UUID, _attachment_storage: Path
) -> None:
    cs = clients.agent("CS")
    uploaded = upload(cs, PNG)
    assert uploaded.status_code == 201, uploaded.content
    record = uploaded.json()
    assert record["name"] == "shot.png"
    assert record["size"] == len(PNG)
    assert record["content_type"] == "image/png"
    assert record["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert len(files_in(_attachment_storage)) == 1

    reply = cs.post(
        f"/api/v1/tickets/{ticket}/responses/",
        {"body": "Here is the screenshot.", "attachments": [record["id"]]},
        format="json",
    )
    assert reply.status_code == 200, reply.content
    # The event records what the file is, never its bytes.
    event = stored_events(ticket)[-1]
    assert type(event).__name__ == "Responded"
    assert event.attachments == [
        {
            "id": record["id"],
            "name": "shot.png",
            "size": len(PNG),
            "content_type": "image/png",
            "sha256": hashlib.sha256(PNG).hexdigest(),
        }
    ]

    listed = cs.get(f"/api/v1/tickets/{ticket}/attachments/").json()
    assert [(f["id"], f["audience"], f["version"]) for f in listed] == [
        (record["id"], "customer", event.originator_version)
    ]
    download = cs.get(listed[0]["download"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="shot.png"'
    assert download["Content-Type"] == "image/png"
    assert download["Content-Length"] == str(len(PNG))
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert hashlib.sha256(body_of(download)).hexdigest() == record["sha256"]

    # The timeline every view shows carries the file on its message.
    timeline = cs.get(f"/api/v1/tickets/{ticket}/timeline/").json()
    messages = [m for step in timeline["journey"] for m in step["messages"]]
    assert messages[-1]["attachments"] == [
        {
            "id": record["id"],
            "name": "shot.png",
            "size": len(PNG),
            "content_type": "image/png",
        }
    ]


def test_a_download_answers_any_accept_header(clients: Clients, ticket: UUID) -> None:
    cs = clients.agent("CS")
    file_id = upload(cs, PDF, "invoice.pdf", "application/pdf").json()["id"]
    cs.post(
        f"/api/v1/tickets/{ticket}/notes/",
        {"body": "Invoice", "attachments": [file_id]},
        format="json",
    )
    url = f"/api/v1/tickets/{ticket}/attachments/{file_id}/"
    for accept in ("application/octet-stream", "application/pdf", "*/*"):
        response = cs.get(url, HTTP_ACCEPT=accept)
        assert response.status_code == 200, (accept, response.content)
        assert response["Content-Type"] == "application/pdf"
        assert body_of(response) == PDF


def test_a_ticket_can_be_opened_with_files_the_customer_sees(
    clients: Clients,
) -> None:
    cs = clients.agent("CS")
    file_id = upload(cs, PDF, "receipt.pdf", "application/pdf").json()["id"]
    opened = cs.post(
        "/api/v1/tickets/",
        {
            "subject": "Refund",
            "customer_ref": "C-9",
            "channel": "web",
            "attachments": [file_id],
        },
        format="json",
    )
    assert opened.status_code == 201, opened.content
    token = opened.json()["customer_link"].rstrip("/").rsplit("/", 1)[-1]
    view = APIClient().get(f"/api/v1/public/timeline/{token}/").json()
    assert [f["name"] for f in view["attachments"]] == ["receipt.pdf"]
    download = APIClient().get(
        f"/api/v1/public/timeline/{token}/attachments/{file_id}/"
    )
    assert download.status_code == 200
    assert body_of(download) == PDF


def test_a_notes_file_is_internal_the_customer_can_neither_see_nor_fetch_it(
    org: Org, clients: Clients
) -> None:
    result = services.ticket_open(
        principal=org.agent("CS"), subject="Refund", customer_ref="C-1", channel="web"
    )
    token = result.detail["customer_token"]
    cs = clients.agent("CS")
    file_id = upload(cs, PNG).json()["id"]
    note = cs.post(
        f"/api/v1/tickets/{result.ticket_id}/notes/",
        {"body": "Internal screenshot", "attachments": [file_id]},
        format="json",
    )
    assert note.status_code == 200
    assert Attachment.objects.get(pk=file_id).audience == "internal"

    public = APIClient()
    view = public.get(f"/api/v1/public/timeline/{token}/").json()
    assert view["attachments"] == []
    refused = public.get(f"/api/v1/public/timeline/{token}/attachments/{file_id}/")
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "attachment_not_found"
    # Staff read it, marked internal.
    listed = cs.get(f"/api/v1/tickets/{result.ticket_id}/attachments/").json()
    assert [f["audience"] for f in listed] == ["internal"]
    assert cs.get(listed[0]["download"]).status_code == 200


def test_a_ticket_you_may_not_see_hides_its_files_as_if_missing(
    clients: Clients, ticket: UUID
) -> None:
    cs = clients.agent("CS")
    file_id = upload(cs, PNG).json()["id"]
    cs.post(
        f"/api/v1/tickets/{ticket}/responses/",
        {"body": "x", "attachments": [file_id]},
        format="json",
    )
    logistics = clients.agent("LOG")  # never had the ticket
    for url in (
        f"/api/v1/tickets/{ticket}/attachments/",
        f"/api/v1/tickets/{ticket}/attachments/{file_id}/",
    ):
        response = logistics.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "ticket_not_found"
    # A file of another ticket is not reachable through a visible one.
    other = open_ticket(clients.org, subject="Other")
    response = cs.get(f"/api/v1/tickets/{other}/attachments/{file_id}/")
    assert (response.status_code, response.json()["code"]) == (
        404,
        "attachment_not_found",
    )


def test_nobody_attaches_anothers_pending_upload(
    clients: Clients, ticket: UUID
) -> None:
    file_id = upload(clients.agent("CS"), PNG).json()["id"]
    before = event_count()
    response = clients.lead("CS").post(
        f"/api/v1/tickets/{ticket}/responses/",
        {"body": "Stolen file", "attachments": [file_id]},
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unknown_attachment"
    assert event_count() == before
    assert Attachment.objects.get(pk=file_id).audience == "pending"
    # Nor can a customer through their link.
    response = clients.agent("CS").post(
        f"/api/v1/tickets/{ticket}/responses/",
        {"body": "Twice", "attachments": [str(UUID(int=7))]},
        format="json",
    )
    assert response.json()["code"] == "unknown_attachment"


@override_settings(BATON_ATTACHMENT_MAX_BYTES=1000)
def test_a_file_over_the_size_limit_is_refused_and_nothing_is_kept(
    clients: Clients, _attachment_storage: Path
) -> None:
    cs = clients.agent("CS")
    assert upload(cs, PNG[:1000]).status_code == 201
    kept = Attachment.objects.count()
    for size in (1001, 200_000):  # streamed past the limit; body refused unread
        response = upload(cs, PNG[:8] + b"\0" * (size - 8))
        assert response.status_code == 400, size
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "attachment_too_large"
    assert Attachment.objects.count() == kept
    assert len(files_in(_attachment_storage)) == kept


@pytest.mark.parametrize(
    ("name", "content_type", "content", "code"),
    [
        (
            "tool.exe",
            "application/x-msdownload",
            b"MZ\x90\x00" * 10,
            "attachment_type_not_allowed",
        ),
        (
            "page.html",
            "text/html",
            b"<html><script>alert(1)</script>",
            "attachment_type_not_allowed",
        ),
        (
            "shot.png",
            "image/png",
            b"<html><script>alert(1)</script>",
            "attachment_type_mismatch",
        ),
        ("notes.txt", "text/plain", b"text\x00with a NUL", "attachment_type_mismatch"),
        ("empty.pdf", "application/pdf", b"", "attachment_empty"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_and_nothing_is_kept(
    clients: Clients,
    _attachment_storage: Path,
    name: str,
    content_type: str,
    content: bytes,
    code: str,
) -> None:
    response = upload(clients.agent("CS"), content, name, content_type)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert Attachment.objects.count() == 0
    assert files_in(_attachment_storage) == []


def test_an_upload_without_a_file_is_refused_with_its_code(clients: Clients) -> None:
    response = clients.agent("CS").post(
        "/api/v1/attachments/", {"other": "x"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "file_required"
    # A JSON body cannot carry a file: refused as the API refuses bodies.
    json_body = clients.agent("CS").post(
        "/api/v1/attachments/", {"file": "aGVsbG8="}, format="json"
    )
    assert json_body.status_code == 400
    assert json_body.json()["code"] == "file_required"
    not_an_object = clients.agent("CS").post(
        "/api/v1/attachments/", b"[]", content_type="application/json"
    )
    assert not_an_object.json()["code"] == "validation_failed"
    assert Attachment.objects.count() == 0


@override_settings(BATON_ATTACHMENT_MAX_TICKET_BYTES=1500)
def test_a_ticket_holds_files_up_to_its_limit(clients: Clients, ticket: UUID) -> None:
    cs = clients.agent("CS")
    first = upload(cs, PNG[:1000]).json()["id"]
    second = upload(cs, PNG[:1000], "second.png").json()["id"]
    url = f"/api/v1/tickets/{ticket}/responses/"
    assert (
        cs.post(url, {"body": "one", "attachments": [first]}, format="json").status_code
        == 200
    )
    before = event_count()
    response = cs.post(url, {"body": "two", "attachments": [second]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "ticket_attachments_full"
    assert event_count() == before
    assert Attachment.objects.get(pk=second).audience == "pending"


def test_the_customer_uploads_and_sends_files_through_their_api(
    org: Org, clients: Clients
) -> None:
    result = services.ticket_open(
        principal=org.agent("CS"), subject="Refund", customer_ref="C-1", channel="web"
    )
    token = result.detail["customer_token"]
    public = APIClient()
    base = f"/api/v1/public/timeline/{token}"
    uploaded = upload(
        public, PDF, "proof.pdf", "application/pdf", url=f"{base}/attachments/"
    )
    assert uploaded.status_code == 201, uploaded.content
    file_id = uploaded.json()["id"]
    # Staff cannot attach the customer's upload.
    stolen = clients.agent("CS").post(
        f"/api/v1/tickets/{result.ticket_id}/responses/",
        {"body": "x", "attachments": [file_id]},
        format="json",
    )
    assert stolen.json()["code"] == "unknown_attachment"

    reply = public.post(
        f"{base}/replies/",
        {"body": "My proof", "attachments": [file_id]},
        format="json",
    )
    assert reply.status_code == 200, reply.content
    messages = [m for step in reply.json()["journey"] for m in step["messages"]]
    assert messages[-1]["attachments"][0]["name"] == "proof.pdf"
    download = public.get(f"{base}/attachments/{file_id}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="proof.pdf"'
    assert body_of(download) == PDF
    staff = clients.agent("CS").get(
        f"/api/v1/tickets/{result.ticket_id}/attachments/{file_id}/"
    )
    assert staff.status_code == 200
    # A wrong link reaches nothing.
    wrong = public.get(f"/api/v1/public/timeline/{'x' * 32}/attachments/{file_id}/")
    assert wrong.status_code == 404


def test_the_upload_is_described_as_multipart_in_the_schema(clients: Clients) -> None:
    schema = clients.agent("CS").get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/attachments/",
        "/api/v1/public/timeline/{token}/attachments/",
    ):
        operation = schema["paths"][path]["post"]
        content = operation["requestBody"]["content"]
        assert list(content) == ["multipart/form-data"]
        ref = content["multipart/form-data"]["schema"]["$ref"].split("/")[-1]
        file_field = schema["components"]["schemas"][ref]["properties"]["file"]
        assert (file_field["type"], file_field["format"]) == ("string", "binary")
        codes = operation["responses"]["400"]["x-problem-codes"]
        assert {"attachment_too_large", "attachment_type_mismatch"} <= set(codes)
