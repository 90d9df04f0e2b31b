"""Admin login brute-force protection (django-axes, config/login_lockout.py).

Failed logins lock out the (username, address) pair after
``AXES_FAILURE_LIMIT`` failures and the address after
``BATON_LOGIN_ADDRESS_FAILURE_LIMIT``, for ``AXES_COOLOFF_TIME``; the
username alone is never locked, and nothing but the admin login counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from tests.helpers import make_user
from tests.tickets.api_helpers import token_client
from tickets import services

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOME = "10.1.1.1"
ELSEWHERE = "10.2.2.2"
LOCKED_OUT = "Too many failed login attempts"

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def agent() -> User:
    return make_user("fin_agent")


def log_in(username: str, password: str, address: str, **headers: Any) -> Any:
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
    )
    response.client = client
    return response


def logged_in(response: Any) -> bool:
    """The login POST redirected to the admin and the session is a user's."""
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def fail(username: str, address: str, times: int) -> list[int]:
    return [log_in(username, "wrong", address).status_code for _ in range(times)]


def test_the_limit_is_five_failures_per_pair_and_twenty_per_address() -> None:
    assert settings.AXES_ENABLED is True
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.BATON_LOGIN_ADDRESS_FAILURE_LIMIT == 20
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


def test_wrong_passwords_lock_out_even_the_right_password_from_that_address(
    agent: User, frozen: Any
) -> None:
    # The form re-renders (200) for the first four; the fifth is the lockout.
    assert fail("fin_agent", HOME, 5) == [200, 200, 200, 200, 429]

    response = log_in("fin_agent", "pw-fin_agent", HOME)

    assert response.status_code == 429
    assert not logged_in(response)
    page = response.content.decode()
    assert LOCKED_OUT in page
    assert "15 minutes" in page
    assert response["Retry-After"] == "900"
    assert response["Content-Type"].startswith("text/html")


def test_the_right_password_from_another_address_still_logs_in(
    agent: User, frozen: Any
) -> None:
    fail("fin_agent", HOME, 8)

    assert logged_in(log_in("fin_agent", "pw-fin_agent", ELSEWHERE))


def test_after_the_cool_off_the_right_password_works_again(
    agent: User, frozen: Any
) -> None:
    fail("fin_agent", HOME, 5)
    frozen.shift(timedelta(minutes=14))
    assert log_in("fin_agent", "pw-fin_agent", HOME).status_code == 429

    frozen.shift(timedelta(minutes=1, seconds=1))

    assert logged_in(log_in("fin_agent", "pw-fin_agent", HOME))


def test_attempts_while_locked_out_do_not_extend_the_lockout(
    agent: User, frozen: Any
) -> None:
    fail("fin_agent", HOME, 5)
    for _ in range(14):
        frozen.shift(timedelta(minutes=1))
        assert log_in("fin_agent", "wrong", HOME).status_code == 429

    frozen.shift(timedelta(minutes=1, seconds=1))

    assert logged_in(log_in("fin_agent", "pw-fin_agent", HOME))


def test_an_address_guessing_many_accounts_is_locked_out_for_every_account(
    agent: User, frozen: Any
) -> None:
    # Four guesses at each of five names: no pair reaches its limit, the
    # address reaches twenty.
    statuses = [status for name in "abcde" for status in fail(f"user_{name}", HOME, 4)]
    assert statuses == [200] * 19 + [429]

    assert log_in("fin_agent", "pw-fin_agent", HOME).status_code == 429
    assert logged_in(log_in("fin_agent", "pw-fin_agent", ELSEWHERE))


def test_a_successful_login_forgets_its_own_failures_but_not_the_addresss(
    agent: User, frozen: Any
) -> None:
    make_user("fin_lead")
    fail("fin_lead", HOME, 4)
    fail("fin_agent", HOME, 4)
    assert logged_in(log_in("fin_agent", "pw-fin_agent", HOME))

    # fin_agent's pair starts again from zero ...
    assert fail("fin_agent", HOME, 4) == [200] * 4
    # ... while fin_lead's four failures still count towards its own limit.
    assert log_in("fin_lead", "wrong", HOME).status_code == 429


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(
    agent: User, frozen: Any
) -> None:
    proxy = "10.9.9.9"
    for _ in range(5):
        log_in("fin_agent", "wrong", proxy, HTTP_X_FORWARDED_FOR=HOME)

    assert (
        log_in(
            "fin_agent", "pw-fin_agent", proxy, HTTP_X_FORWARDED_FOR=HOME
        ).status_code
        == 429
    )
    assert logged_in(
        log_in("fin_agent", "pw-fin_agent", proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    )


def test_api_tokens_sessions_and_customer_links_from_a_locked_out_address_still_work(
    agent: User, frozen: Any
) -> None:
    from departments.models import Department, Membership
    from departments.services import membership_create

    cs = Department.objects.create(
        code="CS", name="Customer Service", kind=Department.Kind.FRONT_LINE
    )
    membership_create(user=agent, department=cs, role=Membership.Role.AGENT)
    opened = services.ticket_open(
        principal=services.principal_for_user(agent),
        subject="Refund not received",
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone="Europe/Paris",
        channel="web",
    )
    token = opened.detail["customer_token"]
    session = Client(REMOTE_ADDR=HOME)
    session.force_login(agent)
    fail("fin_agent", HOME, 25)
    assert log_in("fin_agent", "pw-fin_agent", HOME).status_code == 429

    api = token_client(agent)
    assert api.get("/api/v1/tickets/", REMOTE_ADDR=HOME).status_code == 200
    # The signed-in agent still gets their start page (their queue).
    start = session.get("/admin/", REMOTE_ADDR=HOME, follow=True)
    assert start.status_code == 200
    assert start.redirect_chain == [("/admin/tickets/queueticket/", 302)]
    customer = Client(REMOTE_ADDR=HOME)
    assert customer.get(f"/t/{token}/").status_code == 200
