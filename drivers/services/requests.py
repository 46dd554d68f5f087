"""Dispatch-request primitives shared by the pool and the job flow (each caller holds the transaction).

The pool and the jobs both move an order's dispatch request: a job that ends closes it, a job cancelled
by an unassignment puts it back in the pool. These primitives live here so both import them one way.
"""

from datetime import datetime

from django.conf import settings

from drivers.models import DispatchRequest, DispatchStatus


def lock_request(order_id: int) -> DispatchRequest | None:
    """The order's dispatch request, locked; None if the order never entered the pool."""
    return DispatchRequest.objects.select_for_update().filter(pk=order_id).first()


def close_request(request: DispatchRequest) -> None:
    """The order needs no driver any more (the caller holds the request's lock)."""
    if request.status != DispatchStatus.CLOSED:
        request.status = DispatchStatus.CLOSED
        request.save(update_fields=["status", "updated_at"])


def return_to_pool(*, request: DispatchRequest, now: datetime) -> None:
    """Back to waiting (driver unassigned), with a fresh search; the caller holds the request's lock."""
    request.status = DispatchStatus.WAITING
    request.searching_since = now
    request.dispatchable_at = min(request.dispatchable_at, now)
    request.search_radius_m = settings.DISPATCH_RADIUS_STEPS_M[0]
    request.ops_alerted_at = None
    request.save()
