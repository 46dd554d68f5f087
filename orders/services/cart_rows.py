"""The database side of quoting and placing, in as few round trips as the rules allow.

Placement is the hottest write of the platform, so its reads are one statement and its writes one batch:

- `load_cart_context` reads, in ONE statement, everything a cart is checked and priced against: the
  merchant, its opening hours for today and yesterday (local time) and closed dates, the items, option
  groups and chosen options the cart names, the promotion, and how many of the merchant's orders wait
  for pickup (the delivery promise's queue). For placement the same statement also
  claims the `Idempotency-Key` (`INSERT ... ON CONFLICT DO NOTHING`, which waits on a concurrent
  request with the same key) and reserves the ids of the new order and its lines.
- `write_batch` sends several INSERT/UPDATE statements in one round trip; the INSERTs are built from
  model instances and valued the way `save()` values them (defaults, `auto_now_add`, JSON, decimals).

Lock order on this path: the idempotency key row, then the promotion row (taken as late as possible: by
the guarded counter UPDATE in the batch, or, for a promotion with a per-customer limit, right after the
read); nothing else is locked.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from loship.idempotency.services import CLAIM_SQL
from merchants.models import Merchant, OpeningHours
from merchants.selectors import LOCAL_TZ, open_at
from orders.models import BEFORE_PICKUP_STATUSES, Promotion


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    item_id: int
    name: str
    is_required: bool
    min_select: int
    max_select: int


@dataclass(frozen=True, slots=True)
class OptionRow:
    id: int
    group_id: int
    name: str
    price_delta_vnd: int
    is_available: bool


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    name: str
    price_vnd: int
    is_available: bool
    #: The item's option groups in menu order.
    groups: list[GroupRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Claim:
    """What placement's read also did: the key row it inserted (None: the key already existed) and the
    ids reserved for the order and its lines."""

    key_id: int | None
    order_id: int
    line_ids: list[int]


@dataclass(frozen=True, slots=True)
class CartContext:
    merchant: Merchant | None
    is_open: bool
    items: dict[int, ItemRow]
    #: Only the options the cart chose (any merchant's: pricing checks they belong to the line's item).
    options: dict[int, OptionRow]
    groups: dict[int, GroupRow]
    promotion: Promotion | None
    claim: Claim | None = None
    #: The merchant's intervals and closed dates read for the dates asked (today and yesterday, and a
    #: scheduled order's `also_dates`), so a later moment on those days can be checked with `open_at`.
    hours: list[OpeningHours] = field(default_factory=list)
    closed_dates: set[date] = field(default_factory=set)
    #: The merchant's orders not yet picked up (the delivery promise reads it).
    merchant_queue: int = 0


_MERCHANT_COLUMNS = (
    "id",
    "name",
    "lat",
    "lng",
    "min_order_vnd",
    "delivery_radius_m",
    "prep_minutes",
    "is_busy",
)
_PROMO_COLUMNS = (
    "id", "code", "kind", "value", "max_discount_vnd", "min_subtotal_vnd", "starts_at", "ends_at",
    "usage_limit", "per_customer_limit", "used_count", "merchant_id", "is_active",
)  # fmt: skip

# Table names are the models' fixed db_table values; only %(...)s parameters carry request data.
_READ_SQL = """
WITH {claim_cte}
promo AS (SELECT {promo_columns} FROM orders_promotion WHERE code = %(promo_code)s)
SELECT {merchant_columns},
  (SELECT json_agg(json_build_array(h.weekday, h.opens_at, h.closes_at))
     FROM merchants_openinghours h WHERE h.merchant_id = m.id AND h.weekday = ANY(%(weekdays)s)),
  (SELECT array_agg(c.date)
     FROM merchants_closeddate c WHERE c.merchant_id = m.id AND c.date = ANY(%(dates)s)),
  (SELECT json_agg(json_build_array(i.id, i.name, i.price_vnd, i.is_available))
     FROM merchants_menuitem i WHERE i.merchant_id = m.id AND i.id = ANY(%(item_ids)s)),
  (SELECT json_agg(json_build_array(g.id, g.item_id, g.name, g.is_required, g.min_select, g.max_select)
                   ORDER BY g.position, g.id)
     FROM merchants_optiongroup g JOIN merchants_menuitem i ON i.id = g.item_id
    WHERE i.merchant_id = m.id AND g.item_id = ANY(%(item_ids)s)),
  (SELECT json_agg(json_build_array(o.id, o.group_id, o.name, o.price_delta_vnd, o.is_available))
     FROM merchants_option o WHERE o.id = ANY(%(option_ids)s)),
  (SELECT count(*) FROM orders_order q WHERE q.merchant_id = m.id AND q.status = ANY(%(queue_statuses)s)),
  {promo_select}
  {claim_columns}
