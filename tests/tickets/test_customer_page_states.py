"""The customer's page by state (with a department, waiting on them,
resolved, closed, abandoned), the ratings it asks for (once per department
that worked on the ticket, not for quick forwards), its accessible forms,
and its language (the ticket's, or the one picked with the switcher)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from tests.helpers import Org, event_count
from tickets import clock, services
from tickets.application import get_tickets_application
from tickets.customer import customer_view, merely_forwarded
from tickets.models import Handoff, TicketSummary, TimelineEntry
from tickets.projections.timeline import entry_text, translated_text

MON_0200 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 03:00 in Paris


@pytest.fixture(autouse=True)
def _no_language_left_active() -> Iterator[None]:
    """A request's LocaleMiddleware leaves its language active in the
    thread (the test client runs requests in it): end each test in the
    default language, so no test sees another's."""
    yield
    translation.deactivate()


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(MON_0200, tick=False) as traveller:
        yield traveller


def ticket_with_link(org: Org, **fields: Any) -> tuple[UUID, str]:
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject=fields.pop("subject", "Refund not received"),
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone="Europe/Paris",
        channel="web",
        **fields,
    )
    return result.ticket_id, result.detail["customer_token"]


def hand(org: Org, tid: UUID, source: str, target: str) -> None:
    services.ticket_hand_off(
        principal=org.agent(source), ticket_id=tid, to_department=target, reason="r"
    )


