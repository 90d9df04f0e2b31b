"""Email in, through the one service (``tickets.mail.inbound.receive``):
new messages open tickets, replies thread into theirs, and what is not a
customer writing to us is recorded and turned into nothing."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.core import mail

from tests import helpers
from tests.tickets import mail_samples as samples
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import MAX_TEXT, Status
from tickets.mail import inbound, threading
from tickets.models import (
    Attachment,
    EmailNotification,
    InboundEmail,
    MailThread,
    TicketSummary,
)

Outcome = InboundEmail.Outcome

mail_settings = samples.mail_settings
pytestmark = pytest.mark.usefixtures("mail_settings")
receive = samples.receive
event_names = samples.event_names
assert_no_ticket = samples.assert_no_ticket
open_by_email = samples.open_by_email


# -- a new message ----------------------------------------------------------------


def test_a_new_message_opens_a_ticket_on_the_front_line(
    org: helpers.Org, _attachment_storage: Path
) -> None:
    msg = samples.message()
    record = receive(samples.raw(msg))

    assert record.outcome == Outcome.OPENED
    assert record.message_id == msg["Message-ID"]
    assert (record.sender, record.sender_name) == (samples.CUSTOMER, "Dana Customer")
    assert record.subject == "My refund has not arrived"
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.subject == "My refund has not arrived"
    assert ticket.description == "I returned the parcel two weeks ago.\nOrder 4711."
    assert ticket.channel == "email"
    assert ticket.customer_ref == ticket.customer_contact == samples.CUSTOMER
    assert ticket.customer_name == "Dana Customer"
    assert ticket.owner == "CS"
    assert ticket.scenario == ""
    opened = helpers.stored_events(record.ticket_id)[0]
    assert (opened.actor.kind, opened.actor.name) == ("system", "Email")
    assert TicketSummary.objects.get(pk=record.ticket_id).channel == "email"
    # Our answers thread under the customer's own message.
    thread = MailThread.objects.get(ticket_id=record.ticket_id)
    assert thread.root_message_id == msg["Message-ID"]
    # The raw message is kept.
    assert (_attachment_storage / record.raw_name).read_bytes() == samples.raw(msg)


def test_the_configured_front_line_opens_email_tickets(
    org: helpers.Org, settings: Any
) -> None:
    from departments.models import Department

    Department.objects.create(
        code="CS2", name="Second line", kind=Department.Kind.FRONT_LINE
    )
    settings.BATON_MAIL_FRONT_LINE = "cs2"
    record = receive(samples.raw(samples.message()))
    assert record.outcome == Outcome.OPENED
    assert get_tickets_application().get_ticket(record.ticket_id).owner == "CS2"


def test_a_refusal_by_the_ticket_rules_is_recorded_as_refused(
    org: helpers.Org, settings: Any
) -> None:
    settings.BATON_MAIL_FRONT_LINE = "NOPE"
    record = receive(samples.raw(samples.message()))
    assert_no_ticket(record, Outcome.REFUSED)
    assert record.detail.startswith("unknown_department: ")
    assert record.raw_name


def test_an_html_only_message_becomes_readable_text(org: helpers.Org) -> None:
    html = (
        "<html><head><style>p {color: red}</style><title>Mail</title></head>"
        "<body><p>Hello,</p><p>my order <a href='https://shop.example/o/4711'>"
        "4711</a> is late.<br>Please help.</p><ul><li>Jacket</li><li>Scarf</li>"
        "</ul><script>alert('x')</script></body></html>"
    )
    record = receive(samples.raw(samples.message(text=None, html=html)))
    assert record.outcome == Outcome.OPENED
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.description == (
        "Hello,\n\nmy order 4711 (https://shop.example/o/4711) is late.\n"
        "Please help.\n\n- Jacket\n- Scarf"
    )
    assert "only HTML" in record.detail


def test_the_plain_text_version_is_preferred(org: helpers.Org) -> None:
    msg = samples.message(text="Plain words.", html="<p>HTML <b>words</b>.</p>")
    record = receive(samples.raw(msg))
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.description == "Plain words."


def test_a_long_message_is_shortened_with_a_note(org: helpers.Org) -> None:
    record = receive(samples.raw(samples.message(text="word " * 5000)))
    description = get_tickets_application().get_ticket(record.ticket_id).description
    assert len(description) <= MAX_TEXT
    assert description.endswith(inbound.SHORTENED)


def test_a_message_without_subject_gets_one(org: helpers.Org) -> None:
    record = receive(samples.raw(samples.message(subject="")))
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.subject == "(no subject)"


# -- the same message twice ------------------------------------------------------


def test_the_same_message_id_twice_stores_one_event(org: helpers.Org) -> None:
    raw = samples.raw(samples.message())
    first = receive(raw)
    again = receive(raw)
    assert again.pk == first.pk
    assert InboundEmail.objects.count() == 1
    assert helpers.event_count() == 1
    assert TicketSummary.objects.count() == 1


def test_a_message_without_message_id_is_still_recognised(org: helpers.Org) -> None:
    msg = samples.message()
    del msg["Message-ID"]
    raw = samples.raw(msg)
    first = receive(raw)
    assert first.message_id == (
        f"<{hashlib.sha256(raw).hexdigest()}@{inbound.SYNTHETIC_DOMAIN}>"
    )
    assert receive(raw).pk == first.pk
    assert helpers.event_count() == 1
    # No made-up Message-ID becomes the thread's root.
    thread = MailThread.objects.get(ticket_id=first.ticket_id)
    assert not thread.root_message_id.endswith(f"@{inbound.SYNTHETIC_DOMAIN}>")


def test_another_senders_message_with_a_taken_message_id_is_not_dropped(
    org: helpers.Org,
) -> None:
    first = receive(samples.raw(samples.message(message_id="<same@example.org>")))
    other = samples.message(
        message_id="<same@example.org>", sender="mallory@example.net"
    )
    second = receive(samples.raw(other))
    assert second.pk != first.pk
    assert second.outcome == Outcome.OPENED
    assert second.ticket_id != first.ticket_id
    assert "also another sender's" in second.detail


def test_a_message_left_received_runs_again_without_a_second_event(
    org: helpers.Org,
) -> None:
    raw = samples.raw(samples.message())
    first = receive(raw)
    # The process died after the ticket was opened, before its outcome.
    InboundEmail.objects.filter(pk=first.pk).update(outcome=Outcome.RECEIVED)
    again = receive(raw)
    assert (again.outcome, again.ticket_id) == (Outcome.OPENED, first.ticket_id)
    assert helpers.event_count() == 1


def test_a_failure_after_the_event_was_stored_is_retried_once(
    org: helpers.Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_files = inbound._with_files

    def crash(*args: Any, **kwargs: Any) -> Any:
        with_files(*args, **kwargs)  # the ticket is opened ...
        raise RuntimeError("the database went away")  # ... and then

    monkeypatch.setattr(inbound, "_with_files", crash)
    raw = samples.raw(
        samples.message(files=[("receipt.pdf", "application/pdf", samples.PDF)])
    )
    failed = receive(raw)
    assert failed.outcome == Outcome.FAILED
    assert "RuntimeError" in failed.detail
    assert helpers.event_count() == 1  # opened, then the crash

    monkeypatch.setattr(inbound, "_with_files", with_files)
    retried = receive(raw)
    assert retried.pk == failed.pk
    assert retried.outcome == Outcome.OPENED
    assert helpers.event_count() == 1
    assert event_names(retried.ticket_id) == ["Opened"]
    assert MailThread.objects.filter(ticket_id=retried.ticket_id).exists()
    # The retry's copy of the file was dropped: the event has the first.
    assert Attachment.objects.count() == 1
    assert Attachment.objects.get().ticket_id == retried.ticket_id


# -- replies ---------------------------------------------------------------------


def test_a_reply_to_the_reply_address_ends_the_wait(org: helpers.Org) -> None:
    record, thread = open_by_email()
    services.ticket_wait_on_customer(
        principal=org.agent("CS"), ticket_id=record.ticket_id, reason="Tracking no."
    )
    reply = samples.message(
        subject="Re: My refund has not arrived",
        text="The tracking number is 123.\n\nOn Mon, 2 Mar 2026 at 10:00, Baton "
        "wrote:\n> We are waiting for the tracking number.",
        to=threading.reply_address(thread),
    )
    replied = receive(samples.raw(reply), envelope_to=[threading.reply_address(thread)])

    assert (replied.outcome, replied.ticket_id) == (Outcome.REPLIED, record.ticket_id)
    event = helpers.stored_events(record.ticket_id)[-2]
    assert type(event).__name__ == "CustomerReplied"
    assert event.body == "The tracking number is 123."
    assert (event.actor.kind, event.actor.name) == ("customer", "Dana Customer")
    assert event_names(record.ticket_id)[-1] == "WaitingEnded"
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.status == Status.OPEN


def notification(
    ticket_id: UUID,
    *,
    audience: str = EmailNotification.Audience.CUSTOMER,
    recipient: str = "ola@example.org",
) -> str:
    """A notification about the ticket in the outbox; its Message-ID."""
    message_id = threading.new_message_id()
    EmailNotification.objects.create(
        position=EmailNotification.objects.count() + 1,
        kind="responded" if audience == EmailNotification.Audience.CUSTOMER else "x",
        recipient=recipient,
        audience=audience,
        ticket_id=ticket_id,
        message_id=message_id,
        subject="Your ticket",
        text="We answered.",
        next_attempt_at="2026-03-02T09:00Z",
        created_at="2026-03-02T09:00Z",
    )
    return message_id


def test_a_reply_to_a_notification_threads_by_in_reply_to(org: helpers.Org) -> None:
    ticket_id = helpers.open_ticket(
        org, customer_ref="C-9", customer_name="Ola", customer_contact="Ola@Example.org"
    )
    notification_id = notification(ticket_id)
    reply = samples.message(
        subject="Re: Your ticket",
        text="Thank you!",
        sender="Ola N. <ola@example.org>",
        in_reply_to=notification_id,
        references=f"<root@example.org> {notification_id}",
    )
    record = receive(samples.raw(reply))
    assert (record.outcome, record.ticket_id) == (Outcome.REPLIED, ticket_id)
    event = helpers.stored_events(ticket_id)[-1]
    assert (type(event).__name__, event.body) == ("CustomerReplied", "Thank you!")
    # The ticket's customer (its contact, whatever the case): as themselves.
    assert (event.actor.kind, event.actor.id, event.actor.name) == (
        "customer",
        "C-9",
        "Ola",
    )
    assert "not" not in record.detail.splitlines()[0]


def test_a_stranger_with_only_message_ids_opens_a_ticket_of_their_own(
    org: helpers.Org, _attachment_storage: Path
) -> None:
    """Message-IDs are no secret: the customer's own (the ticket's root),
    a notification's, or one of the customer's later messages reach
    everyone in Cc. Anyone else referring to them gets a ticket of their
    own; the customer's ticket is not touched."""
    record, _ = open_by_email()
    helpers.open_ticket(org)  # another ticket, for the event count
    reply = receive(
        samples.raw(
            samples.message(
                subject="Re: refund", text="Any news?", in_reply_to=record.message_id
            )
        )
    )
    assert reply.outcome == Outcome.REPLIED
    notified = notification(record.ticket_id, recipient=samples.CUSTOMER)
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=record.ticket_id,
        resolution="Refund issued",
        root_cause="process",
    )
    before = event_names(record.ticket_id)
    count = helpers.event_count()
    for references in (record.message_id, notified, reply.message_id):
        stranger = samples.message(
            subject="Re: My refund has not arrived",
            text="Please send the money to my account instead.",
            sender="Mallory <Mallory@Example.net>",
            in_reply_to=references,
            references=references,
            files=[("invoice.pdf", "application/pdf", samples.PDF)],
        )
        other = receive(samples.raw(stranger))
        assert other.outcome == Outcome.OPENED
        assert other.ticket_id not in (None, record.ticket_id)
        if references != reply.message_id:  # the customer's own: not looked up
            assert f"refers to messages of ticket {record.ticket_id}" in other.detail
        ticket = get_tickets_application().get_ticket(other.ticket_id)
        assert ticket.customer_contact == "mallory@example.net"
        count += 1
    # Still resolved: no reopen, no reply, no file on the customer's ticket.
    assert event_names(record.ticket_id) == before
    assert helpers.event_count() == count
    assert not Attachment.objects.filter(ticket_id=record.ticket_id).exists()


