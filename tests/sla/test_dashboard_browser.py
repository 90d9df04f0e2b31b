"""A service lead opens the lead dashboard on the demo in a real browser:
the departments are side by side, the charts render as SVG, the period
navigates; a department lead sees their agents."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from sla.charts import PALETTE
from sla.dashboard import CHARTS
from tests.browser import browser, screenshot  # noqa: F401 - the fixture

DASHBOARD = "/admin/sla/leaddashboard/"


def log_in(driver: Any, base: str, username: str) -> None:
    driver.get(f"{base}/admin/login/?next={DASHBOARD}")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(f"{username}-demo-pass")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "dashboard-table"))


@pytest.mark.django_db(transaction=True)
def test_a_service_lead_reads_the_dashboard_in_a_browser(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    browser.set_window_size(1366, 1400)
    log_in(browser, live_server.url, "cs_lead")
    rows = browser.find_elements(By.CSS_SELECTOR, "#dashboard-table tbody tr")
    assert len(rows) >= 4
    ranks = [r.get_attribute("data-rank") for r in rows]
    ranked = [int(r) for r in ranks if r]
    assert ranked == list(range(1, len(ranked) + 1)) and ranked
    # The charts are drawn: an <svg> each with its title, lines and points.
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.baton-chart")
    assert len(charts) == len(CHARTS)
    for chart in charts:
        assert chart.size["width"] > 200 and chart.size["height"] > 100
        assert chart.find_elements(By.TAG_NAME, "title")
    points = browser.find_elements(By.CSS_SELECTOR, "svg.baton-chart circle")
    assert points, "no data points drawn"
    assert points[0].get_attribute("fill") in PALETTE
    assert browser.find_elements(By.CSS_SELECTOR, "svg.sparkline")
    text = browser.find_element(By.ID, "dashboard-departments").text
    assert "%" in text  # rates read as percentages
    assert "Asia/Shanghai" in browser.find_element(By.TAG_NAME, "body").text
    # The table fits a 1,366 px screen without a horizontal scrollbar on the page.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    screenshot(browser, "lead_dashboard")

    shown = browser.find_element(By.ID, "period-shown").text
    browser.find_element(By.ID, "period-previous").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "period-shown").text != shown
    )
    assert browser.find_elements(By.ID, "period-next")

    # A department's agents, one click from its row.
    browser.find_element(By.ID, "period-next").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "period-shown").text == shown
    )
    browser.find_element(
        By.CSS_SELECTOR, "#dashboard-table tbody tr a.dash-adj"
    ).click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "agent-table"))
    screenshot(browser, "lead_dashboard_agents")


@pytest.mark.django_db(transaction=True)
def test_a_department_lead_sees_their_department_and_agents(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=open("/dev/null", "w"))  # noqa: SIM115
    browser.set_window_size(1366, 1200)
    log_in(browser, live_server.url, "fin_lead")
    rows = browser.find_elements(By.CSS_SELECTOR, "#dashboard-table tbody tr")
    assert [r.get_attribute("id") for r in rows] == ["dept-FIN"]
    assert browser.find_elements(By.CSS_SELECTOR, "#agent-table tbody tr")
    screenshot(browser, "finance_lead_dashboard")
