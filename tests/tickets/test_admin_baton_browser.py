"""Baton's admin in a real browser: an agent lands on their queue, the
queue fits a 1,366 px screen, and a version conflict keeps the reply the
agent typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tickets import services
from tickets.models import TicketSummary

QUEUE = "/admin/tickets/queueticket/"


def load_demo() -> None:
    with open("/dev/null", "w") as quiet:
        call_command("load_demo", force_demo_accounts=True, stdout=quiet)


def log_in(driver: Any, base: str, username: str) -> None:
    """Log in from the bare login page (no ``next``): where Baton sends
    the user is what is tested."""
    driver.get(f"{base}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(f"{username}-demo-pass")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "/login/" not in d.current_url)


@pytest.mark.django_db(transaction=True)
def test_an_agent_lands_on_the_queue_which_fits_a_laptop_screen(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    load_demo()
    browser.set_window_size(1366, 768)
    log_in(browser, live_server.url, "fin_agent")
    WebDriverWait(browser, 15).until(lambda d: "Work queue" in d.title)
    assert browser.current_url == f"{live_server.url}{QUEUE}"
    assert "Work queue: Finance" in browser.page_source
    assert browser.find_element(By.ID, "baton-timezone").text.startswith("Times in ")
    # The assignee column is wholly inside the window: nothing cut off,
    # no sideways scrolling needed.
    width = browser.execute_script("return document.documentElement.clientWidth")
    for cell in browser.find_elements(
        By.CSS_SELECTOR, "th.column-assignee, td.field-assignee"
    ):
        rect = browser.execute_script(
            "const r = arguments[0].getBoundingClientRect();return [r.left, r.right];",
            cell,
        )
        assert 0 <= rect[0] < rect[1] <= width, rect
        # ...and not covered by anything (the filters beside the list).
        on_top = browser.execute_script(
            "const c = arguments[0]; c.scrollIntoView({block: 'center'});"
            "const r = c.getBoundingClientRect();"
            "const hit = document.elementFromPoint("
            "  (r.left + r.right) / 2, (r.top + r.bottom) / 2);"
            "return hit !== null && (hit === c || c.contains(hit));",
            cell,
        )
        assert on_top, cell.text
    scroll = browser.execute_script(
        "return document.documentElement.scrollWidth - "
        "document.documentElement.clientWidth"
    )
    assert scroll <= 0
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, "baton_queue_1366")


@pytest.mark.django_db(transaction=True)
def test_a_conflict_keeps_the_reply_the_agent_typed(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    load_demo()
    browser.set_window_size(1366, 900)
    log_in(browser, live_server.url, "fin_agent")
    ticket = TicketSummary.objects.filter(owner="FIN", status="open").first()
    assert ticket is not None
    browser.get(f"{live_server.url}{QUEUE}{ticket.pk}/change/")
    WebDriverWait(browser, 15).until(lambda d: "Work this ticket" in d.page_source)
    typed = "Dear customer, your refund was approved today.\nKind regards"
    browser.find_element(By.ID, "reply-body").send_keys(typed)
    # Another session changes the ticket while the page is open.
    from django.contrib.auth.models import User

    lead = User.objects.get(username="fin_lead")
    services.ticket_add_note(
        principal=services.principal_for_user(lead),
        ticket_id=ticket.pk,
        body="Checked with the bank",
    )
    browser.find_element(By.CSS_SELECTOR, "#form-respond input[type=submit]").click()
    WebDriverWait(browser, 15).until(
        lambda d: "Someone else changed this ticket" in d.page_source
    )
    kept = browser.find_element(By.ID, "reply-body").get_attribute("value")
    assert kept.replace("\r\n", "\n") == typed
    assert "Checked with the bank" in browser.page_source  # the fresh state
    screenshot(browser, "baton_conflict_keeps_text")
    # Sending it again now works: the form carries the fresh version.
    browser.find_element(By.CSS_SELECTOR, "#form-respond input[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: "Done." in d.page_source)
    assert "your refund was approved today" in browser.page_source