def test_a_stranger_writing_to_the_reply_address_is_named_as_the_author(
    org: helpers.Org,
) -> None:
    """The reply address is a capability only the customer was sent: a
    message to it is taken from anyone (a colleague the customer forwarded
    it to), as the sender's, never as the customer's."""
    record, thread = open_by_email()
    address = threading.reply_address(thread)
    colleague = samples.message(
        subject="Re: refund",
        text="I am Dana's colleague: the parcel number is 42.",
        sender="Sam Colleague <sam@example.org>",
        to=address,
    )
    replied = receive(samples.raw(colleague), envelope_to=[address])
    assert (replied.outcome, replied.ticket_id) == (Outcome.REPLIED, record.ticket_id)
    event = helpers.stored_events(record.ticket_id)[-1]
    assert type(event).__name__ == "CustomerReplied"
    assert (event.actor.kind, event.actor.id, event.actor.name) == (
        "customer",
        "sam@example.org",
        "Sam Colleague",
    )
    assert (
        f"not by its customer ({samples.CUSTOMER}): posted as sam@example.org's "
        "message, not the customer's." in replied.detail
    )
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert (ticket.customer_ref, ticket.customer_name) == (
        samples.CUSTOMER,
        "Dana Customer",
    )


# -- replies from staff -------------------------------------------------------------


