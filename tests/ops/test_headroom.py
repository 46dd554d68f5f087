"""Headroom: limits from the benchmark results, live load beside them, the warning under 10x and the
alert at 40% of a limit (and not below)."""

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from loship.events.models import OutboxEvent
from loship.metrics import LOCATION_FIXES, WEBSOCKET_CONNECTIONS
from ops.headroom import Level, current_readings, location_fixes_per_second, record_fix_sample
from ops.models import Capacity, HeadroomAlert, LoadFigure
from ops.services import check_headroom, record_capacity
from ops.tasks import check_headroom_task
from tests.factories import UserFactory
from tests.ops.conftest import scrape
from users.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def sockets() -> Any:
    """Set this process's open-socket gauge for one test (the fleet sum is this process alone)."""
    gauge = WEBSOCKET_CONNECTIONS.labels(stream="customer")
    before = gauge._value.get()

    def set_open(n: int) -> None:
        gauge.set(n)

    yield set_open
    gauge.set(before)


def limit(figure: str, value: float) -> None:
    record_capacity(figure=figure, limit=value, source="test", basis="test", measured_at=timezone.now())


def reading(figure: str) -> Any:
    return next(r for r in current_readings() if r.figure == figure)


def test_record_capacity_reads_json_and_the_orders_results(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    (bench / "city").mkdir(parents=True)
    (bench / "orders_RESULTS.md").write_text(
        "| endpoint | requests/s |\n| --- | --- |\n| place order | 59.8 | 1 |\n"
    )
    (bench / "city_RESULTS.json").write_text(
        json.dumps(
            {
                "measured_at": "2026-11-25T05:00:00Z",
                "capacity": [
                    {"figure": "open_sockets", "limit": 4000, "basis": "city"},
                    {"figure": "location_fixes_per_second", "limit": 900, "basis": "city"},
                    {"figure": "bogus", "limit": 1},
                ],
            }
        )
    )
    (bench / "city" / "other.json").write_text(
        json.dumps(
            {
                "capacity": [
                    {"figure": "open_sockets", "limit": 2500},
                    # Read first: none of these may become a limit (NaN or true would win "lowest").
                    {"figure": "location_fixes_per_second", "limit": float("nan")},
                    {"figure": "location_fixes_per_second", "limit": float("inf")},
                    {"figure": "open_sockets", "limit": True},
                    "not an entry",
                ]
            }
        )
    )
    (bench / "unrelated.json").write_text(json.dumps({"instances": []}))
    call_command("record_capacity", "--bench-dir", str(bench), "--set", "queue_depth=5000")
    limits = dict(Capacity.objects.values_list("figure", "limit"))
    assert limits == {
        "orders_per_minute": pytest.approx(59.8 * 60),
        "open_sockets": 2500,  # the lower of two measurements
        "location_fixes_per_second": 900,
        "queue_depth": 5000,
    }
    assert Capacity.objects.get(figure="open_sockets").source == "bench/city/other.json"


def test_record_capacity_takes_the_median_of_the_per_run_orders_table(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    table = [
        "## Results",
        "",
        "| run | load avg | baseline rps | placement rps | rps ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| 1 | 7.4 | 85.2 | 44.0 | **0.518** |",
        "| 2 | 12.9 | 95.9 | 50.0 | **0.503** |",
        "| 3 | 5.6 | 81.4 | 46.0 | 0.5 |",
        "| median | | | | **0.51** |",
        "",
        "| step | placement rps |",
        "| --- | ---: |",
        "| 1 | 999 |",
    ]
    (bench / "orders_RESULTS.md").write_text("\n".join(table) + "\n")
    call_command("record_capacity", "--bench-dir", str(bench))
    assert Capacity.objects.get(figure="orders_per_minute").limit == pytest.approx(46.0 * 60)


def test_record_capacity_refuses_a_bad_override(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("record_capacity", "--bench-dir", str(tmp_path), "--set", "open_sockets=-3")
    with pytest.raises(CommandError):
        call_command("record_capacity", "--bench-dir", str(tmp_path), "--set", "nonsense=3")
    for not_a_limit in ("nan", "inf"):  # float() takes them; PostgreSQL's CHECK (limit > 0) passes NaN
        with pytest.raises(CommandError):
            call_command(
                "record_capacity", "--bench-dir", str(tmp_path), "--set", f"open_sockets={not_a_limit}"
            )
    assert not Capacity.objects.exists()


def test_headroom_factor_and_levels(sockets: Any) -> None:
    limit(LoadFigure.OPEN_SOCKETS, 1000)
    sockets(50)
    r = reading(LoadFigure.OPEN_SOCKETS)
    assert (r.load, r.headroom, r.level) == (50, 20, Level.OK)
    sockets(101)
    assert reading(LoadFigure.OPEN_SOCKETS).level == Level.WARNING  # under 10x
    assert reading(LoadFigure.QUEUE_DEPTH).level == Level.UNKNOWN  # never measured


def test_alert_fires_at_40_percent_and_not_below(sockets: Any, caplog: Any) -> None:
    limit(LoadFigure.OPEN_SOCKETS, 100)
    sockets(39)
    with caplog.at_level(logging.WARNING, logger="ops.services"):
        check_headroom()
    assert not HeadroomAlert.objects.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("under 10x" in r.getMessage() for r in caplog.records)  # 2.6x: a warning only
    alerts_before = scrape().value_or_zero("loship_headroom_alerts_total", figure="open_sockets")

    sockets(40)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ops.services"):
        assert check_headroom_task.apply().get() == 1
    alert = HeadroomAlert.objects.get()
    assert (alert.figure, alert.load, alert.limit, alert.closed_at) == ("open_sockets", 40, 100, None)
    assert alert.notified_via in {"notify", "outbox"}
    assert [r.levelno for r in caplog.records if "headroom alert" in r.getMessage()] == [logging.ERROR]
    event = OutboxEvent.objects.get(topic="ops.headroom_alert")
    assert event.payload["figure"] == "open_sockets" and event.payload["limit"] == 100
    assert scrape().value("loship_headroom_alerts_total", figure="open_sockets") == alerts_before + 1


def test_an_open_alert_is_not_raised_twice_and_closes_when_load_falls(sockets: Any) -> None:
    limit(LoadFigure.OPEN_SOCKETS, 100)
    sockets(45)
    check_headroom()
    sockets(60)
    check_headroom()
    alert = HeadroomAlert.objects.get()
    assert alert.peak_load == 60
    assert OutboxEvent.objects.filter(topic="ops.headroom_alert").count() == 1
    sockets(10)
    check_headroom()
    alert.refresh_from_db()
    assert alert.closed_at is not None
    sockets(50)
    check_headroom()
    assert HeadroomAlert.objects.filter(closed_at__isnull=True).count() == 1
    assert HeadroomAlert.objects.count() == 2


def test_orders_per_minute_alert_counts_orders_in_the_window(place: Any, settings: Any) -> None:
    settings.HEADROOM_ORDERS_WINDOW_MINUTES = 1
    limit(LoadFigure.ORDERS_PER_MINUTE, 10)
    for _ in range(3):
        assert place().status_code == 201
    check_headroom()
    assert reading(LoadFigure.ORDERS_PER_MINUTE).load == 3
    assert not HeadroomAlert.objects.exists()
    assert place().status_code == 201
    check_headroom()
    assert HeadroomAlert.objects.get().figure == "orders_per_minute"


def test_location_fix_rate_comes_from_the_fleet_counter_between_samples() -> None:
    now = time.time()
    counter = LOCATION_FIXES.labels(outcome="accepted")
    record_fix_sample(now=now - 60)
    counter.inc(120)
    assert location_fixes_per_second(now=now) == pytest.approx(2.0, rel=0.01)


def test_queue_depth_load_is_the_waiting_tasks() -> None:
    from loship.events.tasks import relay_outbox

    for _ in range(4):
        relay_outbox.apply_async(queue="default")
    assert reading(LoadFigure.QUEUE_DEPTH).load == 4


def test_dashboard_shows_the_headroom_factor_and_the_alert_banner(sockets: Any, ops_user: Any) -> None:
    limit(LoadFigure.OPEN_SOCKETS, 100)
    sockets(50)
    check_headroom()
    client = Client()
    client.force_login(ops_user)
    html = client.get("/admin/ops/dashboard/").content.decode()
    # Numbers are localized (Vietnamese admin: decimal comma).
    assert re.search(r'<span id="headroom-factor" class="level-alert">2[.,]0x</span>', html)
    assert 'id="headroom-banner" class="ops-banner"' in html
    assert 'data-figure="open_sockets"><strong>Cảnh báo tải' in html


def test_the_alert_notifies_every_ops_user_in_their_language(sockets: Any, ops_user: Any) -> None:
    from notifications.models import Notification

    english = UserFactory(roles=[Role.OPS], is_staff=True, language="en")
    customer = UserFactory()
    limit(LoadFigure.OPEN_SOCKETS, 100)
    sockets(40)
    check_headroom()
    assert HeadroomAlert.objects.get().notified_via == "notify"
    vi = Notification.objects.get(user=ops_user, kind="ops.headroom_alert")
    en = Notification.objects.get(user=english, kind="ops.headroom_alert")
    assert vi.title.startswith("Cảnh báo tải") and en.title.startswith("Load alert")
    assert "40" in en.body and not Notification.objects.filter(user=customer).exists()
