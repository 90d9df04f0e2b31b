"""Chinese and English end to end: the request's language (Accept-Language,
the language cookie, a staff member's own choice on the admin), API errors
whose ``detail`` is translated while ``code`` stays English, emails in
each recipient's language, and a catalogue compiler that needs no GNU
gettext."""

# Chinese punctuation (full-width colons, commas, brackets) is the point here.
# ruff: noqa: RUF001

from __future__ import annotations

import ast
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import translation

from config import compile_messages
from sla import services as sla_services
from tests import helpers
from tests.i18n_extract import CATALOGUE, ROOT
from tests.tickets.api_helpers import token_client
from tickets import services
from tickets.api.problem import DETAILS
from tickets.domain import ERROR_CODES
from tickets.mail import notifications, render
from tickets.models import NotificationSettings

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


# -- settings ------------------------------------------------------------------


def test_english_and_simplified_chinese_are_offered() -> None:
    assert settings.LANGUAGE_CODE == "en"
    assert [code for code, _name in settings.LANGUAGES] == ["en", "zh-hans"]
    middleware = settings.MIDDLEWARE
    locale = middleware.index("django.middleware.locale.LocaleMiddleware")
    assert (
        middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
        < locale
        < middleware.index("django.middleware.common.CommonMiddleware")
    )
    assert middleware.index("config.language.StaffLanguageMiddleware") == (
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    )


# -- API errors ----------------------------------------------------------------


def test_every_domain_rule_has_a_translatable_detail() -> None:
    """The domain cannot import Django, so its messages are English: each
    code it raises (a rule's class, or an ``InvalidInput`` code) has its
    translatable sentence in the API layer."""
    raised = set()
    for path in (ROOT / "tickets" / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and isinstance(node.value, ast.Constant)
            ):
                raised.add(node.value.value)
    assert "field_required" in raised
    missing = (set(ERROR_CODES) - {"invalid_input"} | raised) - set(DETAILS)
    assert not missing, f"add to tickets.api.problem.DETAILS: {sorted(missing)}"


@pytest.mark.django_db
def test_an_unknown_api_address_answers_in_chinese_with_an_english_code() -> None:
    response = Client().get("/api/v1/nothing-here/", **ZH)
    body = response.json()
    assert response.status_code == 404
    assert body["code"] == "not_found"
    assert body["detail"] == "此地址下没有内容。"
    assert body["title"] == "未找到"
    assert response["Content-Language"] == "zh-hans"

    english = Client().get("/api/v1/nothing-here/").json()
    assert english["detail"] == "There is nothing at this address."
    assert english["code"] == "not_found"


def test_a_refused_command_has_a_chinese_detail_and_an_english_code(
    org: helpers.Org,
) -> None:
    ticket_id = helpers.open_ticket(org)
    client = token_client(org.agents["CS"])
    path = f"/api/v1/tickets/{ticket_id}/handoffs/"
    body = {"to_department": "CS", "reason": "mine again"}

    chinese = client.post(path, body, format="json", **ZH)
    english = client.post(path, body, format="json")

    assert chinese.status_code == english.status_code == 400
    assert (
        chinese.json()["code"] == english.json()["code"] == ("handoff_to_current_owner")
    )
    assert chinese.json()["detail"] == "工单已在该部门：请选择其他部门。"
    assert chinese.json()["title"] == "请求有误"
    # English keeps the domain's own, more specific sentence.
    assert english.json()["detail"] != str(DETAILS["handoff_to_current_owner"])
    assert "CS" in english.json()["detail"] or "Customer" in english.json()["detail"]


def test_validation_errors_are_translated_field_by_field(org: helpers.Org) -> None:
    response = token_client(org.agents["CS"]).post(
        "/api/v1/tickets/", {"channel": "web"}, format="json", **ZH
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "validation_failed"
    assert body["detail"].startswith("请求无效：")
    assert {e["code"] for e in body["errors"]} >= {"required"}


# -- the admin in the staff member's language ------------------------------------


def test_a_staff_member_who_chose_chinese_sees_the_admin_in_chinese(
    org: helpers.Org,
) -> None:
    user = org.agents["FIN"]
    NotificationSettings.objects.create(user=user, language="zh-hans")
    client = Client()
    client.force_login(user)

    # Whatever the browser asks for, the choice wins on the admin...
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert 'lang="zh-hans"' in response.content.decode()

    # ...and only there: the API follows the request.
    api = client.get("/api/v1/nothing-here/", HTTP_ACCEPT_LANGUAGE="en")
    assert api.json()["detail"] == "There is nothing at this address."


def test_the_staff_language_costs_one_query_on_the_admin_and_none_elsewhere(
    org: helpers.Org, django_assert_num_queries: Any
) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from config.language import StaffLanguageMiddleware

    user = org.agents["FIN"]
    NotificationSettings.objects.create(user=user, language="zh-hans")
    middleware = StaffLanguageMiddleware(lambda request: HttpResponse())

    def request(path: str) -> Any:
        made = RequestFactory().get(path)
        made.user = type(user).objects.get(pk=user.pk)
        return made

    api, admin = request("/api/v1/tickets/"), request("/admin/")
    with translation.override("en"):
        with django_assert_num_queries(0):
            middleware(api)
        assert translation.get_language() == "en"
        with django_assert_num_queries(1):
            middleware(admin)
        assert translation.get_language() == "zh-hans"
        with django_assert_num_queries(0):  # memoised on the user
            middleware(admin)


def test_without_a_choice_the_admin_follows_the_browser(org: helpers.Org) -> None:
    client = Client()
    client.force_login(org.agents["FIN"])
    chinese = client.get("/admin/", follow=True, **ZH)
    english = client.get("/admin/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese["Content-Language"] == "zh-hans"
    assert english["Content-Language"] == "en"


@pytest.mark.django_db
def test_set_language_switches_by_cookie() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/t/x/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert client.get("/api/v1/nothing-here/").json()["detail"] == "此地址下没有内容。"

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/api/v1/nothing-here/").json()["detail"] == (
        "There is nothing at this address."
    )


# -- emails in the recipient's language --------------------------------------


@pytest.fixture
def mail_org(org: helpers.Org, settings: Any) -> helpers.Org:
    settings.BATON_PUBLIC_URL = "http://testserver.example"
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        for code in ("CS", "FIN"):
            sla_services.policy_version_create(
                department=org.departments[code], response_normal=timedelta(hours=1)
            )
    NotificationSettings.objects.create(
        user=org.leads["FIN"], department_handoff=True, language="zh-hans"
    )
    NotificationSettings.objects.create(user=org.agents["FIN"], department_handoff=True)
    return org


def _open_and_hand_off(org: helpers.Org, language: str) -> UUID:
    with time_machine.travel(T0, tick=False):
        result = services.ticket_open(
            principal=org.agent("CS"),
            subject="退款没有收到",
            customer_ref="CUST-1",
            customer_name="王芳",
            customer_contact="wang@example.com",
            customer_timezone="Asia/Shanghai",
            channel="web",
            language=language,
        )
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=result.ticket_id,
            to_department="FIN",
            reason="card refund",
        )
        notifications.send_due()
    return result.ticket_id


