"""The HTTP benchmark's load (see ``bench_http.py``).

What it holds: the workloads (the request each makes, ``WORKLOADS``), the
closed-loop clients (one keep-alive connection and their own tickets and
baseline rows each), running one measured window of a workload with every
client, preparing the clients' tickets and rows, and the projection-lag
sampler (``LagSampler``).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

WARMUP_SECONDS = 1.5
#: How often the lag sampler reads the log's head and the positions.
SAMPLE_INTERVAL = 0.005
SAMPLE_BODIES = 3
#: Set when the run stops early (Ctrl-C, an error): clients stop at once.
STOPPING = threading.Event()


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------


@dataclass
class BenchTicket:
    id: str
    owner: str
    customer_path: str


Request = tuple[str, str, bytes | None, dict[str, str]]


@dataclass
class Workload:
    name: str
    kind: str  # "baseline_write", "baseline_read", "command" or "read"
    #: The next request of a client: method, path, body, headers.
    make: Callable[[Client], Request]
    #: Called with the client and the status after each request.
    after: Callable[[Client, int], None] | None = None

    @property
    def baseline(self) -> str | None:
        if self.kind == "command":
            return "baseline_insert"
        if self.kind == "read":
            return "baseline_read"
        return None


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _open_body(client: Client) -> bytes:
    client.serial += 1
    return _json(
        {
            "subject": "Refund not received",
            "description": "I returned the parcel two weeks ago.",
            "customer_ref": f"BENCH-{client.index}-{client.serial}",
            "customer_name": "Dana Customer",
            "customer_timezone": "Europe/Paris",
            "channel": "web",
            "scenario": client.shared.scenario,
            "priority": "normal",
        }
    )


def _command(suffix: str, body: Callable[[Client, BenchTicket], bytes]) -> Any:
    def make(client: Client) -> Request:
        ticket = client.next_ticket()
        path = f"/api/v1/tickets/{ticket.id}/{suffix}"
        return "POST", path, body(client, ticket), client.api_headers

    return make


def _hand_off_body(client: Client, ticket: BenchTicket) -> bytes:
    client.pending_owner = client.shared.next_department(ticket.owner)
    return _json({"to_department": client.pending_owner, "reason": "Bench handoff"})


def _hand_off_after(client: Client, status: int) -> None:
    if 200 <= status < 300 and client.current is not None:
        client.current.owner = client.pending_owner


def _get(path: Callable[[Client], str], *, api: bool = True) -> Any:
    def make(client: Client) -> Request:
        headers = client.api_headers if api else client.page_headers
        return "GET", path(client), None, headers

    return make


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "baseline_insert",
            "baseline_write",
            lambda c: (
                "POST",
                "/bench/insert/",
                _json({"name": f"row {c.index}", "value": c.bump()}),
                c.api_headers,
            ),
        ),
        Workload(
            "open",
            "command",
            lambda c: ("POST", "/api/v1/tickets/", _open_body(c), c.api_headers),
        ),
        Workload(
            "reply",
            "command",
            _command("responses/", lambda c, t: _json({"body": "We are on it."})),
        ),
        Workload(
            "hand_off",
            "command",
            _command("handoffs/", _hand_off_body),
            after=_hand_off_after,
        ),
        Workload(
            "note",
            "command",
            _command("notes/", lambda c, t: _json({"body": "Checked the ledger."})),
        ),
        Workload(
            "baseline_read",
            "baseline_read",
            _get(lambda c: f"/bench/rows/{c.next_row()}/"),
        ),
        Workload(
            "detail", "read", _get(lambda c: f"/api/v1/tickets/{c.next_ticket().id}/")
        ),
        Workload(
            "timeline",
            "read",
            _get(lambda c: f"/api/v1/tickets/{c.next_ticket().id}/timeline/"),
        ),
        Workload("list", "read", _get(lambda c: "/api/v1/tickets/?limit=20")),
        Workload(
            "customer_page",
            "read",
            _get(lambda c: c.next_ticket().customer_path, api=False),
        ),
    )
}


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


@dataclass
class Shared:
    """What every client needs to know about the organisation."""

    port: int
    token: str
    scenario: str
    departments: list[str]

    def next_department(self, owner: str) -> str:
        index = self.departments.index(owner) if owner in self.departments else -1
        return self.departments[(index + 1) % len(self.departments)]


@dataclass
class Window:
    """One client's measurements of one workload window."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0