def assert_staff_reply(record: InboundEmail, ticket_id: UUID, names: list[str]) -> None:
    assert (record.outcome, record.ticket_id) == (Outcome.STAFF_REPLY, ticket_id)
    assert record.get_outcome_display() == "Not posted: a reply from staff"
    assert "never posted as the customer's message" in record.detail
    assert f"/admin/tickets/queueticket/{ticket_id}/change/" in record.detail
    assert event_names(ticket_id) == names


def test_a_reply_to_a_staff_notification_is_never_the_customers(
    org: helpers.Org,
) -> None:
    """A department's mailbox answers "a ticket was handed to your
    department" (which refers to the ticket's root): not posted, whoever
    sent it (also from an address Baton does not know as staff)."""
    record, thread = open_by_email()
    staff_id = notification(
        record.ticket_id,
        audience=EmailNotification.Audience.STAFF,
        recipient="finance@example.com",
    )
    names = event_names(record.ticket_id)
    for sender in ("Finance <finance@example.com>", "Pat <pat.home@example.net>"):
        answer = samples.message(
            subject="Re: [Baton] Handed to Finance",
            text="We are on it.",
            sender=sender,
            in_reply_to=staff_id,
            references=f"{thread.root_message_id} {staff_id}",
        )
        assert_staff_reply(receive(samples.raw(answer)), record.ticket_id, names)
    # Even from the customer's own address.
    answer = samples.message(text="Forwarded to me.", in_reply_to=staff_id)
    assert_staff_reply(receive(samples.raw(answer)), record.ticket_id, names)


