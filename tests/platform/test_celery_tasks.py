"""Every project task runs under a soft and a hard time limit, and only tasks whose re-run is harmless
are acknowledged late (a killed worker's late-ack task is delivered again)."""

from typing import Any

import pytest
from django.conf import settings

from loship.celery import app as celery_app

PROJECT_PACKAGES = {"loship", "users", "merchants", "orders", "drivers", "realtime", "notifications", "ops"}

# Tasks safe to run twice: each re-checks its rows under a lock or works through an idempotency key,
# so a delivery again after a killed worker changes nothing that the first run already did.
IDEMPOTENT_TASKS = {
    "loship.events.tasks.relay_outbox",  # per-aggregate lock, each destination marked done
    "orders.tasks.sweep_deadlines",  # each order re-checked under its row lock
    "orders.tasks.refund_payment",  # the gateway refund is idempotent per refund_ref
    "orders.tasks.refund_tip",  # the same, per the tip's refund_ref, and re-checked under the order's lock
    "orders.tasks.release_scheduled_orders",  # claims due orders under SKIP LOCKED; released ones skipped
    "orders.tasks.reconcile_gateway_payments",  # a provider answer is applied like its notice, under locks
    "drivers.tasks.dispatch_round",  # offers made under locks, one active offer per order
    "drivers.tasks.expire_offers",
    "drivers.tasks.save_positions",
    "drivers.tasks.sync_carrying",  # rewrites each carrying set from PostgreSQL
    "notifications.tasks.notify_order_event",  # one inbox row per (user, event)
    "notifications.tasks.sweep_deliveries",  # claims each attempt under SKIP LOCKED, settled ones skipped
}


def project_tasks() -> dict[str, Any]:
    celery_app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return {
        name: task
        for name, task in celery_app.tasks.items()
        if type(task).__module__.split(".")[0] in PROJECT_PACKAGES
    }


def effective_limits(task: Any) -> tuple[float | None, float | None]:
    """(soft, hard) as the worker applies them: the task's own, else the global defaults."""
    conf = celery_app.conf
    return task.soft_time_limit or conf.task_soft_time_limit, task.time_limit or conf.task_time_limit


def test_the_project_tasks_are_found() -> None:
    names = set(project_tasks())
    assert {
        "drivers.tasks.dispatch_round",
        "ops.tasks.check_headroom",
        "orders.tasks.sweep_deadlines",
    } <= names


@pytest.mark.parametrize("name", sorted(project_tasks()))
def test_every_task_has_a_soft_and_a_hard_time_limit(name: str) -> None:
    soft, hard = effective_limits(project_tasks()[name])

    assert soft is not None and hard is not None, f"{name} runs without a time limit"
    assert 0 < soft < hard, f"{name}: the soft limit ({soft}) must come before the hard one ({hard})"
    # A task still running when the broker's visibility timeout passes would be delivered twice.
    assert hard < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


def test_the_sweeps_and_the_dispatch_round_get_longer_limits_than_the_default() -> None:
    tasks = project_tasks()
    default_hard = celery_app.conf.task_time_limit
    for name in (
        "loship.events.tasks.relay_outbox",
        "orders.tasks.sweep_deadlines",
        "drivers.tasks.dispatch_round",
    ):
        assert effective_limits(tasks[name])[1] > default_hard, name


def test_only_idempotent_tasks_ack_late() -> None:
    tasks = project_tasks()
    late = {name for name, task in tasks.items() if task.acks_late}

    assert late <= IDEMPOTENT_TASKS, (
        f"acknowledged late but not known to be idempotent: {late - IDEMPOTENT_TASKS}"
    )
    assert set(tasks) >= IDEMPOTENT_TASKS, f"no such task: {IDEMPOTENT_TASKS - set(tasks)}"
    # A push/email or an ops alert sent just before the worker died would go out twice.
    assert not tasks["notifications.tasks.deliver"].acks_late
    assert not tasks["ops.tasks.check_headroom"].acks_late
