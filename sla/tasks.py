"""django-q2 tasks. They take ids, are idempotent, and call services."""

from __future__ import annotations

from sla import services


def sweep_sla_clocks() -> dict[str, int]:
    """Scheduled every BATON_SLA_SWEEP_MINUTES: record warnings and
    breaches, then re-send any notification still unsent."""
    result = services.sla_sweep()
    resent = services.notifications_send_pending()
    return {
        "warnings": result.warnings,
        "breaches": result.breaches,
        "skipped": result.skipped,
        "notifications_resent": resent,
    }


def send_sla_notification(position: int) -> bool:
    return services.notification_send(position=position)


def send_scorecard_reports(period: str = "week") -> dict[str, int]:
    """Scheduled by BATON_REPORT_SCHEDULE (Mondays 07:00 by default):
    generate the last complete period's reports and email those not sent
    yet. Idempotent: a rerun neither duplicates a report nor resends it."""
    from sla.report_services import reports_generate_and_send

    run = reports_generate_and_send(period=period)
    return {"reports": len(run.reports), "sent": run.sent, "failed": run.failed}


def retry_scorecard_reports() -> dict[str, int]:
    """Hourly: email the stored reports a failure left unsent."""
    from sla.report_services import reports_send_pending

    run = reports_send_pending()
    return {"sent": run.sent, "failed": run.failed}
