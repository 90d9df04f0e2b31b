"""Load the demo organisation, ten weeks of generated history and about
twenty current tickets, once.

Running it again changes nothing (departments and users are matched by
code and username; tickets are only created while the event log is
empty) and prints the demo credentials again. Tickets are written through
the services with the clock set in the past, so the demo shows tickets of
different ages and in every state.

The demo accounts have public passwords (``admin`` / ``admin-demo-pass``
is a superuser), so the command refuses to run when ``DEBUG`` is off
unless ``--force-demo-accounts`` is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from departments.models import Department, Membership
from departments.services import membership_create
from sla.models import WEEKDAYS as WEEKDAY_FIELDS
from sla.models import CalendarVersion, SLAPolicyVersion
from sla.report_services import reports_generate
from sla.services import calendar_version_create, policy_version_create, sla_sweep
from tickets import clock, services
from tickets.application import get_tickets_application
from tickets.domain import Principal
from tickets.projection_runner import all_projections, catch_up, rebuild, skip_to

DEMO_PASSWORD_SUFFIX = "-demo-pass"  # noqa: S105 (public demo accounts)
SUPERUSER = ("admin", "admin-demo-pass")

DEPARTMENTS = [
    ("CS", "Customer Service", Department.Kind.FRONT_LINE, "Asia/Shanghai"),
    ("FIN", "Finance", Department.Kind.BACK_OFFICE, "Asia/Shanghai"),
    ("LOG", "Logistics", Department.Kind.BACK_OFFICE, "America/New_York"),
    ("RISK", "Risk Control", Department.Kind.BACK_OFFICE, "Asia/Shanghai"),
    ("PROD", "Product", Department.Kind.BACK_OFFICE, "America/New_York"),
]

# username, first name, last name, department, role
STAFF = [
    ("cs_agent", "Chen", "Wei", "CS", Membership.Role.AGENT),
    ("cs_lead", "Mei", "Lin", "CS", Membership.Role.LEAD),
    ("fin_agent", "Felix", "Okafor", "FIN", Membership.Role.AGENT),
    ("fin_lead", "Fatima", "Haddad", "FIN", Membership.Role.LEAD),
    ("log_agent", "Liam", "Novak", "LOG", Membership.Role.AGENT),
    ("log_lead", "Lucia", "Romero", "LOG", Membership.Role.LEAD),
    ("risk_agent", "Ravi", "Iyer", "RISK", Membership.Role.AGENT),
    ("risk_lead", "Rosa", "Keller", "RISK", Membership.Role.LEAD),
    ("prod_agent", "Priya", "Shah", "PROD", Membership.Role.AGENT),
    ("prod_lead", "Paul", "Dubois", "PROD", Membership.Role.LEAD),
]

CUSTOMERS = [
    ("CUST-1001", "Alice Martin", "Europe/Paris"),
    ("CUST-1002", "Bao Nguyen", "Asia/Ho_Chi_Minh"),
    ("CUST-1003", "Carlos Diaz", "America/Mexico_City"),
    ("CUST-1004", "Dana Cohen", "Asia/Jerusalem"),
    ("CUST-1005", "Emeka Obi", "Africa/Lagos"),
]

Step = tuple[float, Callable[[UUID], Any]]
HISTORY_TICKETS = 400


class Command(BaseCommand):
    help = "Load demo departments, staff and tickets (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force-demo-accounts",
            action="store_true",
            help=(
                "Load the demo even though DEBUG is off. Its accounts have "
                "public passwords: never on a server others can reach."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force_demo_accounts"]:
            raise CommandError(
                "load_demo creates accounts with public passwords (admin / "
                "admin-demo-pass is a superuser) and refuses to run with "
                "DEBUG off. Use it for a local demo (make run), or pass "
                "--force-demo-accounts if you really mean it."
            )
        with transaction.atomic():
            self._organisation()
            self._scenario_catalogue()
        app = get_tickets_application()
        if app.recorder.max_notification_id():
            self.stdout.write("Demo tickets already loaded; nothing to add.")
        else:
            self._sla_configuration()
            history = self._history()
            count = self._tickets()
            count += self._stalled_and_abandoned()
            result = sla_sweep()
            self.stdout.write(
                f"Loaded {history} tickets of history and {count} current "
                "demo tickets; the SLA sweep recorded "
                f"{result.breaches} breaches and {result.warnings} warnings."
            )
        # Read models the projector follows (scorecards) are caught up here
        # too, so the demo has something to show before it starts.
        catch_up(app, all_projections())
        # A newcomer sees reports at once: the last complete week's (stored).
        reports = reports_generate(catch_up_first=False)
        self.stdout.write(f"Reports of the week of {reports[0].start}: {len(reports)}")
        self._credentials()
        self._customer_links()
        self._problem_links()

    # -- organisation ---------------------------------------------------

    def _organisation(self) -> None:
        for code, name, kind, tz in DEPARTMENTS:
            Department.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "kind": kind,
                    "timezone": tz,
                    "email": f"{code.lower()}@baton.example",
                },
            )
        for username, first, last, code, role in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": True,
                    "email": f"{username}@baton.example",
                },
            )
            if created:
                user.set_password(username + DEMO_PASSWORD_SUFFIX)
                user.save()
            membership_create(
                user=user, department=Department.objects.get(code=code), role=role
            )
        if not User.objects.filter(username=SUPERUSER[0]).exists():
            User.objects.create_superuser(
                SUPERUSER[0],
                "admin@baton.example",
                SUPERUSER[1],
                first_name="Ada",
                last_name="Admin",
            )

    def _scenario_catalogue(self) -> None:
        """The scenarios the demo's tickets use, owned by the department
        that resolves them, with a small hierarchy (Refund > Double charge)
        and one retired scenario; the generated history's own come from
        ``tickets.simulation``. Adds only what is missing."""
        from departments.models import Scenario
        from departments.services import scenario_create
        from tickets.simulation import catalogue_scenarios

        admin = User.objects.filter(username=SUPERUSER[0]).first()
        catalogue_scenarios(user=admin)
        # code, name, owner, parent, active, description
        scenarios = [
            ("ADDRESS_CHANGE", "Address change", "LOG", "", True, ""),
            ("DELIVERY_DELAY", "Delivery delay", "LOG", "", True, ""),
            ("WISMO", "Where is my order", "LOG", "DELIVERY_DELAY", True, ""),
            ("WRONG_ITEM", "Wrong item", "LOG", "", True, ""),
            ("DAMAGED_ITEM", "Damaged item", "LOG", "", True, ""),
            ("INVOICE", "Invoice", "FIN", "", True, ""),
            ("SUBSCRIPTION", "Subscription billing", "FIN", "", True, ""),
            ("PROMO", "Promotion code", "PROD", "", True, ""),
            ("LOYALTY", "Loyalty points", "CS", "", True, ""),
            ("ACCOUNT_SECURITY", "Account security", "RISK", "", True, ""),
            ("PAYMENT_DECLINED", "Payment declined", "RISK", "", True, ""),
            (
                "GIFT_WRAP",
                "Gift wrapping",
                "LOG",
                "",
                False,
                "Retired with the gift-wrap service: kept for old tickets, "
                "no longer offered.",
            ),
        ]
        existing = set(Scenario.objects.values_list("code", flat=True))
        for code, name, owner, parent, active, description in scenarios:
            if code not in existing:
                scenario_create(
                    code,
                    name,
                    owner=Department.objects.filter(code=owner).first(),
                    parent=Scenario.objects.filter(code=parent).first(),
                    is_active=active,
                    description=description,
                    user=admin,
                )

    def _credentials(self) -> None:
        self.stdout.write("")
        self.stdout.write(
            "DEMO ONLY: these accounts and passwords are public; never use them in production."
        )
        self.stdout.write(f"  {SUPERUSER[0]:<12} {SUPERUSER[1]}  (superuser)")
        for username, _, _, code, role in STAFF:
            self.stdout.write(
                f"  {username:<12} {username + DEMO_PASSWORD_SUFFIX}  ({code} {role})"
            )
        self.stdout.write("")

    def _problem_links(self) -> None:
        """Link the history's checkout defect to its fix, shipped five weeks
        before the history ends (the Problems view shows its effect)."""
        from sla.models import ProblemLink

        shipped = (clock.now() - timedelta(days=7, weeks=5)).date()
        ProblemLink.objects.get_or_create(
            scenario="APP_BUG",
            root_cause="product_defect",
            product_area="Checkout",
            defaults={
                "title": "APP-412 Pay button disabled with a voucher",
                "url": "https://tracker.example.com/APP-412",
                "shipped_on": shipped,
            },
        )

    def _customer_links(self) -> None:
        """Customer pages of live demo tickets (``sla.demo_links``)."""
        from sla.demo_links import print_customer_links

        print_customer_links(self.stdout, os.environ.get("PORT", "8000"))

    # -- SLA -----------------------------------------------------------------

    def _sla_configuration(self) -> None:
        """Calendars and policies, effective well before the demo history.
        The front line works round the clock; back offices keep office
        hours in Shanghai or New York with public holidays."""
        since = clock.now() - timedelta(days=120)
        office = dict.fromkeys(WEEKDAY_FIELDS[:5], "09:00-18:00")
        lunch = dict.fromkeys(WEEKDAY_FIELDS[:5], "09:00-12:00, 13:00-18:00")
        calendars: dict[str, dict[str, Any]] = {
            "CS": {
                "timezone": "Asia/Shanghai",
                **dict.fromkeys(WEEKDAY_FIELDS, "00:00-24:00"),
            },
            "FIN": {"timezone": "Asia/Shanghai", "holiday_country": "CN", **lunch},
            "RISK": {"timezone": "Asia/Shanghai", "holiday_country": "CN", **office},
            "LOG": {"timezone": "America/New_York", "holiday_country": "US", **office},
            "PROD": {"timezone": "America/New_York", "holiday_country": "US", **office},
        }
        hours = timedelta(hours=1)
        policies: dict[str, dict[str, Any]] = {
            "CS": {
                "response_low": 4 * hours,
                "response_normal": 1 * hours,
                "response_high": 0.5 * hours,
                "response_urgent": 0.25 * hours,
                "resolution_low": 120 * hours,
                "resolution_normal": 72 * hours,
                "resolution_high": 48 * hours,
                "resolution_urgent": 24 * hours,
            },
            "FIN": {
                "response_low": 8 * hours,
                "response_normal": 4 * hours,
                "response_high": 2 * hours,
                "response_urgent": 1 * hours,
                "resolution_normal": 27 * hours,
                "scenario_overrides": {"DOUBLE_CHARGE": {"response": {"high": 60}}},
            },
            "RISK": {
                "response_low": 4 * hours,
                "response_normal": 2 * hours,
                "response_high": 1 * hours,
                "response_urgent": 0.5 * hours,
            },
            "LOG": {
                "response_low": 16 * hours,
                "response_normal": 8 * hours,
                "response_high": 4 * hours,
                "response_urgent": 2 * hours,
            },
            "PROD": {
                "response_low": 24 * hours,
                "response_normal": 16 * hours,
                "response_high": 8 * hours,
                "response_urgent": 4 * hours,
            },
        }
        for code, fields in calendars.items():
            department = Department.objects.get(code=code)
            if not CalendarVersion.objects.filter(
                calendar__department=department
            ).exists():
                calendar_version_create(
                    department=department,
                    effective_from=since,
                    note="Demo calendar",
                    **fields,
                )
            if not SLAPolicyVersion.objects.filter(
                policy__department=department
            ).exists():
                policy_version_create(
                    department=department,
                    effective_from=since,
                    note="Demo policy",
                    **policies[code],
                )

    def _stalled_and_abandoned(self) -> int:
        """Journey limits on the demo policies (a new version of each, the
        same targets): Finance and Risk count a stint as stalled after one
        business day without a reply to or from the customer, Logistics
        after two; a ticket waiting on the customer for five days (Finance,
        Logistics) is closed as abandoned. Two tickets show them: one left
        quiet with Finance, one the customer never answered."""
        limits = {
            "FIN": {
                "stall_after": timedelta(hours=8),
                "abandon_after": timedelta(days=5),
            },
            "RISK": {"stall_after": timedelta(hours=9)},
            "LOG": {
                "stall_after": timedelta(hours=16),
                "abandon_after": timedelta(days=5),
            },
        }
        skip = {"id", "policy", "version", "created_by", "created_at", "note"}
        for code, extra in limits.items():
            latest = (
                SLAPolicyVersion.objects.filter(policy__department__code=code)
                .order_by("-version")
                .first()
            )
            if latest is None or latest.stall_after or latest.abandon_after:
                continue
            kept = {
                f.name: getattr(latest, f.name)
                for f in SLAPolicyVersion._meta.concrete_fields
                if f.name not in skip
            }
            policy_version_create(
                department=latest.policy.department,
                note="Demo policy with journey limits",
                **{**kept, **extra},
            )
        cs, fin, log = (
            self._principal(u) for u in ("cs_agent", "fin_agent", "log_agent")
        )
        now = clock.now()
        stories = [
            (
                "Refund approval sitting with Finance",
                "REFUND",
                "FIN",
                [],
            ),
            (
                "Parcel damaged, photos requested",
                "DAMAGED_ITEM",
                "LOG",
                [(2, "wait")],
            ),
        ]
        for index, (subject, scenario, department, steps) in enumerate(stories):
            ref, name, tz = CUSTOMERS[(index + 3) % len(CUSTOMERS)]
            opened = now - timedelta(days=9)
            with clock.frozen_at(opened):
                ticket_id = services.ticket_open(
                    principal=cs,
                    subject=subject,
                    customer_ref=ref,
                    customer_name=name,
                    customer_timezone=tz,
                    customer_contact=f"{ref.lower()}@example.com",
                    channel="email",
                    scenario=scenario,
                    description=f"{subject}. Reported by {name} by email.",
                ).ticket_id
            with clock.frozen_at(opened + timedelta(minutes=20)):
                services.ticket_hand_off(
                    principal=cs,
                    ticket_id=ticket_id,
                    to_department=department,
                    reason=subject,
                )
            for hours_after, _ in steps:
                with clock.frozen_at(opened + timedelta(hours=hours_after)):
                    services.ticket_wait_on_customer(
                        principal=log if department == "LOG" else fin,
                        ticket_id=ticket_id,
                        reason="Photos of the damage and the box",
                    )
        return len(stories)

    # -- history -----------------------------------------------------------

    def _history(self) -> int:
        """Ten weeks of generated history (ending a week ago), worked by the
        demo staff, so scorecards, trends and reports have something to
        show."""
        from sla.terms import SnapshotSLAPort
        from tickets.simulation import HistoryGenerator, Staff

        staff = {}
        for code, *_ in DEPARTMENTS:
            agent, lead = (
                self._principal(f"{code.lower()}_{role}").actor_for(code)
                for role in ("agent", "lead")
            )
            staff[code] = Staff(
                department=services.department_ref(code), agent=agent, lead=lead
            )
        end = clock.now() - timedelta(days=7)
        app = get_tickets_application()
        generator = HistoryGenerator(
            staff=staff,
            start=end - timedelta(weeks=10),
            end=end,
            seed=2026,
            sla=SnapshotSLAPort(),
            customers=len(CUSTOMERS) * 40,
        )
        generator.save(app, HISTORY_TICKETS)
        # Imported history: fold the read models in bulk, and send none of
        # its old alerts or webhooks.
        last = app.recorder.max_notification_id() or 0
        projections = all_projections()
        rebuild(app, [p for p in projections if p.rebuildable])
        skip_to(app, [p for p in projections if not p.rebuildable], last)
        return HISTORY_TICKETS

    # -- tickets -----------------------------------------------------------

    def _principal(self, username: str) -> Principal:
        return services.principal_for_user(User.objects.get(username=username))

    def _tickets(self) -> int:
        cs, fin, log = (
            self._principal(u) for u in ("cs_agent", "fin_agent", "log_agent")
        )
        risk, prod, cs_lead = (
            self._principal(u) for u in ("risk_agent", "prod_agent", "cs_lead")
        )
        fin_lead = User.objects.get(username="fin_lead")

        def hand(who: Principal, to: str, reason: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_hand_off(
                principal=who, ticket_id=t, to_department=to, reason=reason
            )

        def reply(who: Principal, body: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_respond(
                principal=who, ticket_id=t, body=body
            )

        def resolve(who: Principal, text: str, cause: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_resolve(
                principal=who, ticket_id=t, resolution=text, root_cause=cause
            )

        def wait(who: Principal, reason: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_wait_on_customer(
                principal=who, ticket_id=t, reason=reason
            )

        def customer_says(ref: str, body: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_record_customer_reply(
                principal=services.principal_for_customer(customer_ref=ref),
                ticket_id=t,
                body=body,
            )

        def note(who: Principal, body: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_add_note(
                principal=who, ticket_id=t, body=body
            )

        def close(who: Principal) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_close(principal=who, ticket_id=t)

        def assign(who: Principal, user: User) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_assign(
                principal=who, ticket_id=t, agent_id=user.pk
            )

        def reopen(ref: str, reason: str) -> Callable[[UUID], Any]:
            return lambda t: services.ticket_reopen(
                principal=services.principal_for_customer(customer_ref=ref),
                ticket_id=t,
                reason=reason,
            )

        # (hours ago opened, subject, scenario, priority, channel, steps as (hours after opening, action))
        plans: list[tuple[float, str, str, str, str, list[Step]]] = [
            (1.5, "Charged twice for order #58211", "DOUBLE_CHARGE", "high", "app", []),
            (
                3,
                "Cannot change delivery address",
                "ADDRESS_CHANGE",
                "normal",
                "chat",
                [
                    (
                        0.2,
                        hand(
                            cs, "LOG", "Address change after dispatch needs the carrier"
                        ),
                    )
                ],
            ),
            (
                6,
                "Refund for returned jacket not received",
                "REFUND",
                "normal",
                "web",
                [
                    (
                        0.5,
                        hand(
                            cs,
                            "FIN",
                            "Return scanned at warehouse on the 3rd; refund pending approval",
                        ),
                    )
                ],
            ),
            (
                26,
                "Refund still pending after 10 days",
                "REFUND",
                "high",
                "email",
                [(0.3, hand(cs, "FIN", "Refund overdue, customer escalating"))],
            ),
            (
                30,
                "Account locked after password reset",
                "ACCOUNT_LOCKED",
                "urgent",
                "phone",
                [
                    (0.1, hand(cs, "RISK", "Automatic lock by fraud rules")),
                    (
                        1.0,
                        reply(
                            risk,
                            "We are verifying your identity and will unlock the account shortly.",
                        ),
                    ),
                ],
            ),
            (
                50,
                "Parcel marked delivered but not received",
                "LOST_PARCEL",
                "high",
                "app",
                [
                    (0.5, hand(cs, "LOG", "Carrier shows delivered; GPS mismatch")),
                    (3, reply(log, "We opened an investigation with the carrier.")),
                    (4, wait(log, "Need a signed statement of non-receipt")),
                ],
            ),
            (
                8,
                "App crashes when paying with a gift card",
                "APP_BUG",
                "normal",
                "app",
                [(0.4, hand(cs, "PROD", "Reproducible on Android 14"))],
            ),
            (
                72,
                "Wrong size delivered",
                "WRONG_ITEM",
                "low",
                "web",
                [
                    (0.5, hand(cs, "LOG", "Exchange needed")),
                    (5, reply(log, "A replacement is on its way.")),
                    (30, resolve(log, "Replacement delivered.", "process")),
                    (50, close(cs_lead)),
                ],
            ),
            (
                96,
                "Invoice shows the wrong VAT number",
                "INVOICE",
                "normal",
                "email",
                [
                    (1, hand(cs, "FIN", "Company invoice correction")),
                    (20, resolve(fin, "Corrected invoice sent.", "customer_error")),
                ],
            ),
            (
                120,
                "Promo code not applied at checkout",
                "PROMO",
                "normal",
                "chat",
                [
                    (0.5, hand(cs, "PROD", "Promo engine rejects valid code")),
                    (
                        30,
                        reply(
                            prod,
                            "Found a bug in the promo engine; a fix is being deployed.",
                        ),
                    ),
                    (
                        40,
                        resolve(
                            prod,
                            "Fix deployed and the discount refunded.",
                            "product_defect",
                        ),
                    ),
                    (60, reopen("CUST-1003", "Discount refund never arrived")),
                    (62, hand(prod, "FIN", "Discount refund needs a manual payment")),
                    (70, reply(fin, "The discount refund has been paid.")),
                ],
            ),
            (
                44,
                "Suspicious login from another country",
                "ACCOUNT_SECURITY",
                "urgent",
                "phone",
                [
                    (0.1, hand(cs, "RISK", "Possible account takeover")),
                    (0.5, reply(risk, "We have secured your account.")),
                    (2, resolve(risk, "Password reset and sessions revoked.", "other")),
                ],
            ),
            (
                20,
                "Bank transfer refund to closed account",
                "REFUND",
                "normal",
                "email",
                [
                    (0.5, hand(cs, "FIN", "Refund bounced")),
                    (2, wait(fin, "Need new bank details")),
                    (5, customer_says("CUST-1004", "Here is my new IBAN.")),
                    (6, assign(fin, fin_lead)),
                    (7, note(fin, "Checked the IBAN with the bank: valid.")),
                ],
            ),
            (
                10,
                "Delivery slot missed twice",
                "DELIVERY_DELAY",
                "high",
                "phone",
                [
                    (0.2, hand(cs, "LOG", "Second missed slot")),
                    (
                        1.5,
                        hand(
                            log,
                            "CS",
                            "Customer asked for compensation, front line decides",
                        ),
                    ),
                    (2, hand(cs, "FIN", "Compensation voucher approval")),
                ],
            ),
            (2, "Question about loyalty points", "LOYALTY", "low", "web", []),
            (
                12,
                "Subscription cancelled but still charged",
                "SUBSCRIPTION",
                "high",
                "app",
                [
                    (0.3, hand(cs, "FIN", "Charge after cancellation")),
                    (
                        0.6,
                        hand(fin, "PROD", "Cancellation did not reach billing system"),
                    ),
                ],
            ),
            (
                150,
                "Damaged item on arrival",
                "DAMAGED_ITEM",
                "normal",
                "web",
                [
                    (1, hand(cs, "LOG", "Photos attached by customer")),
                    (6, reply(log, "Please keep the item; a refund is coming.")),
                    (7, hand(log, "FIN", "Refund for damaged item")),
                    (20, reply(fin, "Refund issued.")),
                    (21, resolve(fin, "Refunded in full.", "process")),
                    (60, close(cs)),
                ],
            ),
            (
                5,
                "Payment declined with valid card",
                "PAYMENT_DECLINED",
                "high",
                "app",
                [(0.2, hand(cs, "RISK", "Card flagged by risk engine"))],
            ),
            (
                16,
                "Missing items in order",
                "WRONG_ITEM",
                "normal",
                "chat",
                [
                    (0.5, hand(cs, "LOG", "Warehouse pick error suspected")),
                    (9, note(log, "Warehouse confirms the pick error.")),
                ],
            ),
            (
                34,
                "Cannot download my invoice",
                "INVOICE",
                "low",
                "web",
                [
                    (1, hand(cs, "PROD", "Invoice PDF endpoint errors")),
                    (20, reply(prod, "Fixed: please try again.")),
                    (21, resolve(prod, "PDF generation fixed.", "product_defect")),
                ],
            ),
            (0.5, "Where is my order?", "WISMO", "normal", "chat", []),
        ]

        now = clock.now()
        for index, (
            hours_ago,
            subject,
            scenario,
            priority,
            channel,
            steps,
        ) in enumerate(plans):
            ref, name, tz = CUSTOMERS[index % len(CUSTOMERS)]
            opened = now - timedelta(hours=hours_ago)
            with clock.frozen_at(opened):
                ticket_id = services.ticket_open(
                    principal=cs,
                    subject=subject,
                    customer_ref=ref,
                    customer_name=name,
                    customer_timezone=tz,
                    customer_contact=f"{ref.lower()}@example.com",
                    channel=channel,
                    scenario=scenario,
                    priority=priority,
                    external_ref=f"CRM-{5000 + index}",
                    description=f"{subject}. Reported by {name} via {channel}.",
                ).ticket_id
            for hours_after, action in steps:
                with clock.frozen_at(opened + timedelta(hours=hours_after)):
                    action(ticket_id)
        return len(plans)