@pytest.mark.parametrize("who", ["agent", "department"])
def test_mail_from_a_staff_address_is_never_the_customers(
    org: helpers.Org, who: str
) -> None:
    """Staff who reply to the customer's email (Cc'd on it) or to its
    reply address: recorded for the ticket, not posted as the customer."""
    from departments.models import Department

    record, thread = open_by_email()
    Department.objects.filter(code="FIN").update(email="Finance@Example.com")
    sender = "cs_agent@example.com" if who == "agent" else "finance@example.com"
    names = event_names(record.ticket_id)
    by_message_id = samples.message(
        text="Dana, we refunded you.", sender=sender, in_reply_to=record.message_id
    )
    assert_staff_reply(receive(samples.raw(by_message_id)), record.ticket_id, names)
    by_key = samples.message(
        text="Dana, we refunded you.",
        sender=sender.upper(),
        to=threading.reply_address(thread),
    )
    assert_staff_reply(receive(samples.raw(by_key)), record.ticket_id, names)
    assert event_names(record.ticket_id) == names


def test_a_staff_member_who_is_the_customer_replies_as_the_customer(
    org: helpers.Org,
) -> None:
    record, thread = open_by_email(sender="CS Agent <cs_agent@example.com>")
    reply = samples.message(
        text="Any news?",
        sender="cs_agent@example.com",
        to=threading.reply_address(thread),
    )
    replied = receive(samples.raw(reply))
    assert (replied.outcome, replied.ticket_id) == (Outcome.REPLIED, record.ticket_id)
    assert event_names(record.ticket_id)[-1] == "CustomerReplied"