def _to(address: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


def test_a_chinese_customer_gets_chinese_emails_with_chinese_times(
    mail_org: helpers.Org,
) -> None:
    _open_and_hand_off(mail_org, "zh-hans")
    opened, handed = _to("wang@example.com")
    assert opened.subject == "我们已收到您的请求：退款没有收到"
    assert "王芳，您好：" in opened.body
    assert "我们已收到您的请求“退款没有收到”" in opened.body
    assert handed.subject.endswith("正在处理您的请求：退款没有收到")
    # The promise in Chinese, in the customer's timezone, named.
    assert "2026年3月2日 星期一 11:00（Asia/Shanghai）" in handed.body
    assert "在此查看您的请求进展并回复：http://testserver.example/t/" in handed.body
    [(html, _type)] = handed.alternatives
    assert 'lang="zh-hans"' in html
    assert "这是 Baton 自动发送的邮件。" in html


def test_an_english_customer_gets_english_emails(mail_org: helpers.Org) -> None:
    _open_and_hand_off(mail_org, "")
    opened, handed = _to("wang@example.com")
    assert opened.subject == "We received your request: 退款没有收到"
    assert "Mon 2 Mar 2026 11:00 (Asia/Shanghai)" in handed.body
    assert "Follow your request and reply here: http://testserver.example/t/" in (
        handed.body
    )


def test_staff_emails_follow_each_recipients_own_language(
    mail_org: helpers.Org,
) -> None:
    _open_and_hand_off(mail_org, "")
    [to_lead] = _to(mail_org.leads["FIN"].email)
    [to_agent] = _to(mail_org.agents["FIN"].email)
    assert "有新工单转交给您" in to_lead.subject
    assert "优先级：普通" in to_lead.body
    assert "new ticket handed to you" in to_agent.subject
    assert "Priority: normal" in to_agent.body


def test_a_time_is_written_in_the_language_active_when_shown() -> None:
    when = render.local_time(datetime(2026, 3, 3, 6, 0, tzinfo=UTC), "Europe/Paris")
    with translation.override("en"):
        assert str(when) == "Tue 3 Mar 2026 07:00 (Europe/Paris)"
    with translation.override("zh-hans"):
        assert str(when) == "2026年3月3日 星期二 07:00（Europe/Paris）"


# -- the catalogue compiler ------------------------------------------------------


def test_the_compiler_builds_a_catalogue_django_reads(tmp_path: Path) -> None:
    locale = tmp_path / "locale"
    target = locale / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(CATALOGUE, target / "django.po")

    written = compile_messages.compile_all([locale])
    assert written == [target / "django.mo"]
    # Up to date: nothing to do the second time.
    assert compile_messages.compile_all([locale]) == []

    import gettext as stdlib_gettext

    catalogue = stdlib_gettext.translation(
        "django", localedir=str(locale), languages=["zh_Hans"]
    )
    assert catalogue.gettext("Work queue") == "工作队列"
    assert catalogue.pgettext("email date and time", "D j M Y H:i") == "Y年n月j日 D H:i"


def test_the_compiler_leaves_fuzzy_and_untranslated_entries_out(
    tmp_path: Path,
) -> None:
    target = tmp_path / "xx" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "django.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Kept"\nmsgstr "保留"\n\n'
        '#, fuzzy\nmsgid "Guess"\nmsgstr "猜测"\n\n'
        'msgid "Empty"\nmsgstr ""\n',
        encoding="utf-8",
    )
    compile_messages.main([str(tmp_path)])
    import gettext as stdlib_gettext

    with (target / "django.mo").open("rb") as handle:
        catalogue = stdlib_gettext.GNUTranslations(handle)
    assert catalogue.gettext("Kept") == "保留"
    assert catalogue.gettext("Guess") == "Guess"
    assert catalogue.gettext("Empty") == "Empty"


def test_the_project_catalogue_is_built_and_used() -> None:
    """pytest (conftest) built it, as make install does: Django reads it."""
    assert CATALOGUE.with_suffix(".mo").exists()
    with translation.override("zh-hans"):
        assert translation.gettext("Work queue") == "工作队列"
