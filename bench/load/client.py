"""A bounded load generator: N threads, each a client looping over a weighted mix until a deadline.

Only 127.0.0.1. Each request has a timeout; the run stops at the deadline whatever happens. Latencies
are recorded per endpoint; 5xx and transport errors are counted separately.
"""

import http.client
import json
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bench.load.seed import World

REQUEST_TIMEOUT_SECONDS = 30
BULK_SIZE = 50


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1

    def error(self, endpoint: str) -> None:
        with self.lock:
            self.errors[endpoint] += 1

    @property
    def server_errors(self) -> int:
        return sum(n for by in self.statuses.values() for s, n in by.items() if s >= 500)


class Client:
    """One simulated API user: reads the queue, enrolls, bulk-enrolls, sends what it saw ready."""

    MIX = [("queue_read", 50), ("enroll", 20), ("send", 20), ("bulk_enroll", 5), ("enrollment_list", 5)]

    def __init__(self, *, port: int, world: World, stats: Stats, seed: int) -> None:
        self.port = port
        self.world = world
        self.stats = stats
        self.rng = random.Random(seed)
        self.ready_reminders: list[str] = []
        self.base = f"/api/companies/{world.company_id}"
        self.headers = {"Authorization": f"Token {world.token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)

    def run(self, deadline: float) -> None:
        names, weights = zip(*self.MIX, strict=True)
        while time.monotonic() < deadline:
            action = self.rng.choices(names, weights)[0]
            if action == "send" and not self.ready_reminders:
                action = "queue_read"
            getattr(self, action)()
        self.conn.close()

    def call(self, endpoint: str, method: str, path: str, body: dict | None = None) -> dict | None:
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(method, self.base + path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.stats.error(endpoint)
            self.conn.close()
            return None
        self.stats.record(endpoint, response.status, time.perf_counter() - started)
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def queue_read(self) -> None:
        page = self.rng.randint(1, 3)
        data = self.call("GET queue", "GET", f"/sequences/queue?category=ready&page={page}&page_size=20")
        rows = (data or {}).get("data") or []
        self.ready_reminders = [r["id"] for r in rows if r.get("step_type") == "reminder"]
        self.rng.shuffle(self.ready_reminders)

    def enroll(self) -> None:
        body = {
            "sequence_id": self.world.sequence_id,
            "customer_id": self.rng.choice(self.world.customer_ids),
        }
        self.call("POST enroll", "POST", "/sequence-enrollments", body)

    def bulk_enroll(self) -> None:
        ids = self.rng.sample(self.world.customer_ids, BULK_SIZE)
        self.call(
            "POST bulk enroll",
            "POST",
            f"/sequences/{self.world.sequence_id}/enrollments/bulk",
            {"customer_ids": ids},
        )

    def send(self) -> None:
        row_id = self.ready_reminders.pop()
        self.call("POST send", "POST", f"/sequences/queue/{row_id}/send", {})

    def enrollment_list(self) -> None:
        self.call("GET enrollments", "GET", f"/sequence-enrollments?sequence_id={self.world.sequence_id}")


class FloorClient(Client):
    """The baseline: the same clients reading the company's settings (authentication, one row, a
    serializer), the least an API request costs on this stack and machine."""

    MIX = [("settings_read", 1)]

    def settings_read(self) -> None:
        self.call("GET settings", "GET", "/settings")


def run_load(
    *, port: int, world: World, clients: int, seconds: float, client_class: type[Client] = Client
) -> tuple[Stats, float]:
    stats = Stats()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_class(port=port, world=world, stats=stats, seed=i).run, args=(deadline,)
        )
        for i in range(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_SECONDS + 5)
    return stats, time.monotonic() - started
