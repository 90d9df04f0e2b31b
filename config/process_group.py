"""Run a command in a process group of its own and stop it with SIGINT.

Usage: ``python -m config.process_group COMMAND [ARGS...]`` (the Procfile's
worker line).

Process managers stop a process by signalling its whole process group:
honcho (``make run``) sends SIGTERM to the group, then SIGKILL after 5
seconds; so does systemd's default ``KillMode=control-group``. django-q2's
``qcluster`` cannot take that: its sentinel and workers die on SIGTERM at
once while the parent waits on a lock they held, and the cluster hangs
until it is killed. It stops cleanly (in under a second when idle) on
SIGINT to the group, which only the parent acts on.

So this launcher puts the command in a new process group, which the
manager's signal does not reach, and turns SIGTERM or SIGINT into SIGINT to
that group. If the launcher itself is killed, Linux sends the command
SIGINT (``PR_SET_PDEATHSIG``), so nothing is left running. The exit status
is the command's.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1


def _interrupt_when_orphaned(parent: int) -> None:
    """In the child before exec: ask for SIGINT when the launcher dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    if os.getppid() != parent:  # the launcher died before prctl took effect
        os.kill(os.getpid(), signal.SIGINT)


def run(command: list[str]) -> int:
    """Run ``command`` until it exits; returns its exit status (128 + the
    signal number if a signal ended it)."""
    launcher = os.getpid()
    child = subprocess.Popen(  # noqa: S603 - the Procfile's own command
        command,
        process_group=0,
        preexec_fn=lambda: _interrupt_when_orphaned(launcher),
    )

    def interrupt(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):  # it has just exited
            os.killpg(child.pid, signal.SIGINT)

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    status = child.wait()
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m config.process_group COMMAND [ARGS...]")
    sys.exit(run(sys.argv[1:]))
