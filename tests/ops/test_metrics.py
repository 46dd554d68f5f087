"""/metrics: who may scrape it, and the values it reports after known actions."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from loship.events.models import OutboxEvent
from loship.events.tasks import relay_outbox
from loship.metrics import LOCATION_FIXES, WEBSOCKET_CONNECTIONS
from loship.metrics_fleet import local_snapshot, redis_client, store_snapshot
from loship.observability import PUBLISHED_AT_HEADER, REQUEST_ID_HEADER
from orders.models import Order
from tests.ops.conftest import METRICS_TOKEN, scrape

pytestmark = pytest.mark.django_db


def test_metrics_without_a_token_is_forbidden_in_the_one_error_shape() -> None:
    response = Client().get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_metrics_with_a_wrong_token_is_forbidden() -> None:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}x")
    assert response.status_code == 403


def test_metrics_from_an_allowed_network_needs_no_token(settings: Any) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.5").get("/metrics").status_code == 403


def test_orders_by_state_count_placed_orders(place: Callable[..., Any]) -> None:
    before = scrape().value("loship_orders", state="placed")
    for _ in range(3):
        assert place().status_code == 201
    assert Order.objects.filter(status="placed").count() == before + 3
    assert scrape().value("loship_orders", state="placed") == before + 3


def test_http_requests_are_counted_by_route(place: Callable[..., Any]) -> None:
    view, name = "v1:order-list", "django_http_requests_total_by_view_transport_method_total"
    before = scrape().value_or_zero(name, view=view)
    place()
    place()
    after = scrape().value(name, view=view)
    assert after == before + 2
    assert scrape().value("django_db_query_duration_seconds_count") > 0


def test_queue_depth_counts_waiting_tasks_per_queue() -> None:
    for _ in range(3):
        relay_outbox.apply_async(queue="notifications")
    relay_outbox.apply_async(queue="dispatch", priority=6)
    result = scrape()
    assert result.value("loship_celery_queue_depth", queue="notifications") == 3
    assert result.value("loship_celery_queue_depth", queue="dispatch") == 1


def test_outbox_lag_is_the_age_of_the_oldest_unpublished_event() -> None:
    assert scrape().value("loship_outbox_lag_seconds") == 0
    event = OutboxEvent.objects.create(topic="order.placed", aggregate_type="order", aggregate_id="1")
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    result = scrape()
    assert 120 <= result.value("loship_outbox_lag_seconds") < 180
    assert result.value("loship_outbox_pending") == 1


def test_application_metrics_add_up_over_processes() -> None:
    """Another process's published snapshot is summed with this process's live values."""
    LOCATION_FIXES.labels(outcome="accepted").inc(2)
    local = scrape().value("loship_location_fixes_total", outcome="accepted")
    other = {
        field: 5.0 if '"loship_location_fixes_total"' in field else value
        for field, value in local_snapshot().items()
    }
    store_snapshot("other-host:4242:1", other)
    assert scrape().value("loship_location_fixes_total", outcome="accepted") == local + 5


def test_open_websocket_gauge_is_reported_per_stream() -> None:
    WEBSOCKET_CONNECTIONS.labels(stream="ops").inc(3)
    try:
        assert scrape().value("loship_websocket_connections", stream="ops") >= 3
    finally:
        WEBSOCKET_CONNECTIONS.labels(stream="ops").dec(3)


def test_a_task_sent_during_a_request_carries_the_request_id_and_send_time() -> None:
    from loship.observability import request_id_var

    token = request_id_var.set("req-abc-123")
    try:
        relay_outbox.apply_async(queue="notifications")
    finally:
        request_id_var.reset(token)
    raw = redis_client().lindex("loship:notifications", 0)
    assert raw is not None
    headers = json.loads(raw)["headers"]
    assert headers[REQUEST_ID_HEADER] == "req-abc-123"
    assert headers[PUBLISHED_AT_HEADER] > 0


def test_task_timings_are_recorded_per_queue() -> None:
    count = "loship_celery_task_run_seconds_count"
    runs_before = scrape().value_or_zero(count)
    relay_outbox.apply()
    after = scrape()
    assert after.value(count) == runs_before + 1
    assert after.value("loship_celery_tasks_total", state="SUCCESS") >= 1