_RETRYABLE = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
)


class Client:
    """One closed-loop client: its own keep-alive connection, its own
    tickets (no two clients write to the same ticket) and baseline rows."""

    def __init__(self, index: int, shared: Shared) -> None:
        self.index = index
        self.shared = shared
        self.conn = http.client.HTTPConnection("127.0.0.1", shared.port, timeout=120)
        self.api_headers = {
            "Authorization": f"Token {shared.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.page_headers = {"Accept": "text/html"}
        self.tickets: list[BenchTicket] = []
        self.rows: list[int] = []
        self.current: BenchTicket | None = None
        self.pending_owner = ""
        self.serial = 0
        self._ticket_cursor = 0
        self._row_cursor = 0
        self.reconnects = 0

    def bump(self) -> int:
        self.serial += 1
        return self.serial

    def next_ticket(self) -> BenchTicket:
        ticket = self.tickets[self._ticket_cursor % len(self.tickets)]
        self._ticket_cursor += 1
        self.current = ticket
        return ticket

    def next_row(self) -> int:
        row = self.rows[self._row_cursor % len(self.rows)]
        self._row_cursor += 1
        return row

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """One request on the kept-alive connection; reconnects once if the
        server had closed it (gunicorn's keep-alive timeout)."""
        reused = self.conn.sock is not None
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except _RETRYABLE:
            self.conn.close()
            if not reused:
                raise
        self.reconnects += 1
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def run(
        self, workload: Workload, measure_from: float, stop_at: float, out: Window
    ) -> None:
        """Closed loop until ``stop_at``; requests that complete inside
        [``measure_from``, ``stop_at``] are measured."""
        reconnects = self.reconnects
        clock = time.perf_counter
        try:
            while True:
                started = clock()
                if started >= stop_at or STOPPING.is_set():
                    break
                method, path, body, headers = workload.make(self)
                try:
                    status, data = self.request(method, path, body, headers)
                except (OSError, http.client.HTTPException) as error:
                    status, data = 0, repr(error).encode()
                    self.conn.close()
                ended = clock()
                if workload.after is not None:
                    workload.after(self, status)
                if ended < measure_from or ended > stop_at:
                    continue
                out.latencies.append(ended - started)
                out.statuses[status] += 1
                if not 200 <= status < 300:
                    out.errors += 1
                    if len(out.samples) < SAMPLE_BODIES:
                        out.samples.append(
                            {
                                "status": status,
                                "method": method,
                                "path": path,
                                "body": data[:600].decode("utf-8", "replace"),
                            }
                        )
        finally:
            out.reconnects += self.reconnects - reconnects


def run_window(
    clients: list[Client],
    workload: Workload,
    seconds: float,
    sampler: LagSampler | None = None,
) -> tuple[Window, float]:
    """Every client runs ``workload`` at once: a warm-up, then ``seconds``
    measured (the events the sampler first sees then are the workload's).
    Returns the merged measurements and the measured seconds."""
    start = time.perf_counter()
    measure_from = start + WARMUP_SECONDS
    stop_at = measure_from + seconds
    windows = [Window() for _ in clients]
    threads = [
        threading.Thread(
            target=client.run,
            args=(workload, measure_from, stop_at, window),
            name=f"client-{client.index}",
            daemon=True,
        )
        for client, window in zip(clients, windows, strict=True)
    ]
    for thread in threads:
        thread.start()
    if sampler is not None:
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        sampler.tag = workload.name
        time.sleep(max(0.0, stop_at - time.perf_counter()))
        sampler.tag = None
    for thread in threads:
        thread.join()
    merged = Window()
    for window in windows:
        merged.latencies.extend(window.latencies)
        merged.statuses.update(window.statuses)
        merged.errors += window.errors
        merged.reconnects += window.reconnects
        merged.samples.extend(window.samples[: SAMPLE_BODIES - len(merged.samples)])
    return merged, seconds


# ---------------------------------------------------------------------------
# Projection lag
# ---------------------------------------------------------------------------


class LagSampler(threading.Thread):
    """Every ``SAMPLE_INTERVAL`` reads the event log's highest notification
    id and the projections' tracked positions (one query, its own
    connection). The lag of an event is the time the lowest position of a
    group first reached its id minus the time its id was first seen; events
    are attributed to the workload running when they were first seen."""

    def __init__(
        self,
        conninfo: dict[str, Any],
        table: str,
        application: str,
        groups: dict[str, list[str]],
    ) -> None:
        super().__init__(name="lag-sampler", daemon=True)
        self.conninfo = conninfo
        self.table = table
        self.application = application
        self.groups = groups
        self.tag: str | None = None
        self.stopping = threading.Event()
        self.error: str | None = None
        self.head = 0
        self.positions: dict[str, int] = {}
        self.polls = 0
        # Per group: ranges (first id, last id, seen at, tag) not yet
        # visible, and the lags (ms) by tag.
        self._pending: dict[str, list[list[Any]]] = {g: [] for g in groups}
        self.lags: dict[str, dict[str, list[float]]] = {g: {} for g in groups}
        self._ready = threading.Event()

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(**self.conninfo, autocommit=True) as conn:
                query = (
                    "SELECT projection, position FROM tickets_projectiontracking "
                    "WHERE application = %s UNION ALL "
                    f"SELECT '', COALESCE(MAX(notification_id), 0) FROM {self.table}"
                )
                self._poll(conn, query, first=True)
                self._ready.set()
                next_at = time.perf_counter()
                while not self.stopping.is_set():
                    next_at += SAMPLE_INTERVAL
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    else:
                        next_at = time.perf_counter()
                    self._poll(conn, query)
        except Exception as error:
            self.error = repr(error)
            self._ready.set()

    def wait_ready(self) -> None:
        self._ready.wait(30)

    def _poll(self, conn: Any, query: str, *, first: bool = False) -> None:
        rows = conn.execute(query, (self.application,)).fetchall()
        now = time.perf_counter()
        self.polls += 1
        positions = {name: int(pos) for name, pos in rows if name}
        head = max((int(pos) for name, pos in rows if not name), default=0)
        self.positions = positions
        if head > self.head:
            if not first:
                for pending in self._pending.values():
                    pending.append([self.head + 1, head, now, self.tag])
            self.head = head
        for group, names in self.groups.items():
            reached = min((positions.get(n, 0) for n in names), default=0)
            pending = self._pending[group]
            lags = self.lags[group]
            while pending and pending[0][0] <= reached:
                lo, hi, seen, tag = pending[0]
                done = min(hi, reached)
                if tag is not None:
                    lag_ms = (now - seen) * 1000
                    lags.setdefault(tag, []).extend([lag_ms] * (done - lo + 1))
                if done == hi:
                    pending.pop(0)
                else:
                    pending[0][0] = done + 1
                    break

    def caught_up(self) -> bool:
        names = [n for names in self.groups.values() for n in names]
        return all(self.positions.get(n, 0) >= self.head for n in names)

    def unresolved(self, group: str) -> int:
        return sum(
            hi - lo + 1 for lo, hi, _, tag in self._pending[group] if tag is not None
        )


def prepare_client(client: Client, tickets: int, rows: int, front_line: str) -> None:
    """Open the client's tickets and insert its baseline rows, through the
    API."""
    for _ in range(tickets):
        status, data = client.request(
            "POST", "/api/v1/tickets/", _open_body(client), client.api_headers
        )
        if status not in (201, 202):
            raise RuntimeError(f"Opening a ticket answered {status}: {data[:600]!r}")
        body = json.loads(data)
        link = body.get("customer_link") or ""
        client.tickets.append(
            BenchTicket(
                id=str(body["id"]),
                owner=str(body.get("owner") or front_line),
                customer_path=urlsplit(link).path,
            )
        )
    for _ in range(rows):
        status, data = client.request(
            "POST",
            "/bench/insert/",
            _json({"name": "seed", "value": client.bump()}),
            client.api_headers,
        )
        if status != 201:
            raise RuntimeError(f"The baseline insert answered {status}: {data[:600]!r}")
        client.rows.append(int(json.loads(data)["id"]))


def in_parallel(clients: list[Client], func: Callable[[Client], None]) -> None:
    errors: list[BaseException] = []

    def run(client: Client) -> None:
        try:
            func(client)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
