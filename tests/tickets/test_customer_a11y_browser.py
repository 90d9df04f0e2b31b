# ruff: noqa: RUF001 - Chinese text has full-width punctuation
"""The customer's page in a real browser, in Chinese (the ticket's
language) and in English (picked with the page's switcher): the visible
text and the ``lang`` attribute follow the language, and axe-core finds no
serious or critical accessibility violation in either."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import translation
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from selenium_axe_python.axe import Axe

from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tests.helpers import make_org
from tickets import clock, services
from tickets.customer import customer_view
from tickets.models import TicketSummary

SERIOUS = {"serious", "critical"}


def serious_violations(driver: Any) -> list[str]:
    """axe-core's violations of impact serious or critical, one line each."""
    axe = Axe(driver)
    axe.inject()  # type: ignore[no-untyped-call]
    results = axe.run(options={"resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"])
        for v in results["violations"]
        if v.get("impact") in SERIOUS
    ]


def demo_ticket() -> tuple[Any, str]:
    """A Chinese customer's ticket: Customer Service answered and handed it
    to Finance half an hour later; Finance has it now."""
    org = make_org()
    opened = clock.now() - timedelta(hours=1)
    with time_machine.travel(opened, tick=False):
        result = services.ticket_open(
            principal=org.agent("CS"),
            subject="退款还没有到账",
            description="我两周前已经退回了包裹。",
            customer_ref="CUST-88",
            customer_name="王芳",
            customer_timezone="Asia/Shanghai",
            channel="web",
            language="zh-hans",
        )
        services.ticket_respond(
            principal=org.agent("CS"),
            ticket_id=result.ticket_id,
            body="您好，我们正在核实您的退款。",
        )
    with time_machine.travel(opened + timedelta(minutes=30), tick=False):
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=result.ticket_id,
            to_department="FIN",
            reason="Refund approval",
        )
    return TicketSummary.objects.get(pk=result.ticket_id), result.detail[
        "customer_token"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_customer_page_reads_well_in_chinese_and_english_for_everyone(
    live_server: Any,
    browser: Any,  # noqa: F811
) -> None:
    ticket, token = demo_ticket()
    browser.get(f"{live_server.url}/t/{token}/")

    # Chinese: the ticket's language.
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "zh-Hans"
    with translation.override("zh-hans"):
        chinese = customer_view(ticket)
        journey_heading = translation.gettext("Your request's journey")
        legend = translation.gettext("How did %(department)s do?") % {
            "department": "Customer Service"
        }
    promise = browser.find_element(By.ID, "promise").text
    assert promise == chinese["promise"] and "星期" in promise
    assert browser.find_element(By.TAG_NAME, "h1").text == "退款还没有到账"
    assert journey_heading in browser.find_element(By.TAG_NAME, "body").text
    assert browser.find_element(By.CSS_SELECTOR, "#ratings legend").text == legend
    assert "您好，我们正在核实您的退款。" in browser.page_source
    assert serious_violations(browser) == []
    screenshot(browser, "customer_page_zh")

    # English, picked with the switcher: this browser keeps it.
    browser.find_element(By.CSS_SELECTOR, "#languages button[value='en']").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    with translation.override("en"):
        english = customer_view(ticket)
    assert browser.find_element(By.ID, "promise").text == english["promise"]
    assert "Finance" in english["promise"]
    body = browser.find_element(By.TAG_NAME, "body").text
    assert (
        "Your request's journey" in body and "Times are shown in Asia/Shanghai" in body
    )
    assert (
        browser.find_element(By.CSS_SELECTOR, "#ratings legend").text
        == "How did Customer Service do?"
    )
    assert serious_violations(browser) == []
    screenshot(browser, "customer_page_en")

    browser.get(f"{live_server.url}/t/{token}/")  # still English on reload
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"

    # A wrong link is accessible too.
    browser.get(f"{live_server.url}/t/not-a-link/")
    assert serious_violations(browser) == []
