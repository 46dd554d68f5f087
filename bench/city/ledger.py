"""What a city run's observations add up to: what was lost, doubled or late, measured against the faults.

Pure functions over plain records (no Django, no network), so a test can feed them a crafted run. Every
time is in seconds since the epoch: the simulation stamps what its apps see with `time.time()`, and the
database's timestamps are converted to the same clock (one machine).

Lateness has one rule everywhere: something that happened at `at` must reach its reader within
`LATE_SECONDS`, or within `LATE_SECONDS` of the heal of a fault that broke out before then (`deadline`).
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

LATE_SECONDS = 10.0
#: Order statuses an order never leaves.
TERMINAL = frozenset({"delivered", "rejected", "cancelled", "delivery_failed"})
#: Order event kinds that change the status: each happens at most once in an order's history.
STATUS_KINDS = frozenset(
    {"placed", "accepted", "preparing", "ready_for_pickup", "picked_up", *TERMINAL, "payment_pending"}
)


@dataclass(frozen=True)
class Fault:
    """One fault: broken from `started_at` to `ended_at` (the part restarted, Redis back, the backends
    terminated), healed at `healed_at` (every kind of activity seen again; None until measured)."""

    kind: str
    started_at: float
    ended_at: float
    healed_at: float | None = None

    @property
    def over_at(self) -> float:
        return self.ended_at if self.healed_at is None else self.healed_at


def deadline(at: float, faults: Iterable[Fault], *, within: float = LATE_SECONDS) -> float:
    """When something that happened at `at` is late: `within` seconds after it, or after the heal of
    each fault that was under way by then (a fault that broke out while it was due pushes it along)."""
    due = at + within
    for fault in sorted(faults, key=lambda fault: fault.started_at):
        if fault.started_at <= due and fault.over_at >= at:
            due = max(due, fault.over_at + within)
    return due


def heal(fault: Fault, activity: Mapping[str, Sequence[float]]) -> tuple[Fault, dict[str, float | None]]:
    """Per kind of activity (2xx answers, job steps, socket events, pushes...), the seconds from the
    fault's end to the first one after it; the fault is healed once the slowest kind is back."""
    back: dict[str, float | None] = {}
    for kind, times in activity.items():
        after = [moment for moment in times if moment >= fault.ended_at]
        back[kind] = round(min(after) - fault.ended_at, 2) if after else None
    seen = [seconds for seconds in back.values() if seconds is not None]
    return replace(fault, healed_at=fault.ended_at + max(seen, default=0.0)), back


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One try of one call: the answer's status (None: no answer at all), and whether an earlier try of
    the same call had failed (so this one is the app's retry)."""

    endpoint: str
    at: float
    status: int | None
    retry: bool = False
    code: str = ""


def during(at: float, faults: Sequence[Fault]) -> str:
    """The fault `at` falls in (from its start to its heal, plus the lateness allowance), or `none`."""
    for fault in faults:
        if fault.started_at <= at <= fault.over_at + LATE_SECONDS:
            return fault.kind
    return "none"


def http_ledger(attempts: Iterable[Attempt], faults: Sequence[Fault]) -> dict[str, Any]:
    """5xx answers and calls without an answer by endpoint, and the retries refused (a 4xx for a retry
    of a call whose earlier try failed: the first try probably did the work, the retry was told no)."""
    server_errors: Counter[str] = Counter()
    no_answer: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    by_fault: Counter[str] = Counter()
    for attempt in attempts:
        if attempt.status is None:
            no_answer[attempt.endpoint] += 1
        elif attempt.status >= 500:
            server_errors[attempt.endpoint] += 1
            by_fault[during(attempt.at, faults)] += 1
        elif attempt.retry and 400 <= attempt.status < 500 and attempt.status != 429:
            refused[f"{attempt.endpoint} -> {attempt.status} {attempt.code}".strip()] += 1
    return {
        "5xx": dict(sorted(server_errors.items())),
        "5xx_total": sum(server_errors.values()),
        "5xx_by_fault": dict(sorted(by_fault.items())),
        "no_answer": dict(sorted(no_answer.items())),
        "retries_refused": dict(sorted(refused.items())),
    }


# --- orders, their history and the outbox ---------------------------------------------------------


@dataclass(frozen=True)
class OrderRecord:
    """One order of the run as PostgreSQL holds it at the end."""

    order_id: int
    status: str
    reason: str
    events: Sequence[tuple[int, str]]  # (version, kind) of each OrderEvent
    drivers: Sequence[int]  # the drivers of its jobs that were not cancelled


def order_ledger(orders: Iterable[OrderRecord], *, acknowledged: Iterable[int]) -> dict[str, Any]:
    """Orders by final status (cancellations by reason), the ones still open (stuck), and what PostgreSQL
    must never show: a history with a gap or a repeated transition, two drivers for one order. An order
    placed whose customer never got its answer is `unacknowledged`."""
    records = list(orders)
    known = set(acknowledged)
    by_status = Counter(record.status for record in records)
    gaps, repeated, two_drivers = [], [], []
    for record in records:
        versions = sorted(version for version, _ in record.events)
        if versions != list(range(1, len(versions) + 1)):
            gaps.append(record.order_id)
        kinds = Counter(kind for _, kind in record.events if kind in STATUS_KINDS)
        if any(count > 1 for count in kinds.values()):
            repeated.append(record.order_id)
        if len(set(record.drivers)) > 1:
            two_drivers.append(record.order_id)
    return {
        "placed": len(records),
        "delivered": by_status.get("delivered", 0),
        "cancelled": by_status.get("cancelled", 0),
        "rejected": by_status.get("rejected", 0),
        "delivery_failed": by_status.get("delivery_failed", 0),
        "stuck": sorted(record.order_id for record in records if record.status not in TERMINAL),
        "by_status": dict(sorted(by_status.items())),
        "cancel_reasons": dict(
            Counter(record.reason or "-" for record in records if record.status == "cancelled")
        ),
        "sequence_gaps": sorted(gaps),
        "repeated_transitions": sorted(repeated),
        "two_drivers": sorted(two_drivers),
        "unacknowledged": sorted(record.order_id for record in records if record.order_id not in known),
    }


@dataclass(frozen=True)
class OutboxRecord:
    event_id: str
    aggregate: str  # "order:12"
    sequence: int
    published: bool
    given_up: bool  # a destination the relay gave up on


def outbox_ledger(events: Iterable[OutboxRecord]) -> dict[str, Any]:
    """Events never published, destinations given up, and two events with one place in an aggregate's
    sequence (a transition recorded twice)."""
    records = list(events)
    places = Counter((record.aggregate, record.sequence) for record in records if record.sequence > 0)
    return {
        "events": len(records),
        "unpublished": sum(not record.published for record in records),
        "given_up": sum(record.given_up for record in records),
        "doubled_sequence": sum(count - 1 for count in places.values() if count > 1),
    }


def cash_ledger(
    before: Mapping[int, int], after: Mapping[int, int], collected: Mapping[int, int]
) -> dict[str, Any]:
    """Drivers whose cash balance moved by something else than the cash their delivered jobs collected."""
    off = sorted(
        driver
        for driver in set(before) | set(after)
        if after.get(driver, 0) - before.get(driver, 0) != collected.get(driver, 0)
    )
    return {"collected_vnd": sum(collected.values()), "unbalanced_drivers": off}


# --- notifications and pushes -------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A message the rules call for: to whom, which template, for which outbox event (and when)."""

    user_id: int
    kind: str
    event_id: str
    event_at: float


@dataclass(frozen=True)
class InboxRow:
    """A notification in a user's inbox; `subject` names what it is about (`order:12`, `offer:5`)."""

    notification_id: int
    user_id: int
    kind: str
    event_id: str
    subject: str
    created_at: float


@dataclass(frozen=True)
class PushReceipt:
    """A push the provider received: which notification, to which device token, when."""

    notification_id: int
    token: str
    at: float


def notification_ledger(
    expected: Iterable[Notice], inbox: Iterable[InboxRow], faults: Sequence[Fault]
) -> dict[str, Any]:
    """The notices the rules call for against the inbox: lost (no row), doubled (a second row about the
    same thing, for the same user and template) and late (the row came after its deadline)."""
    wanted = {(notice.user_id, notice.kind, notice.event_id): notice for notice in expected}
    rows = list(inbox)
    first: dict[tuple[int, str, str], float] = {}
    for row in rows:
        key = (row.user_id, row.kind, row.event_id)
        first[key] = min(first.get(key, row.created_at), row.created_at)
    about = Counter((row.user_id, row.kind, row.subject) for row in rows)
    late = [
        notice
        for key, notice in wanted.items()
        if key in first and first[key] > deadline(notice.event_at, faults)
    ]
    return {
        "expected": len(wanted),
        "in_inbox": sum(key in first for key in wanted),
        "lost": sum(key not in first for key in wanted),
        "lost_kinds": dict(Counter(key[1] for key in wanted if key not in first)),
        "doubled": sum(count - 1 for count in about.values()),
        "late": len(late),
        "late_by_seconds_max": round(
            max(
                (first[(n.user_id, n.kind, n.event_id)] - deadline(n.event_at, faults) for n in late),
                default=0,
            ),
            1,
        ),
        "unexpected": sum(key not in wanted for key in first),
    }


def push_ledger(
    inbox: Iterable[InboxRow],
    receipts: Iterable[PushReceipt],
    faults: Sequence[Fault],
    *,
    event_at: Mapping[str, float],
    tokens: Mapping[int, Sequence[str]],
) -> dict[str, Any]:
    """Every inbox row calls for a push to each of its user's devices: lost (never reached the
    provider), doubled (the same device got it twice) and late (first try after the event's deadline)."""
    arrivals: dict[tuple[int, str], list[float]] = defaultdict(list)
    for receipt in receipts:
        arrivals[(receipt.notification_id, receipt.token)].append(receipt.at)
    expected = lost = 0
    overdue: list[float] = []
    for row in inbox:
        for token in tokens.get(row.user_id, ()):
            expected += 1
            times = arrivals.get((row.notification_id, token))
            if not times:
                lost += 1
                continue
            due = deadline(event_at.get(row.event_id, row.created_at), faults)
            if min(times) > due:
                overdue.append(min(times) - due)
    return {
        "expected": expected,
        "attempted": expected - lost,
        "lost": lost,
        "doubled": sum(len(times) - 1 for times in arrivals.values()),
        "late": len(overdue),
        "late_by_seconds_max": round(max(overdue, default=0.0), 1),
    }


# --- sockets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sighting:
    """What an app learned about an order at `at` (from a snapshot or a pushed event)."""

    order_id: int
    at: float
    sequence: int
    status: str


@dataclass(frozen=True)
class OrderTruth:
    """An order's history as PostgreSQL holds it: its final status and when each version was written."""

    order_id: int
    status: str
    versions: Sequence[tuple[int, float]]


def doubled_events(connections: Iterable[Sequence[str]]) -> int:
    """Pushed events a socket received twice (the event ids each connection received, in order)."""
    return sum(len(ids) - len(set(ids)) for ids in connections)


def order_stream_ledger(
    truths: Iterable[OrderTruth],
    sightings: Iterable[Sighting],
    faults: Sequence[Fault],
    *,
    connections: Iterable[Sequence[str]] = (),
) -> dict[str, Any]:
    """The customers' order streams: lost (the app did not end on the order's real final status), late
    (a version reached the app, by event or snapshot, after its deadline) and doubled events."""
    seen: dict[int, list[Sighting]] = defaultdict(list)
    for sighting in sightings:
        seen[sighting.order_id].append(sighting)
    lost, late_orders, late_versions = [], set(), 0
    for truth in truths:
        mine = sorted(seen.get(truth.order_id, []), key=lambda sighting: sighting.at)
        newest = max(mine, key=lambda sighting: sighting.sequence, default=None)
        if newest is None or newest.status != truth.status:
            lost.append(truth.order_id)
        for version, written_at in truth.versions:
            arrived = next((s.at for s in mine if s.sequence >= version), None)
            if arrived is not None and arrived > deadline(written_at, faults):
                late_versions += 1
                late_orders.add(truth.order_id)
    return {
        "lost": len(lost),
        "lost_orders": sorted(lost),
        "late_versions": late_versions,
        "late_orders": len(late_orders),
        "doubled": doubled_events(connections),
    }


def first_sightings_ledger(
    due: Mapping[Any, float], seen_at: Mapping[Any, float], faults: Sequence[Fault]
) -> dict[str, Any]:
    """Things an app must learn of (a merchant its new orders, a driver its offers), each created at
    `due[thing]`, against when the app first saw it (event or snapshot): never, or late."""
    never = [thing for thing in due if thing not in seen_at]
    late = [thing for thing in due if thing in seen_at and seen_at[thing] > deadline(due[thing], faults)]
    return {"expected": len(due), "never_seen": len(never), "late": len(late)}
