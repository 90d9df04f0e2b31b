"""A customer opens a demo ticket's page in a real browser, sees who has
it and by when, replies, and rates the department that worked on it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tickets.customer import customer_link_issue, customer_view
from tickets.models import TicketSummary, TimelineEntry


def wait_for(driver: Any, text: str) -> None:
    WebDriverWait(driver, 15).until(lambda d: text in d.page_source)


@pytest.mark.django_db(transaction=True)
def test_a_customer_reads_replies_and_rates_in_a_browser(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    ticket = TicketSummary.objects.get(
        subject="Refund for returned jacket not received"
    )
    token = customer_link_issue(ticket_id=ticket.ticket_id, issued_by="browser test")
    expected = customer_view(ticket)

    browser.get(f"{live_server.url}/t/{token}/")
    assert browser.find_element(By.TAG_NAME, "h1").text == ticket.subject
    promise = browser.find_element(By.ID, "promise").text
    assert promise == expected["promise"] and "Finance" in promise
    steps = browser.find_elements(By.CSS_SELECTOR, ".step")
    assert [s.find_element(By.TAG_NAME, "strong").text for s in steps] == [
        "Customer Service",
        "Finance",
    ]
    screenshot(browser, "customer_page")

    # Reply.
    browser.find_element(By.ID, "body").send_keys("The parcel reached your warehouse.")
    browser.find_element(By.CSS_SELECTOR, "#reply button").click()
    wait_for(browser, "Thank you, your message was added.")
    assert TimelineEntry.objects.filter(
        ticket_id=ticket.ticket_id,
        event_type="Ticket.CustomerReplied",
        body="The parcel reached your warehouse.",
    ).exists()

    # Rate Customer Service, whose finished stint is the one question asked
    # (it worked on the ticket for half an hour before handing it on).
    [question] = browser.find_elements(By.CSS_SELECTOR, "#ratings form.rate")
    legend = question.find_element(By.TAG_NAME, "legend").text
    assert legend == "How did Customer Service do?"
    question.find_element(By.CSS_SELECTOR, "input[name=score][value='5']").click()
    question.find_element(By.CSS_SELECTOR, "input[name=comment]").send_keys(
        "Fast handoff"
    )
    question.find_element(By.CSS_SELECTOR, "button").click()
    wait_for(browser, "Thank you for your rating.")
    assert "You rated Customer Service 5 out of 5" in browser.page_source
    screenshot(browser, "customer_page_after_rating")
    stint = ticket.handoffs.order_by("started_position").first()
    assert stint is not None
    stint.refresh_from_db()
    assert (stint.rating_score, stint.rating_comment) == (5, "Fast handoff")
