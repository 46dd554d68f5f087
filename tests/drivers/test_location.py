"""Location fixes: validation codes, out-of-order and too-old fixes ignored, throttled saves to
PostgreSQL, nearest-driver queries on Redis GEO, stale drivers pruned, positions pushed to customers."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from drivers import location, services
from drivers.models import DriverProfile
from loship.push import order_group
from tests.drivers.conftest import client_for, fix, make_driver, now_ms, offset
from tests.orders.factories import MERCHANT_LAT, MERCHANT_LNG

pytestmark = pytest.mark.django_db


def test_invalid_fixes_are_rejected_one_by_one_with_a_code() -> None:
    driver = make_driver()

    response = client_for(driver).post(
        "/api/v1/driver/locations",
        {
            "fixes": [
                fix(91, 106.7),
                fix(10.77, 181),
                fix(0, 0),
                {"lat": "abc", "lng": 106.7, "timestamp": now_ms()},
                fix(10.78, 106.70, heading=400),
                fix(10.78, 106.70, at_ms=now_ms() + 3_600_000),
                fix(10.78, 106.70),
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [item["code"] for item in body["rejected"]] == [
        "location_coordinates_invalid",
        "location_coordinates_invalid",
        "location_coordinates_invalid",
        "location_fix_malformed",
        "location_heading_invalid",
        "location_timestamp_invalid",
    ]


def test_a_batch_of_only_invalid_fixes_is_a_400_in_the_one_error_shape() -> None:
    driver = make_driver()

    response = client_for(driver).post("/api/v1/driver/locations", {"fixes": [fix(-95, 10)]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "location_coordinates_invalid"
    assert response.json()["error"]["fields"] == {"fixes": {"0": ["location_coordinates_invalid"]}}


def test_out_of_order_and_too_old_fixes_are_ignored_and_the_newest_position_stays() -> None:
    driver = make_driver(lat=offset(100))
    newest = now_ms() + 50  # strictly after make_driver's own fix
    services.record_location_fixes(driver_id=driver.pk, fixes=[fix(offset(500), MERCHANT_LNG, at_ms=newest)])

    report = services.record_location_fixes(
        driver_id=driver.pk,
        fixes=[
            fix(offset(900), MERCHANT_LNG, at_ms=newest - 5_000),
            fix(offset(900), MERCHANT_LNG, at_ms=newest),
            fix(offset(900), MERCHANT_LNG, at_ms=newest - 10 * 60_000),
        ],
    )

    assert (report.accepted, report.ignored, report.rejected) == (0, 3, [])
    lat, _ = location.positions([driver.pk])[driver.pk]
    assert abs(lat - float(offset(500))) < 1e-5


def test_the_last_position_is_saved_to_postgres_at_a_throttled_rate() -> None:
    driver = make_driver(lat=offset(100))
    assert services.save_due_positions() == 1
    assert DriverProfile.objects.get(pk=driver.pk).last_lat == offset(100)

    services.record_location_fixes(
        driver_id=driver.pk, fixes=[fix(offset(700), MERCHANT_LNG, at_ms=now_ms() + 10)]
    )
    saved_in_burst = services.save_due_positions()
    services.record_location_fixes(
        driver_id=driver.pk,
        fixes=[fix(offset(800), MERCHANT_LNG, at_ms=now_ms() + 20)],
        now=timezone.now() + timedelta(seconds=31),
    )
    saved_after_interval = services.save_due_positions()

    assert saved_in_burst == 0
    assert saved_after_interval == 1
    assert DriverProfile.objects.get(pk=driver.pk).last_lat == offset(800)


def test_with_redis_unreachable_a_batch_succeeds_and_its_newest_fix_is_saved_at_the_same_rate(
    cut_redis: Callable[[], None],
) -> None:
    driver = make_driver(lat=offset(100))
    cut_redis()
    start = now_ms()

    first = client_for(driver).post(
        "/api/v1/driver/locations",
        {
            "fixes": [
                fix(offset(300), MERCHANT_LNG, at_ms=start),
                fix(offset(400), MERCHANT_LNG, at_ms=start + 1),
            ]
        },
        format="json",
    )
    assert first.status_code == 200, first.json()
    assert (first.json()["accepted"], first.json()["ignored"]) == (1, 1)  # the older one is superseded
    assert DriverProfile.objects.get(pk=driver.pk).last_lat == offset(400)

    soon = fix(offset(500), MERCHANT_LNG, at_ms=start + 1_000)
    assert (
        client_for(driver).post("/api/v1/driver/locations", {"fixes": [soon]}, format="json").status_code
        == 200
    )
    assert DriverProfile.objects.get(pk=driver.pk).last_lat == offset(400)  # not before the save interval
    later = fix(offset(600), MERCHANT_LNG, at_ms=start + 31_000)
    services.record_location_fixes(
        driver_id=driver.pk, fixes=[later], now=timezone.now() + timedelta(seconds=31)
    )
    assert DriverProfile.objects.get(pk=driver.pk).last_lat == offset(600)


def test_nearest_drivers_come_first_and_stale_ones_are_pruned() -> None:
    far = make_driver(lat=offset(2500))
    near = make_driver(lat=offset(200))
    middle = make_driver(lat=offset(1200))
    make_driver(lat=offset(20_000))

    found = location.nearby_driver_ids(
        lat=float(MERCHANT_LAT), lng=float(MERCHANT_LNG), radius_m=3000, count=10
    )
    removed = location.prune_stale(now=timezone.now() + timedelta(minutes=10))

    assert found == [near.pk, middle.pk, far.pk]
    assert removed == 4
    assert (
        location.nearby_driver_ids(lat=float(MERCHANT_LAT), lng=float(MERCHANT_LNG), radius_m=3000, count=10)
        == []
    )


def test_a_carrying_driver_position_reaches_the_order_group_at_most_every_three_seconds() -> None:
    driver = make_driver()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(order_group(4242), channel)
    location.set_carrying(driver.pk, [4242])
    start = timezone.now()

    services.record_location_fixes(driver_id=driver.pk, fixes=[fix(offset(100), MERCHANT_LNG)], now=start)
    services.record_location_fixes(
        driver_id=driver.pk, fixes=[fix(offset(150), MERCHANT_LNG)], now=start + timedelta(seconds=1)
    )
    message = async_to_sync(layer.receive)(channel)

    event = message["event"]
    assert event["type"] == "driver.position"
    assert event["order_id"] == 4242
    assert Decimal(str(event["lat"])).quantize(Decimal("0.000001")) == offset(100)
    with pytest.raises(TimeoutError):
        async_to_sync(_receive_within)(layer, channel, 0.3)


async def _receive_within(layer: object, channel: str, seconds: float) -> object:
    import asyncio

    async with asyncio.timeout(seconds):
        return await layer.receive(channel)  # type: ignore[attr-defined]


def test_fixes_of_many_sockets_sent_at_once_are_coalesced_and_each_gets_its_own_report() -> None:
    drivers = [make_driver(lat=offset(100 * n)) for n in range(1, 4)]

    async def send_together() -> list[Any]:
        import asyncio

        from drivers.ingest import coalescer

        return list(
            await asyncio.gather(
                coalescer().submit(drivers[0].pk, [fix(offset(1000), MERCHANT_LNG, at_ms=now_ms() + 50)]),
                coalescer().submit(drivers[1].pk, [fix(95, MERCHANT_LNG)]),
                coalescer().submit(
                    drivers[2].pk, [fix(offset(3000), MERCHANT_LNG, at_ms=now_ms() - 3_600_000)]
                ),
            )
        )

    first, second, third = async_to_sync(send_together)()

    assert (first.accepted, first.ignored, first.rejected) == (1, 0, [])
    assert (second.accepted, second.rejected) == (0, [{"index": 0, "code": "location_coordinates_invalid"}])
    assert (third.accepted, third.ignored) == (0, 1)
    lat, _ = location.positions([drivers[0].pk])[drivers[0].pk]
    assert abs(lat - float(offset(1000))) < 1e-5


def test_messages_sent_during_a_write_form_the_next_batch_and_a_failed_write_fails_its_senders() -> None:
    import asyncio
    from collections.abc import Mapping, Sequence

    from drivers import ingest
    from drivers.services.profiles import LocationReport

    written: list[list[int]] = []

    async def scenario() -> tuple[list[Any], list[Any]]:
        release = asyncio.Event()

        async def record(batches: Sequence[tuple[int, Sequence[Mapping[str, Any]]]]) -> list[LocationReport]:
            written.append([driver_id for driver_id, _ in batches])
            await release.wait()
            if 99 in written[-1]:
                raise ConnectionError("redis went away")
            return [LocationReport(accepted=len(fixes)) for _, fixes in batches]

        coalescer = ingest.FixCoalescer(write=record)
        first = asyncio.ensure_future(coalescer.submit(1, [fix(offset(10), MERCHANT_LNG)]))
        await asyncio.sleep(0.1)  # the first write is in flight
        later = [asyncio.ensure_future(coalescer.submit(n, [fix(offset(10), MERCHANT_LNG)])) for n in (2, 3)]
        await asyncio.sleep(0.1)
        release.set()
        reports = await asyncio.gather(first, *later)
        failed = await asyncio.gather(
            coalescer.submit(99, [fix(offset(10), MERCHANT_LNG)]),
            coalescer.submit(4, [fix(offset(10), MERCHANT_LNG)]),
            return_exceptions=True,
        )
        return list(reports), list(failed)

    reports, failed = async_to_sync(scenario)()

    assert written == [[1], [2, 3], [99, 4]]
    assert [report.accepted for report in reports] == [1, 1, 1]
    assert [type(error) for error in failed] == [ConnectionError, ConnectionError]


def test_a_batch_larger_than_one_slice_stores_every_driver_and_each_drivers_newest_fix() -> None:
    """The script writes the GEO, seen and save-due sets once per batch, in slices of 999 members:
    every driver of a 2,500-driver batch is stored, and a driver with two fixes keeps the newer."""
    now = timezone.now()
    base = int(now.timestamp() * 1000)
    entries = [
        (
            900_000 + n,
            location.Fix(lat=10.7 + n * 1e-5, lng=106.6, at_ms=base),
        )
        for n in range(2500)
    ]
    newer = location.Fix(lat=10.9, lng=106.9, at_ms=base + 1)
    entries.append((900_000, newer))

    applied = location.apply_fixes(entries, now=now)

    assert [result.applied for result in applied] == [True] * 2501
    assert sum(result.save_to_db for result in applied) == 2500  # once per driver
    stored = location.positions([driver_id for driver_id, _ in entries[:2500]])
    assert len(stored) == 2500
    assert stored[900_000] == pytest.approx((10.9, 106.9), abs=1e-5)
    assert stored[902_499] == pytest.approx((10.7 + 2499 * 1e-5, 106.6), abs=1e-5)
    assert len(location.take_due_positions(limit=5000)) == 2500
