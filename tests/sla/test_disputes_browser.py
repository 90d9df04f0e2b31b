"""A dispute from end to end in a real browser, on the demo: Finance's
lead disputes a breach on the drill-down page (figures read as
percentages and durations, rows name the ticket and agent), the service
lead finds it in the disputes inbox with its reason, follows the link,
reads the reason beside Accept and Waive, and waives it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from sla.models import ScorecardHandoff
from sla.scorecards import scorecard_key
from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tickets.application import get_tickets_application
from tickets.projection_runner import catch_up, projection_group

REASON = "The customer sent the invoice to the wrong address"


def log_in(driver: Any, base: str, username: str, then: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/admin/login/?next={then}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(f"{username}-demo-pass")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "/login/" not in d.current_url)


def project_scorecards() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


@pytest.mark.django_db(transaction=True)
def test_a_breach_is_disputed_found_in_the_inbox_and_waived(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    fact = (
        ScorecardHandoff.objects.filter(
            department="FIN", verdict="breached", breach_dispute=""
        )
        .order_by("-received_position")
        .first()
    )
    assert fact is not None, "the demo has no Finance breach to dispute"
    key = quote(scorecard_key("FIN", "week", fact.week, "*"))
    drilldown = f"/admin/sla/scorecard/{key}/figures/breached/"
    browser.set_window_size(1366, 1000)

    # Finance's lead disputes the breach, with a reason.
    log_in(browser, live_server.url, "fin_lead", drilldown)
    row = browser.find_element(By.ID, f"dispute-breach-{fact.id}")
    handoffs = browser.find_element(By.ID, "handoffs").text
    assert "Asia/Shanghai" in browser.find_element(By.TAG_NAME, "body").text
    row.find_element(By.NAME, "reason").send_keys(REASON)
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success")
    )
    assert handoffs  # the rows were there
    project_scorecards()  # the projector's job, done here

    # The service lead finds it in the inbox, with the reason.
    log_in(browser, live_server.url, "cs_lead", "/admin/sla/scorecard/disputes/")
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "disputes"))
    mine = browser.find_element(
        By.CSS_SELECTOR, f'tr.dispute[data-ticket="{fact.ticket_id}"]'
    )
    assert REASON in mine.text and "Finance" in mine.text
    raised = [
        cell.text
        for cell in browser.find_elements(By.CSS_SELECTOR, "#disputes td.when")
    ]
    assert len(raised) > 1 and raised == sorted(raised)  # oldest first
    screenshot(browser, "disputes_inbox")
    mine.find_element(By.LINK_TEXT, "Decide").click()

    # The drill-down: the reason stands beside Accept and Waive.
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "handoffs"))
    block = browser.find_element(By.ID, f"dispute-breach-{fact.id}")
    assert REASON in block.text and "Fatima Haddad" in block.text
    browser.execute_script("arguments[0].scrollIntoView()", block)
    screenshot(browser, "scorecard_dispute_decide")
    block.find_element(By.NAME, "reason").send_keys("Confirmed: misrouted invoice")
    block.find_element(By.CSS_SELECTOR, "button[value=waived]").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success")
    )
    project_scorecards()
    fact.refresh_from_db()
    assert fact.breach_dispute == "waived"
    browser.get(f"{live_server.url}/admin/sla/scorecard/disputes/")
    assert not browser.find_elements(
        By.CSS_SELECTOR, f'tr.dispute[data-ticket="{fact.ticket_id}"]'
    )

    # The scorecard reads like a product: percentages, durations, the zone.
    browser.get(f"{live_server.url}/admin/sla/scorecard/{key}/change/")
    figures = browser.find_element(By.ID, "figures").text
    assert "%" in figures and "(s)" not in figures
    screenshot(browser, "scorecard_page")
    browser.get(f"{live_server.url}/admin/sla/scorecard/")
    chosen = browser.find_element(By.CSS_SELECTOR, "#changelist-filter li.selected")
    assert chosen.text == "Weeks"  # one period type at a time, weeks by default
    # The list fits a 1,366 px screen beside its filters: no column cut off.
    assert browser.execute_script(
        "const box = document.querySelector('#changelist .results');"
        "return box.scrollWidth <= box.clientWidth;"
    )
    screenshot(browser, "scorecard_list")