def test_a_reply_left_failed_runs_again_without_a_second_event(
    org: helpers.Org,
) -> None:
    record, thread = open_by_email()
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=record.ticket_id,
        resolution="Refund issued",
        root_cause="process",
    )
    reply = samples.raw(
        samples.message(text="Still missing.", to=threading.reply_address(thread))
    )
    first = receive(reply)
    assert first.outcome == Outcome.REOPENED
    names = event_names(record.ticket_id)
    # Died after storing the reopen and the reply, before saving the outcome.
    InboundEmail.objects.filter(pk=first.pk).update(outcome=Outcome.FAILED)
    again = receive(reply)
    assert again.outcome == Outcome.REPLIED  # the ticket is open by now
    assert event_names(record.ticket_id) == names
    assert names.count("CustomerReplied") == names.count("Reopened") == 1


def test_a_guessed_reply_key_opens_a_new_ticket(org: helpers.Org) -> None:
    record, _ = open_by_email()
    guess = f"help+{'a' * 16}@{samples.DOMAIN}"
    other = receive(samples.raw(samples.message(to=guess)), envelope_to=[guess])
    assert other.outcome == Outcome.OPENED
    assert other.ticket_id != record.ticket_id


def test_a_reply_to_a_resolved_ticket_reopens_it(org: helpers.Org) -> None:
    record, _ = open_by_email()
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=record.ticket_id,
        resolution="Refund issued",
        root_cause="process",
    )
    reply = samples.message(
        subject="Re: refund",
        text="It still has not arrived.",
        in_reply_to=record.message_id,
    )
    reopened = receive(samples.raw(reply))
    assert (reopened.outcome, reopened.ticket_id) == (
        Outcome.REOPENED,
        record.ticket_id,
    )
    names = event_names(record.ticket_id)
    assert names.index("Reopened") < names.index("CustomerReplied")
    events = helpers.stored_events(record.ticket_id)
    assert next(e for e in events if type(e).__name__ == "Reopened").reason == (
        "It still has not arrived."
    )
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.status == Status.OPEN


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(org: helpers.Org) -> None:
    record, thread = open_by_email()
    agent = org.agent("CS")
    services.ticket_resolve(
        principal=agent,
        ticket_id=record.ticket_id,
        resolution="Refund issued",
        root_cause="process",
    )
    services.ticket_close(principal=agent, ticket_id=record.ticket_id)
    count = helpers.event_count()
    reply = samples.message(subject="Re: refund", text="One more question.")
    follow_up = receive(
        samples.raw(reply), envelope_to=[threading.reply_address(thread)]
    )
    assert follow_up.outcome == Outcome.FOLLOW_UP
    assert follow_up.ticket_id not in (None, record.ticket_id)
    assert event_names(record.ticket_id)[-1] == "Closed"
    ticket = get_tickets_application().get_ticket(follow_up.ticket_id)
    assert ticket.description == (
        f'Follow-up of the closed ticket "My refund has not arrived" '
        f"({record.ticket_id}).\n\nOne more question."
    )
    assert ticket.customer_ref == samples.CUSTOMER
    assert helpers.event_count() > count


