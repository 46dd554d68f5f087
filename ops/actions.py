"""What ops do to an order from the dashboard, through the owning apps' services."""

from drivers import services as driver_services
from orders import services as order_services
from orders.models import ActorRole, Order
from users.models import User


def cancel_with_refund(*, actor: User, order_id: int, reason: str = "") -> None:
    """Cancel as ops; a paid e-wallet order is refunded by the orders app's cancel."""
    order_services.cancel_order(
        order_id=order_id, actor=actor, by=ActorRole.OPS, reason=reason or "cancelled by ops (dashboard)"
    )


def reassign(*, actor: User, order_id: int, driver_id: int | None, reason: str = "") -> None:
    """Take the order from its driver (it returns to the dispatch pool, where the next round offers it
    again); with `driver_id`, give it to that driver by hand. Both through the drivers app's services."""
    if Order.objects.filter(pk=order_id, driver__isnull=False).exists():
        driver_services.unassign_by_ops(actor=actor, order_id=order_id, reason=reason or "reassigned by ops")
    if driver_id is not None:
        driver_services.assign_by_ops(actor=actor, order_id=order_id, driver_id=driver_id)
