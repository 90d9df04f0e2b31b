"""Webhooks cannot reach internal networks (SSRF): refused when a
subscription is made (API and admin) and again when a delivery is sent,
against the address actually connected to. Deliveries go to real HTTP(S)
servers on 127.0.0.1, allowed through ``BATON_WEBHOOK_ALLOWED_NETWORKS``
where a test needs a receiver."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.helpers import Org, open_ticket
from tests.tickets.api_helpers import token_client
from tests.tickets.test_webhooks import Receiver
from tickets import webhooks
from tickets.models import WebhookDelivery, WebhookSubscription

LOOPBACK = ["127.0.0.0/8", "::1/128"]

REFUSED_URLS = [
    "http://127.0.0.1:8000/hooks",
    "http://localhost:6379/",
    "http://[::1]/hooks",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[fe80::1]/",  # link-local
    "http://[fc00::1]/",  # unique local
    "http://[fec0::1]/",  # site-local
    "http://[ff02::1]/",  # multicast
    "http://[2002:7f00:1::1]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:1]/",  # NAT64 around 10.0.0.1
    "http://[::127.0.0.1]/",  # IPv4-compatible
]


def lead_client(org: Org) -> Any:
    return token_client(org.leads["CS"])


def subscribe_over_api(org: Org, url: str) -> Any:
    return lead_client(org).post(
        "/api/v1/webhooks/", {"name": "CRM", "url": url}, format="json"
    )


def stored_subscription(org: Org, url: str) -> WebhookSubscription:
    """A subscription as an older release (or a since-removed allow-list)
    may have stored it: the delivery must check again."""
    return WebhookSubscription.objects.create(
        name="Stored", owner=org.leads["CS"], url=url, secret="s", event_types=[]
    )


def delivered_once(org: Org) -> WebhookDelivery:
    open_ticket(org)
    delivery = WebhookDelivery.objects.get()
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- subscription time -----------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_subscribing_an_internal_address_is_refused(org: Org, url: str) -> None:
    response = subscribe_over_api(org, url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["field"]) == ("webhook_url_forbidden", "url")
    assert "127.0.0.1" not in body["detail"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/hooks", "http://[2606:4700:4700::1111]:8080/in"]
)
def test_subscribing_a_public_address_is_accepted(org: Org, url: str) -> None:
    response = subscribe_over_api(org, url)
    assert response.status_code == 201, response.content
    assert WebhookSubscription.objects.get().url == url


def test_a_host_that_does_not_resolve_is_refused(org: Org) -> None:
    response = subscribe_over_api(org, "https://no-such-host.invalid/hooks")
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_host_unresolvable"
    assert not WebhookSubscription.objects.exists()


def test_the_allow_list_admits_an_on_premises_receiver(
    org: Org, receiver: Receiver, settings: Any
) -> None:
    assert subscribe_over_api(org, receiver.url).status_code == 400
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert subscribe_over_api(org, receiver.url).status_code == 201
    # Only the listed network: another private one is still refused.
    refused = subscribe_over_api(org, "http://10.0.0.1/hooks")
    assert refused.json()["code"] == "webhook_url_forbidden"
    assert WebhookSubscription.objects.count() == 1


def admin_add(org: Org, url: str) -> Any:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    return client.post(
        "/admin/tickets/webhooksubscription/add/",
        {
            "name": "CRM",
            "owner": org.leads["CS"].pk,
            "url": url,
            "event_types": "[]",
            "is_active": "on",
        },
    )


def test_the_admin_form_refuses_an_internal_address(org: Org) -> None:
    response = admin_add(org, "http://169.254.169.254/latest/meta-data/")
    assert response.status_code == 200  # the form again, with the error
    assert "Webhooks cannot be sent to this address." in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_the_admin_form_accepts_a_public_address(org: Org) -> None:
    response = admin_add(org, "https://8.8.8.8/hooks")
    assert response.status_code == 302
    assert WebhookSubscription.objects.get().url == "https://8.8.8.8/hooks"


# --- delivery time ---------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_a_stored_loopback_subscription_is_not_delivered(
    org: Org, receiver: Receiver
) -> None:
    stored_subscription(org, receiver.url)
    delivery = delivered_once(org)
    assert receiver.requests == []
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_status_code is None
    assert delivery.last_error == "address not allowed"


def test_a_host_name_resolving_to_loopback_is_not_delivered(
    org: Org, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    url = f"http://localhost:{port}/hooks"
    assert subscribe_over_api(org, url).json()["code"] == "webhook_url_forbidden"
    stored_subscription(org, url)
    delivery = delivered_once(org)
    assert receiver.requests == []
    assert delivery.last_error == "address not allowed"


def test_an_allowed_host_name_is_delivered_with_its_own_host_header(
    org: Org, receiver: Receiver, settings: Any
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    port = receiver.server.server_address[1]
    stored_subscription(org, f"http://localhost:{port}/hooks?team=crm")
    delivery = delivered_once(org)
    assert delivery.status == "delivered"
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"localhost:{port}"
    assert request["path"] == "/hooks?team=crm"


def test_a_changing_dns_answer_cannot_redirect_the_connection(
    org: Org, receiver: Receiver, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is resolved once, and the connection goes to
    the address that was checked. The resolver here is the only stand-in
    (no DNS server can be run in a test): its first answer is the allowed
    receiver, every later one a forbidden address where nothing listens."""
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    real_getaddrinfo = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.rebinding.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        answers.append("127.0.0.1" if not answers else "127.0.0.2")
        return real_getaddrinfo(answers[-1], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = receiver.server.server_address[1]
    stored_subscription(org, f"http://hooks.rebinding.test:{port}/hooks")
    delivery = delivered_once(org)
    assert delivery.status == "delivered"
    assert answers == ["127.0.0.1"]  # one resolution, checked and used
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.rebinding.test:{port}"
    # The next delivery resolves afresh, gets the forbidden answer and
    # sends nothing.
    open_ticket(org)
    second = WebhookDelivery.objects.order_by("-position").first()
    assert second is not None
    webhooks.deliver(second.pk)
    second.refresh_from_db()
    assert second.last_error == "address not allowed"
    assert len(receiver.requests) == 1


def test_a_redirect_to_an_internal_address_is_not_followed(
    org: Org, settings: Any
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    hits: list[str] = []

    class Redirector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stored_subscription(org, f"http://127.0.0.1:{server.server_address[1]}/h")
        delivery = delivered_once(org)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/h"]
    assert (delivery.status, delivery.last_status_code) == ("pending", 307)
    assert delivery.last_error == "HTTP 307"


# --- what a lead sees --------------------------------------------------------


def test_a_refused_connection_shows_a_generic_error(org: Org, settings: Any) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    stored_subscription(org, f"http://127.0.0.1:{port}/hooks")
    delivery = delivered_once(org)
    assert (delivery.attempts, delivery.last_status_code) == (1, None)
    assert delivery.last_error == "connection failed"


def test_a_host_that_stopped_resolving_shows_host_not_found(org: Org) -> None:
    stored_subscription(org, "https://no-such-host.invalid/hooks")
    delivery = delivered_once(org)
    assert (delivery.attempts, delivery.last_error) == (1, "host not found")


def test_a_receiver_that_never_answers_shows_timed_out(
    org: Org, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.5)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # the kernel accepts connections; nobody answers
    try:
        stored_subscription(org, f"http://127.0.0.1:{silent.getsockname()[1]}/h")
        delivery = delivered_once(org)
    finally:
        silent.close()
    assert delivery.last_error == "timed out"


def test_an_error_status_shows_only_the_status(
    org: Org, receiver: Receiver, settings: Any
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    receiver.plan = [503]
    stored_subscription(org, receiver.url)
    delivery = delivered_once(org)
    assert (delivery.last_status_code, delivery.last_error) == (503, "HTTP 503")


# --- HTTPS -----------------------------------------------------------------


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, list[str], Path]]:
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for
    ``localhost``; yields its port, the SNI names it saw, and the CA file."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server_names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(str(name))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], server_names, cert
    finally:
        server.shutdown()
        server.server_close()


def test_https_to_a_pinned_address_keeps_sni_and_verifies_the_certificate(
    org: Org,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tls_receiver: tuple[int, list[str], Path],
) -> None:
    port, server_names, cert = tls_receiver
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test CA
    stored_subscription(org, f"https://localhost:{port}/hooks")
    delivery = delivered_once(org)
    assert (delivery.status, delivery.last_status_code) == ("delivered", 204)
    assert server_names == ["localhost"]


def test_https_with_a_certificate_for_another_name_fails(
    org: Org,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tls_receiver: tuple[int, list[str], Path],
) -> None:
    port, _, cert = tls_receiver
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = LOOPBACK
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    # The certificate names localhost, not 127.0.0.1: pinning the address
    # must not turn off the host name check.
    stored_subscription(org, f"https://127.0.0.1:{port}/hooks")
    delivery = delivered_once(org)
    assert delivery.status == "pending"
    assert delivery.last_error == "connection failed"


# --- the address rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.251", "multicast"),
        ("ff05::2", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("fc00::1", "private"),
        ("fec0::1", "site-local"),
        ("192.0.0.8", "special-purpose"),
        ("198.18.0.1", "private"),
        ("::ffff:127.0.0.1", "embeds a loopback IPv4 address"),
        ("::ffff:169.254.169.254", "embeds a link-local IPv4 address"),
        ("2002:c0a8:101::1", "embeds a private IPv4 address"),
        ("64:ff9b::7f00:1", "embeds a loopback IPv4 address"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("::10.0.0.1", "IPv4-compatible"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),  # mapped public address
        ("64:ff9b::808:808", None),  # NAT64 to a public address
        ("2002:808:808::1", None),  # 6to4 around a public address
    ],
)
def test_the_address_rule(address: str, reason: str | None) -> None:
    from tickets.outbound import forbidden_reason

    assert forbidden_reason(address) == reason


def test_allowed_networks_cover_mapped_forms_of_their_addresses(
    settings: Any,
) -> None:
    from tickets.outbound import forbidden_reason

    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert forbidden_reason("10.20.1.2") is None
    assert forbidden_reason("::ffff:10.20.1.2") is None
    assert forbidden_reason("10.21.0.1") == "private"
