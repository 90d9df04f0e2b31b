"""A Finance agent works the demo queue in a real browser."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tickets import clock
from tickets.admin.queue import annotate_queue, queue_ordering
from tickets.models import SLAClock, TicketSummary

QUEUE = "/admin/tickets/queueticket/"


def log_in(driver: Any, base: str, username: str) -> None:
    driver.get(f"{base}/admin/login/?next={QUEUE}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(f"{username}-demo-pass")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "Work queue" in d.title)


def queue_subjects(driver: Any) -> list[str]:
    return [
        a.text for a in driver.find_elements(By.CSS_SELECTOR, "td.field-subject_link a")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_finance_agent_hands_a_ticket_to_logistics_in_a_browser(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    browser.set_window_size(1400, 1000)
    log_in(browser, live_server.url, "fin_agent")
    shown = queue_subjects(browser)
    expected = list(
        annotate_queue(
            TicketSummary.objects.filter(owner="FIN", status__in=["open", "waiting"])
        )
        .order_by(*queue_ordering(clock.now()))
        .values_list("subject", flat=True)
    )
    assert shown == expected and len(shown) >= 3
    assert "Work queue: Finance" in browser.page_source
    screenshot(browser, "finance_queue")

    subject = shown[0]
    browser.find_element(By.LINK_TEXT, subject).click()
    WebDriverWait(browser, 15).until(lambda d: "Work this ticket" in d.page_source)
    Select(browser.find_element(By.NAME, "to_department")).select_by_value("LOG")
    browser.find_element(By.NAME, "reason").send_keys("Parcel lost by the carrier")
    browser.find_element(By.CSS_SELECTOR, "#form-hand-off input[type=submit]").click()
    WebDriverWait(browser, 15).until(
        lambda d: "Logistics</strong> owns this ticket" in d.page_source
    )
    screenshot(browser, "ticket_after_hand_off")

    browser.get(f"{live_server.url}{QUEUE}")
    assert subject not in queue_subjects(browser)

    browser.delete_all_cookies()
    log_in(browser, live_server.url, "log_agent")
    assert subject in queue_subjects(browser)
    ticket = TicketSummary.objects.get(subject=subject)
    fresh = SLAClock.objects.get(handoff_id=ticket.current_stint_id, kind="response")
    assert (fresh.department, fresh.started_at) == ("LOG", ticket.owner_since)
    assert fresh.state == "running"
    screenshot(browser, "logistics_queue")
