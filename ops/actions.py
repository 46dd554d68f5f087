"""What ops do to an order from the dashboard, through the owning apps' services."""

import importlib
from typing import Any

from loship.errors import ErrorSpec
from loship.i18n import Text
from orders import services as order_services
from orders.models import ActorRole
from users.models import User

REASSIGN_UNAVAILABLE = ErrorSpec(
    "reassign_unavailable",
    409,
    Text(vi="Chưa thể điều phối lại đơn này.", en="Reassigning is not available for this order."),
)


def cancel_with_refund(*, actor: User, order_id: int, reason: str = "") -> None:
    """Cancel as ops; a paid e-wallet order is refunded by the orders app's cancel."""
    order_services.cancel_order(
        order_id=order_id, actor=actor, by=ActorRole.OPS, reason=reason or "cancelled by ops (dashboard)"
    )


def _drivers_services() -> Any:
    return importlib.import_module("drivers.services")


def reassign(*, actor: User, order_id: int, driver_id: int | None, reason: str = "") -> None:
    """Take the order from its driver (back to the dispatch pool); with `driver_id`, give it to that
    driver by hand. Both through the drivers app's ops services."""
    services = _drivers_services()
    unassign, assign = getattr(services, "unassign_by_ops", None), getattr(services, "assign_by_ops", None)
    if unassign is None or assign is None:
        raise REASSIGN_UNAVAILABLE()
    from orders.models import Order

    if Order.objects.filter(pk=order_id, driver__isnull=False).exists():
        unassign(actor=actor, order_id=order_id, reason=reason or "reassigned by ops")
    if driver_id is not None:
        assign(actor=actor, order_id=order_id, driver_id=driver_id)