# -- the admin -------------------------------------------------------------------


def test_the_admin_lists_inbound_email_through_the_visibility_rule(
    org: helpers.Org, client: Any, admin_user: Any
) -> None:
    opened = receive(samples.raw(samples.message()))
    ignored = receive(samples.raw(samples.out_of_office(**{"Precedence": "junk"})))
    url = "/admin/tickets/inboundemail/"

    client.force_login(admin_user)
    page = client.get(url)
    assert {r.pk for r in page.context["cl"].result_list} == {opened.pk, ignored.pk}
    page = client.get(url, {"outcome__exact": "auto_reply"})
    assert [r.pk for r in page.context["cl"].result_list] == [ignored.pk]
    detail = client.get(f"{url}{opened.pk}/change/")
    assert detail.status_code == 200
    ticket_page = f"/admin/tickets/queueticket/{opened.ticket_id}/change/"
    assert ticket_page in detail.content.decode()

    # Staff given the permission see the mail of the tickets they may see,
    # not mail that became no ticket.
    from django.contrib.auth.models import Permission

    view = Permission.objects.get(codename="view_inboundemail")
    for code in ("CS", "FIN"):
        org.agents[code].user_permissions.add(view)
    client.force_login(org.agents["CS"])
    page = client.get(url)
    assert [r.pk for r in page.context["cl"].result_list] == [opened.pk]
    assert client.get(f"{url}{ignored.pk}/change/").status_code == 404
    assert client.get(f"{url}{opened.pk}/change/").status_code == 200
    client.force_login(org.agents["FIN"])
    assert list(client.get(url).context["cl"].result_list) == []


# -- the thread, follow-ups, limits ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_acknowledgement_threads_under_the_customers_message(
    org: helpers.Org,
) -> None:
    """The acknowledgement is sent as soon as the open commits (here
    synchronously, before ``receive`` goes on: real commits, Q_SYNC); the
    thread exists by then, rooted at the customer's own Message-ID."""
    msg = samples.message()
    record = receive(samples.raw(msg))
    assert record.outcome == Outcome.OPENED
    thread = MailThread.objects.get(ticket_id=record.ticket_id)
    assert thread.root_message_id == msg["Message-ID"]
    [ack] = mail.outbox
    assert ack.to == [samples.CUSTOMER]
    assert ack.extra_headers["In-Reply-To"] == msg["Message-ID"]
    assert ack.extra_headers["References"] == msg["Message-ID"]
    assert ack.reply_to == [threading.reply_address(thread)]


def test_a_refused_open_leaves_no_thread(org: helpers.Org, settings: Any) -> None:
    settings.BATON_MAIL_FRONT_LINE = "NOPE"
    record = receive(samples.raw(samples.message()))
    assert record.outcome == Outcome.REFUSED
    assert not MailThread.objects.exists()


def test_a_follow_up_by_the_customer_keeps_the_customer(org: helpers.Org) -> None:
    ticket_id = helpers.open_ticket(
        org,
        customer_ref="CUST-7",
        customer_name="Dana Customer",
        customer_contact="Dana@Example.org",
        customer_timezone="Europe/Paris",
    )
    agent = org.agent("CS")
    services.ticket_resolve(
        principal=agent, ticket_id=ticket_id, resolution="Done", root_cause="process"
    )
    services.ticket_close(principal=agent, ticket_id=ticket_id)
    root = threading.thread_for(ticket_id).root_message_id
    reply = samples.message(
        subject="Re: Refund not received",
        text="It happened again.",
        sender="D. <dana@example.org>",
        in_reply_to=root,
    )
    follow_up = receive(samples.raw(reply))
    assert follow_up.outcome == Outcome.FOLLOW_UP
    ticket = get_tickets_application().get_ticket(follow_up.ticket_id)
    assert (
        ticket.customer_ref,
        ticket.customer_name,
        ticket.customer_contact,
        ticket.customer_timezone,
    ) == ("CUST-7", "Dana Customer", "Dana@Example.org", "Europe/Paris")
    # Its own thread, under the follow-up message.
    thread = MailThread.objects.get(ticket_id=follow_up.ticket_id)
    assert thread.root_message_id == reply["Message-ID"]