def page(token: str, client: Client | None = None, **headers: Any) -> str:
    response = (client or Client()).get(f"/t/{token}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.DOTALL)
    assert found is not None, element_id
    return " ".join(found.group(1).split())


# --- wording by state ------------------------------------------------------


def test_with_a_department_the_page_says_who_has_it_and_since_when(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    frozen.move_to(MON_0200 + timedelta(minutes=30))
    hand(org, tid, "CS", "FIN")
    html = page(token)
    assert text_of(html, "status") == "Status: In progress"
    assert "Finance has had your request since Monday 03:30." in html
    assert "Times are shown in Europe/Paris." in html


def test_waiting_says_what_we_need_from_the_customer(org: Org, frozen: Any) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_wait_on_customer(
        principal=org.agent("CS"), ticket_id=tid, request="a photo of the receipt"
    )
    html = page(token)
    assert text_of(html, "status") == "Status: Waiting for you"
    assert text_of(html, "promise") == (
        "Customer Service needs from you: a photo of the receipt (asked Monday 03:00)."
    )
    assert "has had your request since" not in html
    assert 'id="reply"' in html


def test_a_resolved_ticket_says_when_and_by_whom_not_who_has_it(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    hand(org, tid, "CS", "FIN")
    frozen.move_to(MON_0200 + timedelta(hours=2))
    services.ticket_resolve(
        principal=org.agent("FIN"),
        ticket_id=tid,
        resolution="Paid",
        root_cause="process",
    )
    html = page(token)
    assert text_of(html, "status") == "Status: Resolved"
    assert text_of(html, "promise") == "Resolved on Monday 05:00, by Finance."
    assert "has had your request" not in html and "has your request" not in html
    assert "will reply by" not in html


def test_closed_and_abandoned_tickets_are_worded_as_such(org: Org, frozen: Any) -> None:
    resolved_tid, resolved = ticket_with_link(org)
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=resolved_tid,
        resolution="Paid",
        root_cause="process",
    )
    frozen.move_to(MON_0200 + timedelta(days=1))
    services.ticket_command("close", principal=org.agent("CS"), ticket_id=resolved_tid)
    assert text_of(page(resolved), "promise") == "Resolved and closed on Tuesday 03:00."

    waiting_tid, waiting = ticket_with_link(org, subject="Photos")
    services.ticket_wait_on_customer(principal=org.agent("CS"), ticket_id=waiting_tid)
    frozen.move_to(MON_0200 + timedelta(days=2))
    result = get_tickets_application().abandon(waiting_tid, at=clock.now())
    services.project_inline(result)
    html = page(waiting)
    assert text_of(html, "status") == "Status: Closed"
    assert text_of(html, "promise") == (
        "Closed on Wednesday 03:00: we did not hear back from you."
    )
    assert 'id="reply"' not in html and "has had your request" not in html


# --- what the customer is asked to rate ------------------------------------


def _questions(token: str) -> list[dict[str, Any]]:
    view = APIClient().get(f"/api/v1/public/timeline/{token}/").json()
    return list(view["rating_questions"])


def test_a_ping_pong_asks_once_per_department_that_worked_and_skips_forwards(
    org: Org, frozen: Any
) -> None:
    """CS forwards at once to FIN; FIN works 2 h and hands to LOG; LOG sends
    it straight back (a 1-minute forward); FIN replies and resolves. Four
    stints, one question: Finance, about its last stint (CS and LOG only
    forwarded it)."""
    tid, token = ticket_with_link(org)
    frozen.move_to(MON_0200 + timedelta(minutes=5))
    hand(org, tid, "CS", "FIN")
    frozen.move_to(MON_0200 + timedelta(hours=2))
    hand(org, tid, "FIN", "LOG")
    frozen.move_to(MON_0200 + timedelta(hours=2, minutes=1))
    hand(org, tid, "LOG", "FIN")
    frozen.move_to(MON_0200 + timedelta(hours=3))
    services.ticket_respond(principal=org.agent("FIN"), ticket_id=tid, body="Paid")
    services.ticket_resolve(
        principal=org.agent("FIN"),
        ticket_id=tid,
        resolution="Paid",
        root_cause="process",
    )
    stints = list(Handoff.objects.filter(ticket_id=tid).order_by("started_position"))
    assert [s.department for s in stints] == ["CS", "FIN", "LOG", "FIN"]
    questions = _questions(token)
    assert [(q["department"], q["can_rate"]) for q in questions] == [("Finance", True)]
    assert questions[0]["handoff_id"] == str(stints[-1].id)  # FIN's last stint

    html = page(token)
    assert html.count('class="rate"') == 1  # one department, no stint forms
    assert "How did Finance do?" in html and "How did Customer Service do?" not in html

    # Rated once, it is not asked again; the rating is shown instead.
    response = Client().post(
        f"/t/{token}/",
        {"action": "rate", "handoff_id": str(stints[-1].id), "score": "4"},
    )
    assert response.status_code == 302
    [question] = _questions(token)
    assert question["rating"] == {"score": 4, "comment": ""}
    assert question["can_rate"] is False
    html = page(token)
    assert "How did Finance do?" not in html
    assert "You rated Finance 4 out of 5" in html


def test_a_department_that_wrote_to_the_customer_or_took_time_is_asked(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_respond(principal=org.agent("CS"), ticket_id=tid, body="On it")
    hand(org, tid, "CS", "FIN")  # at once, but CS wrote to the customer
    frozen.move_to(MON_0200 + timedelta(minutes=20))
    hand(org, tid, "FIN", "LOG")  # silent, but 20 minutes: work
    frozen.move_to(MON_0200 + timedelta(minutes=21))
    hand(org, tid, "LOG", "RISK")  # silent and quick: a forward
    assert [(q["department"], q["can_rate"]) for q in _questions(token)] == [
        ("Customer Service", True),
        ("Finance", True),
    ]  # RISK still has it: asked once it is done


@pytest.mark.parametrize(
    ("minutes", "outcome", "responded", "forwarded"),
    [
        (0, "handed_on", False, True),
        (14, "handed_on", False, True),
        (15, "handed_on", False, False),
        (1, "handed_on", True, False),
        (1, "resolved", False, False),
        (None, "", False, False),
    ],
)
def test_the_forwarding_rule(
    minutes: int | None, outcome: str, responded: bool, forwarded: bool
) -> None:
    started = MON_0200
    stint = Handoff(
        started_at=started,
        ended_at=None if minutes is None else started + timedelta(minutes=minutes),
        outcome=outcome,
        first_response_at=started if responded else None,
    )
    assert merely_forwarded(stint, wrote_to_customer=False) is forwarded
    assert merely_forwarded(stint, wrote_to_customer=True) is False


def test_a_refused_rating_from_the_page_stores_nothing_and_says_why(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_respond(principal=org.agent("CS"), ticket_id=tid, body="Hello")
    hand(org, tid, "CS", "FIN")
    [question] = _questions(token)
    before = event_count()
    response = Client().post(
        f"/t/{token}/",
        {"action": "rate", "handoff_id": question["handoff_id"], "score": "9"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert" id="error"' in html and 'aria-describedby="error"' in html
    assert event_count() == before


# --- accessible forms --------------------------------------------------------


class _Forms(HTMLParser):
    """Collects each rating fieldset's legend and radio labels, and which
    inputs a label names."""

    def __init__(self) -> None:
        super().__init__()
        self.fieldsets: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.label_for: list[str] = []
        self._in_legend = False
        self._in_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "fieldset":
            self.fieldsets.append({"legend": "", "radios": 0, "labelled": 0})
        elif tag == "legend":
            self._in_legend = True
        elif tag == "label":
            self._in_label = True
            if values.get("for"):
                self.label_for.append(str(values["for"]))
        elif tag == "input" and values.get("type") == "radio":
            self.fieldsets[-1]["radios"] += 1
            self.fieldsets[-1]["labelled"] += self._in_label

    def handle_endtag(self, tag: str) -> None:
        if tag == "legend":
            self._in_legend = False
        elif tag == "label":
            self._in_label = False

    def handle_data(self, data: str) -> None:
        if self._in_legend:
            self.fieldsets[-1]["legend"] += data


def test_each_rating_is_a_fieldset_whose_legend_asks_the_question(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_respond(principal=org.agent("CS"), ticket_id=tid, body="Hello")
    services.ticket_resolve(
        principal=org.agent("CS"), ticket_id=tid, resolution="Done", root_cause="other"
    )
    forms = _Forms()
    forms.feed(page(token))
    assert [f["legend"].strip() for f in forms.fieldsets] == [
        "How did Customer Service do?",
        "How was the whole experience?",
    ]
    assert all(f["radios"] == f["labelled"] == 5 for f in forms.fieldsets)
    assert forms.label_for and set(forms.label_for) <= forms.ids


# --- language ----------------------------------------------------------------


def test_the_page_speaks_the_tickets_language(org: Org, frozen: Any) -> None:
    tid, token = ticket_with_link(org, language="zh-hans")
    services.ticket_respond(principal=org.agent("CS"), ticket_id=tid, body="您好")
    hand(org, tid, "CS", "FIN")
    response = Client().get(f"/t/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert response["Content-Language"] == "zh-hans"
    assert "星期一" in html  # Monday, in the customer's Chinese
    with translation.override("zh-hans"):
        view = customer_view(TicketSummary.objects.get(pk=tid))
    assert text_of(html, "promise") == view["promise"]
    assert "Finance" in view["promise"] and "星期一" in view["promise"]
    assert 'value="zh-hans" lang="zh-hans" aria-current="true"' in html

    english = Client().get(f"/t/{ticket_with_link(org)[1]}/")
    assert '<html lang="en">' in english.content.decode()
    assert english["Content-Language"] == "en"


def test_the_switcher_overrides_the_tickets_language_on_that_browser(
    org: Org, frozen: Any
) -> None:
    _, token = ticket_with_link(org, language="zh-hans")
    client = Client()
    switched = client.post("/i18n/setlang/", {"language": "en", "next": f"/t/{token}/"})
    assert switched.status_code == 302 and switched["Location"] == f"/t/{token}/"
    html = page(token, client)
    assert '<html lang="en">' in html and "Monday" in html and "星期一" not in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": f"/t/{token}/"})
    assert '<html lang="zh-Hans">' in page(token, client)


def test_a_link_that_does_not_work_follows_the_browser(org: Org) -> None:
    missing = Client().get("/t/nothing-here/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert missing.status_code == 404
    assert '<html lang="zh-Hans">' in missing.content.decode()


def test_timeline_texts_are_stored_in_english_and_shown_in_the_readers_language(
    org: Org, frozen: Any
) -> None:
    tid, _ = ticket_with_link(org)
    with translation.override("zh-hans"):  # a command run in a Chinese request
        hand(org, tid, "CS", "FIN")
    passed = TimelineEntry.objects.get(ticket_id=tid, event_type="Ticket.HandedOff")
    assert passed.text == "Passed to Finance, who now handle your request."
    with translation.override("en"):
        assert entry_text(passed) == passed.text
    with translation.override("zh-hans"):
        shown = entry_text(passed)
        assert shown == translation.gettext(
            "Passed to %(department)s, who now handle your request."
        ) % {"department": "Finance"}
    assert translated_text("An old wording nobody says any more.") == (
        "An old wording nobody says any more."
    )
    assert TicketSummary.objects.get(pk=tid).language == ""  # the default


# --- the demo's links --------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_prints_links_to_live_tickets_that_still_open_after_another_run(
    capsys: Any,
) -> None:
    from django.core.management import call_command

    def printed_links() -> list[str]:
        out = capsys.readouterr().out
        section = out.split("Customer pages", 1)[1].split("\n\n", 1)[0]
        return re.findall(r"http://127\.0\.0\.1:\d+(/t/[^/\s]+/)", section)

    call_command("load_demo", force_demo_accounts=True)
    first = printed_links()
    assert len(first) == 3
    statuses, contexts = [], []
    for path in first:
        response = Client().get(path)
        assert response.status_code == 200
        html = response.content.decode()
        statuses.append(text_of(html, "status"))
        contexts.append(" ".join(html.split()))
    assert statuses == [
        "Status: In progress",
        "Status: Waiting for you",
        "Status: In progress",
    ]
    assert "has had your request since" in contexts[0]
    assert "Customer Service has had" not in contexts[0]  # a back office has it

    call_command("load_demo", force_demo_accounts=True)
    again = printed_links()
    assert again == first  # the same links, not new ones
    for path in first:
        assert Client().get(path).status_code == 200
