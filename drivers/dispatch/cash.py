"""Which drivers may be offered which bundles because of cash on delivery.

A driver who owes more cash than the limit (`AvailableDriver.takes_cash` is False) gets no bundle with
an order paid in cash at the door; every other pairing is allowed. One predicate, applied where the
policy picks a bundle's candidate drivers, so the matching and bundling around it need not know.
"""

from collections.abc import Iterable

from drivers.dispatch.entities import AvailableDriver, PendingOrder


def may_carry(orders: Iterable[PendingOrder], driver: AvailableDriver) -> bool:
    """Whether `driver` may be given a bundle of `orders`."""
    return driver.takes_cash or not any(order.pays_cash for order in orders)