def test_a_follow_up_by_someone_else_is_theirs(org: helpers.Org) -> None:
    record, thread = open_by_email()
    agent = org.agent("CS")
    services.ticket_resolve(
        principal=agent,
        ticket_id=record.ticket_id,
        resolution="Done",
        root_cause="process",
    )
    services.ticket_close(principal=agent, ticket_id=record.ticket_id)
    address = threading.reply_address(thread)
    colleague = samples.message(
        text="Me too.", sender="Sam <sam@example.org>", to=address
    )
    follow_up = receive(samples.raw(colleague))
    assert follow_up.outcome == Outcome.FOLLOW_UP
    ticket = get_tickets_application().get_ticket(follow_up.ticket_id)
    assert (ticket.customer_ref, ticket.customer_name, ticket.customer_contact) == (
        "sam@example.org",
        "Sam",
        "sam@example.org",
    )
    assert "the follow-up is the sender's" in follow_up.detail


def test_tickets_opened_by_email_are_limited_per_sender_and_hour(
    org: helpers.Org, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.BATON_MAIL_OPENS_PER_HOUR = 2
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with (
        time_machine.travel(start, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        first, second, third = (
            receive(samples.raw(samples.message(subject=f"Problem {n}")))
            for n in range(3)
        )
        other = receive(samples.raw(samples.message(sender="ola@example.org")))
    assert [first.outcome, second.outcome, other.outcome] == [Outcome.OPENED] * 3
    assert third.outcome == Outcome.REFUSED
    assert third.ticket_id is None
    assert (
        f"Not opened: {samples.CUSTOMER} has opened 2 tickets by email in the "
        "last hour, the most allowed (BATON_MAIL_OPENS_PER_HOUR = 2)."
    ) in third.detail
    assert third.raw_name
    assert helpers.event_count() == 3
    assert TicketSummary.objects.count() == 3
    # No acknowledgement for the refused one.
    assert sorted(m.to[0] for m in mail.outbox) == [
        samples.CUSTOMER,
        samples.CUSTOMER,
        "ola@example.org",
    ]
    assert not MailThread.objects.filter(root_message_id=third.message_id).exists()
    # Replies are not limited; an hour later, opening works again.
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        reply = receive(
            samples.raw(samples.message(text="More.", in_reply_to=first.message_id))
        )
    assert reply.outcome == Outcome.REPLIED
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        later = receive(samples.raw(samples.message(subject="Problem 4")))
    assert later.outcome == Outcome.OPENED


def test_housekeeping_deletes_raw_messages_past_their_days(
    org: helpers.Org, settings: Any, _attachment_storage: Path
) -> None:
    from tickets.tasks import housekeeping

    settings.BATON_MAIL_RAW_DAYS = 90
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        old = receive(samples.raw(samples.message()))
    with time_machine.travel(start + timedelta(days=80), tick=False):
        recent = receive(samples.raw(samples.message(subject="Later")))
    with time_machine.travel(start + timedelta(days=89), tick=False):
        assert housekeeping()["inbound_raw_purged"] == 0
    with time_machine.travel(start + timedelta(days=91), tick=False):
        assert housekeeping()["inbound_raw_purged"] == 1
        assert housekeeping()["inbound_raw_purged"] == 0
    old_name = old.raw_name
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.raw_name == "" and not (_attachment_storage / old_name).exists()
    # The record stays, with what became of it.
    assert (old.outcome, old.sender, old.subject) == (
        Outcome.OPENED,
        samples.CUSTOMER,
        "My refund has not arrived",
    )
    assert old.ticket_id is not None
    assert (_attachment_storage / recent.raw_name).is_file()
    # 0 keeps them for ever.
    settings.BATON_MAIL_RAW_DAYS = 0
    with time_machine.travel(start + timedelta(days=1000), tick=False):
        assert housekeeping()["inbound_raw_purged"] == 0
    assert (_attachment_storage / recent.raw_name).is_file()
