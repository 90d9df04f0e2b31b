"""A customer attaches a file to their message on their page in a real
browser, sees it listed, and the link downloads it."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import browser, screenshot  # noqa: F401 - the fixture
from tests.helpers import make_org
from tickets import services
from tickets.models import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.mark.django_db(transaction=True)
def test_a_customer_uploads_a_file_with_their_reply_in_a_browser(
    live_server: Any,
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    org = make_org()
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject="Parcel arrived damaged",
        customer_ref="CUST-7",
        customer_name="Dana Customer",
        channel="web",
    )
    token = result.detail["customer_token"]
    photo = tmp_path / "damaged box.png"
    photo.write_bytes(PNG)

    browser.get(f"{live_server.url}/t/{token}/")
    browser.find_element(By.ID, "body").send_keys("Photo of the box attached.")
    browser.find_element(By.ID, "attach").send_keys(str(photo))
    browser.find_element(By.CSS_SELECTOR, "#reply button").click()
    WebDriverWait(browser, 15).until(
        lambda d: "Thank you, your message was added." in d.page_source
    )

    stored = Attachment.objects.get(ticket_id=result.ticket_id)
    assert (stored.filename, stored.audience, stored.size) == (
        "damaged box.png",
        "customer",
        len(PNG),
    )
    links = browser.find_elements(By.CSS_SELECTOR, ".msg .files a")
    assert [link.text for link in links] == ["damaged box.png"]
    listed = browser.find_elements(By.CSS_SELECTOR, "#all-files .files a")
    assert [link.text for link in listed] == ["damaged box.png"]
    screenshot(browser, "customer_page_with_attachment")

    href = links[0].get_attribute("href")
    assert href.endswith(f"/attachments/{stored.id}/")
    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.read() == PNG
