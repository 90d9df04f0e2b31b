"""Two SLA sweeps at the same moment, on two database connections: the
harness the exactly-once tests of breaches, stalls and abandonments share."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from django.db import connection

from sla import services as sla_services


def concurrent_sweeps(now: datetime, sweeps: int = 2) -> list[Any]:
    """Run ``sweeps`` sweeps at ``now`` in threads released together; their
    results (every sweep must finish without an error)."""
    barrier = threading.Barrier(sweeps)
    results: list[Any] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(sla_services.sla_sweep(now=now))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results
