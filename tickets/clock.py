"""The one source of "now" for Baton's write path.

Domain code never reads the clock; commands receive ``at`` from here.
Tests freeze it with time-machine (which patches ``datetime.now``), and the
demo loader uses :func:`frozen_at` to lay history out in the past.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("baton_clock_frozen", default=None)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    frozen = _frozen.get()
    if frozen is not None:
        return frozen
    return datetime.now(UTC)


@contextmanager
def frozen_at(at: datetime) -> Iterator[None]:
    """Make :func:`now` return ``at`` (aware) inside the block."""
    if at.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
