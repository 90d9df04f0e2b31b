"""The pure clock arithmetic the aggregate and the what-if replay share
(``tickets.domain.clocks``), on a fake office-hours calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.domain.support import FakeSLAPort, H
from tickets.domain.clocks import (
    BusinessTime,
    breached,
    business_seconds_used,
    due_time,
    is_paused,
    is_running,
    late,
    reached,
    resume,
)

MON = datetime(2026, 3, 2, tzinfo=UTC)


def mon(hour: float) -> datetime:
    return MON + timedelta(hours=hour)


def office() -> BusinessTime:
    """09:00-17:00 every day."""
    return BusinessTime(FakeSLAPort(opens=9, closes=17), "FIN", 7)


def test_a_due_time_is_the_start_plus_the_target_in_business_time() -> None:
    # 2h from Monday 16:00: one hour on Monday, one on Tuesday.
    assert due_time(office(), mon(16), 2 * H) == mon(24 + 10)
    assert due_time(office(), mon(10), 2 * H) == mon(12)


def test_shifting_by_nothing_leaves_the_instant_as_it_is() -> None:
    # Even outside working hours, where a real shift would move it.
    assert office().shift(mon(20), 0) == mon(20)
    assert office().shift(mon(20), -5) == mon(20)
    assert office().shift(mon(20), 1) == mon(24 + 9) + timedelta(seconds=1)


def test_resuming_moves_due_and_warning_times_by_the_business_time_paused() -> None:
    # Paused Monday 16:00 to Tuesday 10:00: 1h + 1h of business time.
    moved = resume(
        office(), since=mon(16), at=mon(24 + 10), due_at=mon(17), warn_at=mon(16.5)
    )
    assert moved.paused_seconds == 2 * H
    assert moved.due_at == mon(24 + 11)
    assert moved.warn_at == mon(24 + 10.5)


def test_a_pause_entirely_outside_business_hours_moves_nothing() -> None:
    moved = resume(
        office(),
        since=mon(18),
        at=mon(24 + 8),
        due_at=mon(24 + 12),
        warn_at=mon(24 + 11),
    )
    assert moved.paused_seconds == 0
    assert (moved.due_at, moved.warn_at) == (mon(24 + 12), mon(24 + 11))


def test_business_seconds_used_leave_out_the_pauses_and_never_go_negative() -> None:
    used = business_seconds_used(
        office(), started_at=mon(10), at=mon(24 + 10), paused_seconds=1 * H
    )
    assert used == (7 + 1 - 1) * H
    assert (
        business_seconds_used(
            office(), started_at=mon(10), at=mon(11), paused_seconds=2 * H
        )
        == 0.0
    )


def test_late_means_strictly_after_the_due_time() -> None:
    assert not late(mon(12), mon(12))
    assert late(mon(12) + timedelta(microseconds=1), mon(12))
    assert not late(mon(11), mon(12))


def test_a_breach_once_found_stays_whatever_the_due_time_becomes() -> None:
    assert breached(already=True, at=mon(10), due_at=mon(12))
    assert breached(already=False, at=mon(13), due_at=mon(12))
    assert not breached(already=False, at=mon(12), due_at=mon(12))


def test_a_threshold_is_reached_at_its_instant() -> None:
    assert reached(mon(12), mon(12))
    assert reached(mon(13), mon(12))
    assert not reached(mon(11), mon(12))


def test_running_and_paused_states() -> None:
    assert is_running(paused_at=None, stopped_at=None)
    assert not is_running(paused_at=mon(1), stopped_at=None)
    assert not is_running(paused_at=None, stopped_at=mon(1))
    assert is_paused(paused_at=mon(1), stopped_at=None)
    assert not is_paused(paused_at=mon(1), stopped_at=mon(2))
    assert not is_paused(paused_at=None, stopped_at=None)
