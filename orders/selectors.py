"""Reads of orders shared by the API, the admin, the live streams and the drivers app."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, Prefetch, Q, QuerySet
from django.db.models.base import ModelState

from loship.timefmt import iso, iso_or_none
from merchants.models import Merchant
from merchants.selectors import merchants_for_staff
from orders.models import HIDDEN_FROM_MERCHANT, Order, OrderEvent, OrderLine, OrderStatus, Payment
from users.models import User


def order_event_payload(order: Order, *, reason: str = "") -> dict[str, Any]:
    """The payload of every `order.*` outbox event (the shape the brief's contract names)."""
    return {
        "order_id": order.pk,
        "code": order.code,
        "status": order.status,
        "version": order.version,
        "customer_id": order.customer_id,
        "merchant_id": order.merchant_id,
        "driver_id": order.driver_id,
        "eta": iso_or_none(order.eta),
        "promised_at": iso_or_none(order.promised_at),
        "scheduled_for": iso_or_none(order.scheduled_for),
        "total_vnd": order.total_vnd,
        "reason": reason,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
    }


_BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as a live client redraws it (`body`), with what a stream checks before sending it: the
    order (the columns the body shows; the rest load on access) and its customer (id, `is_active`,
    `roles`, `is_superuser`; the rest load on access)."""

    order: Order
    customer: User
    body: dict[str, Any]


# What the snapshot reads of the order and its customer, in the models' field order (`from_db` maps
# values to fields in that order and defers the rest).
_SNAPSHOT_ORDER_COLUMNS = tuple(
    field.attname
    for field in Order._meta.concrete_fields
    if field.attname
    in {"id", "code", "status", "version", "customer_id", "merchant_id", "driver_id", "eta", "promised_at"}
    | {"scheduled_for", "total_vnd", "status_reason", "payment_method", "payment_status", "prep_minutes"}
    | {"delivery_address", "delivery_lat", "delivery_lng", "delivery_note", "subtotal_vnd"}
    | {"delivery_fee_vnd", "created_at"}
)
_SNAPSHOT_CUSTOMER_COLUMNS = tuple(
    field.attname
    for field in User._meta.concrete_fields
    if field.attname in {"id", "is_active", "roles", "is_superuser"}
)
# Table and column names come from the models; only %(order_id)s carries request data.
_SNAPSHOT_TEMPLATE = """
SELECT {order_columns}, {customer_columns},
  m.name, m.lat, m.lng, m.address, m.phone,
  (SELECT json_agg(json_build_array(l.name, l.quantity, l.unit_price_vnd, l.options, l.note) ORDER BY l.id)
     FROM {lines} l WHERE l.order_id = o.id),
  (SELECT json_agg(json_build_array(e.version, e.kind, e.to_status, e.created_at) ORDER BY e.version)
     FROM {events} e WHERE e.order_id = o.id)
FROM {orders} o
JOIN {merchants} m ON m.id = o.merchant_id
JOIN {users} c ON c.id = o.customer_id
WHERE o.id = %(order_id)s
"""
_SNAPSHOT_SQL = _SNAPSHOT_TEMPLATE.format(
    order_columns=", ".join(f"o.{column}" for column in _SNAPSHOT_ORDER_COLUMNS),
    customer_columns=", ".join(f"c.{column}" for column in _SNAPSHOT_CUSTOMER_COLUMNS),
    lines=OrderLine._meta.db_table,
    events=OrderEvent._meta.db_table,
    orders=Order._meta.db_table,
    merchants=Merchant._meta.db_table,
    users=User._meta.db_table,
)


def _order_row(sql: str, order_id: int) -> tuple[Any, ...] | None:
    """The one row `sql` reads for `%(order_id)s`, or None (also for an id no order can have: PostgreSQL
    refuses a bigint out of range)."""
    if not 0 < order_id <= _BIGINT_MAX:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, {"order_id": order_id})
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


M = TypeVar("M", bound=Model)


def _loaded(model: type[M], attnames: tuple[str, ...], values: Sequence[Any]) -> M:
    """An instance of `model` as `Model.from_db` makes it from these columns (the others deferred:
    they load on access), without running `__init__` over every field of the model: on a stream's
    open that costs more than building the snapshot."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def read_order_snapshot(order_id: int) -> OrderSnapshot | None:
    """Everything a live client needs to redraw the order after (re)connecting: the event payload plus
    the merchant, the drop-off, the lines and the timeline, read fresh in one statement (a stream's
    open is this read: the ORM's three statements cost several times the rest of it). None when there
    is no such order; who may see it is the caller's check."""
    row = _order_row(_SNAPSHOT_SQL, order_id)
    if row is None:
        return None
    split = len(_SNAPSHOT_ORDER_COLUMNS)
    end = split + len(_SNAPSHOT_CUSTOMER_COLUMNS)
    order = _loaded(Order, _SNAPSHOT_ORDER_COLUMNS, row[:split])
    customer = _loaded(User, _SNAPSHOT_CUSTOMER_COLUMNS, row[split:end])
    name, lat, lng, address, phone, lines, events = row[end:]
    body = {
        **order_event_payload(order, reason=order.status_reason),
        "merchant": {
            "id": order.merchant_id,
            "name": name,
            "lat": str(lat),
            "lng": str(lng),
            "address": address,
            "phone": phone,
        },
        "delivery": {
            "address": order.delivery_address,
            "lat": str(order.delivery_lat),
            "lng": str(order.delivery_lng),
            "note": order.delivery_note,
        },
        "prep_minutes": order.prep_minutes,
        "subtotal_vnd": order.subtotal_vnd,
        "delivery_fee_vnd": order.delivery_fee_vnd,
        "created_at": iso(order.created_at),
        "lines": [
            {
                "name": line_name,
                "quantity": quantity,
                "unit_price_vnd": unit_price,
                "options": [option["name"] for option in options],
                "note": note,
            }
            for line_name, quantity, unit_price, options, note in lines or []
        ],
        "timeline": [
            {"version": version, "kind": kind, "status": status, "at": iso(datetime.fromisoformat(at))}
            for version, kind, status, at in events or []
        ],
    }
    return OrderSnapshot(order=order, customer=customer, body=body)


def orders_for_customer(user: User) -> QuerySet[Order]:
    return Order.objects.filter(customer=user)


#: What a line of the customer's order history shows (`order_summary_body`), read as plain rows.
ORDER_SUMMARY_COLUMNS = (
    "id",
    "code",
    "status",
    "version",
    "merchant_id",
    "merchant__name",
    "total_vnd",
    "payment_method",
    "payment_status",
    "eta",
    "scheduled_for",
    "created_at",
)


def order_summaries_for_customer(user: User) -> QuerySet[Order, dict[str, Any]]:
    """The customer's orders as rows of `ORDER_SUMMARY_COLUMNS` (the merchant's name joined): the
    history is read on every app start, and whole model instances cost several times the page."""
    return orders_for_customer(user).values(*ORDER_SUMMARY_COLUMNS)


def orders_for_merchant_staff(user: User) -> QuerySet[Order]:
    """Orders of the merchants the user works for, once they are the merchant's business (paid or
    cash); unpaid e-wallet orders stay hidden."""
    return Order.objects.filter(merchant__in=merchants_for_staff(user)).exclude(
        payment_status__in=HIDDEN_FROM_MERCHANT
    )


def upcoming_orders_for_merchant_staff(user: User) -> QuerySet[Order]:
    """The scheduled orders not yet released to the user's merchants, the soonest slot first."""
    return (
        orders_for_merchant_staff(user)
        .filter(status=OrderStatus.SCHEDULED)
        .select_related("merchant")
        .order_by("scheduled_for", "id")
    )


def orders_for_driver(user: User) -> QuerySet[Order]:
    return Order.objects.filter(driver=user)


def order_visible_to(*, user: User, order: Order) -> bool:
    """May this user see this order (API detail, live stream)? Ops see all; a customer their own; merchant
    staff their merchants' visible orders; a driver the orders assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_ops or order.customer_id == user.pk or order.driver_id == user.pk:
        return True
    return orders_for_merchant_staff(user).filter(pk=order.pk).exists()


def order_detail_queryset() -> QuerySet[Order]:
    """Orders with what a detail view renders, in a fixed number of queries."""
    return Order.objects.select_related("merchant", "driver", "payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("version")),
    )


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """An order as a detail view renders it: the merchant's name, the driver and the payment on the
    order (as `select_related` would put them), its lines by id and its timeline oldest first."""

    order: Order
    lines: list[OrderLine]
    events: list[OrderEvent]


_ORDER_FIELDS = Order._meta.concrete_fields
_LINE_COLUMNS: tuple[str, ...] = ("id", "menu_item_id", "name", "base_price_vnd", "unit_price_vnd")
_LINE_COLUMNS += ("quantity", "line_total_vnd", "options", "note")
_EVENT_COLUMNS = ("version", "kind", "from_status", "to_status", "actor_role", "reason", "created_at")
# Table and column names come from the models; only %(order_id)s carries request data.
_DETAIL_TEMPLATE = """
SELECT {order_columns},
  m.name, d.full_name, d.phone, p.id, p.pay_url, p.deeplink,
  (SELECT json_agg(json_build_array({line_columns}) ORDER BY l.id)
     FROM {lines} l WHERE l.order_id = o.id),
  (SELECT json_agg(json_build_array({event_columns}) ORDER BY e.version)
     FROM {events} e WHERE e.order_id = o.id)
FROM {orders} o
JOIN {merchants} m ON m.id = o.merchant_id
LEFT JOIN {users} d ON d.id = o.driver_id
LEFT JOIN {payments} p ON p.order_id = o.id
WHERE o.id = %(order_id)s
"""
_DETAIL_SQL = _DETAIL_TEMPLATE.format(
    order_columns=", ".join(f"o.{field.column}" for field in _ORDER_FIELDS),
    line_columns=", ".join(f"l.{column}" for column in _LINE_COLUMNS),
    event_columns=", ".join(f"e.{column}" for column in _EVENT_COLUMNS),
    lines=OrderLine._meta.db_table,
    events=OrderEvent._meta.db_table,
    orders=Order._meta.db_table,
    merchants=Merchant._meta.db_table,
    users=User._meta.db_table,
    payments=Payment._meta.db_table,
)


def order_detail(order_id: int) -> OrderDetail | None:
    """The order with this id and everything its detail view shows, in one statement (the order view
    is read on every screen of a live order: the ORM's four statements cost it several times over).
    None when there is no such order; who may see it is the caller's check."""
    row = _order_row(_DETAIL_SQL, order_id)
    if row is None:
        return None
    count = len(_ORDER_FIELDS)
    order = Order.from_db(connection.alias, [field.attname for field in _ORDER_FIELDS], row[:count])
    name, driver_name, driver_phone, payment_id, pay_url, deeplink, lines, events = row[count:]
    order.merchant = Merchant(pk=order.merchant_id, name=name)
    order.driver = (
        User(pk=order.driver_id, full_name=driver_name, phone=driver_phone) if order.driver_id else None
    )
    payment = Payment(pk=payment_id, order=order, pay_url=pay_url, deeplink=deeplink) if payment_id else None
    Order.payment.related.set_cached_value(order, payment)
    return OrderDetail(
        order=order,
        lines=[
            OrderLine(order=order, **dict(zip(_LINE_COLUMNS, values, strict=True))) for values in lines or []
        ],
        events=[_event(order, values) for values in events or []],
    )


def _event(order: Order, values: list[Any]) -> OrderEvent:
    fields = dict(zip(_EVENT_COLUMNS, values, strict=True))
    fields["created_at"] = datetime.fromisoformat(fields["created_at"])
    return OrderEvent(order=order, **fields)


def ops_order_search(
    *,
    status: str | None = None,
    merchant_id: int | None = None,
    date_from: Any = None,
    date_to: Any = None,
    code: str | None = None,
    phone: str | None = None,
) -> QuerySet[Order]:
    """Ops filter: status, merchant, creation date range, order code (prefix) and customer phone (suffix)."""
    orders = Order.objects.select_related("merchant", "customer")
    if status:
        orders = orders.filter(status=status)
    if merchant_id:
        orders = orders.filter(merchant_id=merchant_id)
    if date_from:
        orders = orders.filter(created_at__date__gte=date_from)
    if date_to:
        orders = orders.filter(created_at__date__lte=date_to)
    if code:
        orders = orders.filter(code__istartswith=code.strip())
    if phone:
        digits = "".join(ch for ch in phone if ch.isdigit()).lstrip("0")
        if digits.startswith("84"):
            digits = digits[2:]
        orders = orders.filter(Q(customer_phone__endswith=digits) | Q(customer__phone__endswith=digits))
    return orders