FROM (SELECT 1) AS one
LEFT JOIN merchants_merchant m ON m.id = %(merchant_id)s AND m.is_active
LEFT JOIN promo ON TRUE
"""
_CLAIM_CTE = f"""
claimed AS ({CLAIM_SQL}
),"""
_CLAIM_COLUMNS = """,
  (SELECT id FROM claimed),
  nextval(pg_get_serial_sequence('orders_order', 'id')),
  (SELECT array_agg(nextval(pg_get_serial_sequence('orders_orderline', 'id')))
     FROM generate_series(1, %(line_count)s))"""


def _read_sql(*, claim: bool) -> str:
    return _READ_SQL.format(
        claim_cte=_CLAIM_CTE if claim else "",
        promo_columns=", ".join(_PROMO_COLUMNS),
        merchant_columns=", ".join(f"m.{name}" for name in _MERCHANT_COLUMNS),
        promo_select=", ".join(f"promo.{name}" for name in _PROMO_COLUMNS),
        claim_columns=_CLAIM_COLUMNS if claim else "",
    )


_SQL = {claim: _read_sql(claim=claim) for claim in (False, True)}


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else list(json.loads(value))


def load_cart_context(
    *,
    merchant_id: int,
    item_ids: Sequence[int],
    option_ids: Sequence[int],
    promo_code: str,
    now: datetime,
    claim_for: tuple[int, str, str, int] | None = None,
    also_dates: Sequence[date] = (),
) -> CartContext:
    """Everything a cart is checked against, in one statement.

    `claim_for` = (customer_id, key, body_hash, line_count) also claims the key and reserves ids (placement,
    inside its transaction). `also_dates` (local dates) adds those days' hours and closures to the
    context's `hours` and `closed_dates` (a scheduled order's slot). The promotion is read unlocked:
    placement counts its use with a guarded UPDATE in the write batch (see
    `orders.services.promotions.count_use_sql`).
    """
    local = now.astimezone(LOCAL_TZ)
    today = local.date()
    yesterday = today - timedelta(days=1)
    dates = sorted({today, yesterday, *also_dates})
    params: dict[str, Any] = {
        "merchant_id": merchant_id,
        "item_ids": list(item_ids),
        "option_ids": list(option_ids),
        "promo_code": promo_code.strip().upper(),
        "weekdays": sorted({day.weekday() for day in dates}),
        "dates": dates,
        "queue_statuses": sorted(BEFORE_PICKUP_STATUSES),
    }
    if claim_for is not None:
        user_id, key, request_hash, line_count = claim_for
        params.update(user_id=user_id, key=key, request_hash=request_hash, now=now, line_count=line_count)
    with connection.cursor() as cursor:
        cursor.execute(_SQL[claim_for is not None], params)
        row = cursor.fetchone()
    assert row is not None
    merchant_values = row[: len(_MERCHANT_COLUMNS)]
    hours_json, closed, items_json, groups_json, options_json, merchant_queue = row[
        len(_MERCHANT_COLUMNS) : len(_MERCHANT_COLUMNS) + 6
    ]
    rest = row[len(_MERCHANT_COLUMNS) + 6 :]
    promo_values, claim_values = rest[: len(_PROMO_COLUMNS)], rest[len(_PROMO_COLUMNS) :]

    merchant = None
    is_open = False
    hours: list[OpeningHours] = []
    closed_dates: set[date] = set()
    if merchant_values[0] is not None:
        merchant = Merchant(**dict(zip(_MERCHANT_COLUMNS, merchant_values, strict=True)))
        hours = [
            OpeningHours(
                weekday=weekday, opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes)
            )
            for weekday, opens, closes in _json(hours_json)
        ]
        closed_dates = set(closed or ())
        is_open = open_at(hours, closed_dates, local=local)
    items = {row[0]: ItemRow(*row) for row in _json(items_json)}
    groups: dict[int, GroupRow] = {}
    for values in _json(groups_json):
        group = GroupRow(*values)
        groups[group.id] = group
        items[group.item_id].groups.append(group)
    options = {values[0]: OptionRow(*values) for values in _json(options_json)}
    promotion = None
    if promo_values[0] is not None:
        promotion = Promotion(**dict(zip(_PROMO_COLUMNS, promo_values, strict=True)))
    claim = None
    if claim_for is not None:
        key_id, order_id, line_ids = claim_values
        claim = Claim(key_id=key_id, order_id=order_id, line_ids=list(line_ids or ()))
    return CartContext(
        merchant=merchant,
        is_open=is_open,
        items=items,
        options=options,
        groups=groups,
        promotion=promotion,
        claim=claim,
        hours=hours,
        closed_dates=closed_dates,
        merchant_queue=merchant_queue or 0,
    )


#: Values psycopg2 adapts as they are (str and its enum subclasses, numbers, Decimal, aware datetimes,
#: UUIDs, lists); other field types go through `get_db_prep_save` (JSON needs its adapter).
_PLAIN_FIELD_TYPES = frozenset(
    {
        "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField",
        "DateTimeField", "DecimalField", "ForeignKey", "IntegerField", "OneToOneField",
        "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField",
        "TextField", "UUIDField",
    }
)  # fmt: skip


@lru_cache(maxsize=32)
def _insert_template(
    model: type[Model], with_pk: bool
) -> tuple[str, str, tuple[tuple[Field[Any, Any], bool], ...]]:
    opts = model._meta
    fields = tuple(f for f in opts.concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(opts.db_table)
    head = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - names from _meta
    return head, placeholders, tuple((f, f.get_internal_type() not in _PLAIN_FIELD_TYPES) for f in fields)


def _insert_sql(objs: Sequence[Model]) -> tuple[str, list[Any]]:
    """One multi-row INSERT of these instances of one model, valued as Django's `save()` values them
    (defaults from the constructor, `pre_save` for `auto_now_add`, `get_db_prep_save` where the driver
    needs it); primary keys are included when the first instance has one."""
    head, placeholders, fields = _insert_template(type(objs[0]), objs[0].pk is not None)
    params: list[Any] = []
    for obj in objs:
        for f, prep in fields:
            value = f.pre_save(obj, True)
            params.append(f.get_db_prep_save(value, connection) if prep else value)
    return head + ", ".join([placeholders] * len(objs)), params


def write_batch(
    *, inserts: Sequence[Sequence[Model]], updates: Sequence[tuple[str, Sequence[Any]]] = ()
) -> None:
    """Insert the given groups of model instances and run the given UPDATEs in one round trip, in order.

    Inside the caller's transaction; foreign keys are checked at commit (Django's constraints on
    PostgreSQL are deferred), so the order of the groups only matters for readability."""
    statements: list[tuple[str, Sequence[Any]]] = [_insert_sql(objs) for objs in inserts if objs]
    statements.extend(updates)
    with connection.cursor() as cursor:
        sql = ";\n".join(cursor.mogrify(text, params).decode() for text, params in statements)
        cursor.execute(sql)
