"""The price arithmetic, as tables: delivery tiers, small-order fee, promo discounts, totals."""

import pytest

from orders.pricing import PricingConfig, delivery_fee_vnd, promo_discount_vnd, small_order_fee_vnd, totals

CONFIG = PricingConfig(
    delivery_tiers=((2000, 15000), (4000, 20000), (6000, 25000)),
    extra_km_fee_vnd=5000,
    small_order_fee_vnd=10000,
    service_fee_vnd=3000,
    speed_kmh=20,
    eta_buffer_minutes=10,
)


@pytest.mark.parametrize(
    ("distance_m", "fee"),
    [(0, 15000), (2000, 15000), (2001, 20000), (4000, 20000), (5999, 25000), (6000, 25000),
     (6001, 30000), (7000, 30000), (7001, 35000), (10500, 50000)],
)  # fmt: skip
def test_delivery_fee_follows_the_distance_tiers(distance_m: int, fee: int) -> None:
    assert delivery_fee_vnd(distance_m, CONFIG) == fee


@pytest.mark.parametrize(
    ("subtotal", "minimum", "fee"),
    [(39999, 40000, 10000), (40000, 40000, 0), (90000, 40000, 0), (5000, 0, 0)],
)
def test_small_order_fee_applies_only_under_the_merchants_minimum(
    subtotal: int, minimum: int, fee: int
) -> None:
    assert small_order_fee_vnd(subtotal, minimum, CONFIG) == fee


@pytest.mark.parametrize(
    ("kind", "value", "cap", "subtotal", "discount"),
    [
        ("percent", 20, None, 100000, 20000),
        ("percent", 20, 15000, 100000, 15000),
        ("percent", 15, None, 33333, 4999),  # rounded down to the dong
        ("percent", 100, None, 42000, 42000),
        ("fixed", 25000, None, 100000, 25000),
        ("fixed", 25000, 20000, 100000, 20000),
        ("fixed", 50000, None, 30000, 30000),  # never more than the subtotal
    ],
)
def test_promo_discount_is_capped_and_never_exceeds_the_subtotal(
    kind: str, value: int, cap: int | None, subtotal: int, discount: int
) -> None:
    assert promo_discount_vnd(kind=kind, value=value, max_discount_vnd=cap, subtotal_vnd=subtotal) == discount


def test_totals_add_up_fees_and_subtract_the_discount() -> None:
    priced = totals(
        subtotal_vnd=35000, distance_m=3000, min_order_vnd=40000, discount_vnd=5000, config=CONFIG
    )

    assert (priced.delivery_fee_vnd, priced.small_order_fee_vnd, priced.service_fee_vnd) == (
        20000,
        10000,
        3000,
    )
    assert priced.total_vnd == 35000 + 20000 + 10000 + 3000 - 5000
