"""`manage.py seed_city [--scale 1.0] [--merchants N] [--dishes N] [--orders N] [--reset]`: a city the
size of Loship's Ho Chi Minh City, to measure how the read paths' cost grows.

At scale 1: 20,000 merchants spread over the city (denser in the centre) with weekly hours, 300,000
dishes (the demo's Vietnamese menus, search text normalized by `merchants.search.normalize`), option
groups on every fourth merchant's dishes, 20,000 customers and 1,000,000 past delivered orders with
their lines and history, of which the customer `HEAVY_CUSTOMER_PHONE` placed 500.

Rows go in with `COPY` (merchants, menus, customers) and `INSERT ... SELECT generate_series` (orders),
so the whole city takes a few minutes. Every seeded row is recognisable (merchant slugs `city-`,
customer phones `+8470`, order codes `CITY`): a second run refuses unless `--reset`, which deletes
them first. Signals are bypassed, so the run ends by making every cached catalog list stale.
"""

import csv
import io
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from merchants.cache import bump_catalog_version
from merchants.demo_menus import GROUPS, HOURS, KINDS
from merchants.search import normalize

SLUG_PREFIX = "city-"
PHONE_PREFIX = "+8470"
CODE_PREFIX = "CITY"
HEAVY_CUSTOMER_PHONE = f"{PHONE_PREFIX}0000000"
HEAVY_CUSTOMER_ORDERS = 500
#: The city's bounding box and its centre (Quận 1), where merchants are densest.
LAT_RANGE = (10.65, 10.90)
LNG_RANGE = (106.55, 106.85)
CENTRE = (10.7769, 106.7009)
TET_2027 = date(2027, 2, 6)

T = TypeVar("T")

DEFAULTS = {"merchants": 20_000, "dishes": 300_000, "orders": 1_000_000, "customers": 20_000}

Dish = tuple[str, str, int, tuple[str, ...]]  # category, name, price, option group keys

MERCHANT_COLUMNS = (
    "id", "name", "slug", "description", "phone", "address", "lat", "lng", "cuisines", "price_level",
    "cover_image_url", "min_order_vnd", "delivery_radius_m", "prep_minutes", "is_busy", "is_active",
    "rating_count", "rating_sum", "rating_avg", "search_text", "created_at", "updated_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "id", "merchant_id", "category_id", "name", "description", "price_vnd", "image_url", "is_available",
    "position", "search_text",
)  # fmt: skip
GROUP_COLUMNS = ("id", "item_id", "name", "is_required", "min_select", "max_select", "position")
OPTION_COLUMNS = ("group_id", "name", "price_delta_vnd", "is_available", "position")
USER_COLUMNS = (
    "id", "password", "is_superuser", "phone", "email", "full_name", "roles", "language", "is_active",
    "is_staff", "date_joined",
)  # fmt: skip
#: Tables whose secondary indexes are dropped for the load and rebuilt once after it (opening hours
#: and closed dates keep theirs: the schedule triggers look merchants up through them).
BULK_TABLES = (
    "merchants_merchant", "merchants_menucategory", "merchants_menuitem", "merchants_optiongroup",
    "merchants_option", "users_user", "orders_order", "orders_orderline", "orders_orderevent",
)  # fmt: skip


def _csv_value(value: Any) -> Any:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(str(part) for part in value) + "}"
    return value


def copy_rows(
    cursor: CursorWrapper, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY `rows` into `table`, 100,000 at a time; returns how many."""
    count = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    pending = 0

    def flush() -> None:
        buffer.seek(0)
        cursor.cursor.copy_expert(sql, buffer)  # psycopg2's cursor
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
        pending += 1
        count += 1
        if pending == 100_000:
            flush()
            pending = 0
    if pending:
        flush()
    return count


def reserve_ids(cursor: CursorWrapper, table: str, count: int) -> list[int]:
    """`count` fresh primary keys of `table`, from its own sequence (so later inserts never collide)."""
    if count == 0:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
    )
    return [row[0] for row in cursor.fetchall()]


def _position(rng: random.Random) -> tuple[float, float]:
    """Two merchants in three cluster around the centre, the rest anywhere in the city."""
    if rng.random() < 2 / 3:
        lat, lng = rng.gauss(CENTRE[0], 0.04), rng.gauss(CENTRE[1], 0.045)
    else:
        lat, lng = rng.uniform(*LAT_RANGE), rng.uniform(*LNG_RANGE)
    return min(max(lat, LAT_RANGE[0]), LAT_RANGE[1]), min(max(lng, LNG_RANGE[0]), LNG_RANGE[1])


def _menus() -> list[list[Dish]]:
    return [
        [(category, name, price, keys) for category, items in kind.menu for name, price, keys in items]
        for kind in KINDS
    ]


def _plan(menu: list[Dish], count: int) -> list[Dish]:
    """`count` dishes from a kind's menu; past its end, the same dishes again as larger portions."""
    plan = []
    for n in range(count):
        category, name, price, keys = menu[n % len(menu)]
        if n >= len(menu):
            name, price, keys = f"{name} phần lớn {n // len(menu)}", price + 20_000, ()
        plan.append((category, name, price, keys))
    return plan


def secondary_indexes(cursor: CursorWrapper, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, definition) of the tables' indexes that back no constraint (primary key, unique)."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(tables)],
    )
    return list(cursor.fetchall())


class Command(BaseCommand):
    help = "Seed a city the size of Loship's (20k merchants, 300k dishes, 1M past orders) for benchmarks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="Multiplies every default size.")
        for name, default in DEFAULTS.items():
            parser.add_argument(f"--{name}", type=int, default=None, help=f"Default {default:,} x scale.")
        parser.add_argument("--reset", action="store_true", help="Delete a previous city first.")
        parser.add_argument("--seed", type=int, default=20_261_130)

    def handle(self, *args: Any, **options: Any) -> None:
        sizes = {
            name: options[name] if options[name] is not None else max(1, round(default * options["scale"]))
            for name, default in DEFAULTS.items()
        }
        sizes["customers"] = max(sizes["customers"], 2)
        self.rng = random.Random(options["seed"])
        started = time.monotonic()
        with connection.cursor() as cursor:
            if options["reset"]:
                self._timed("reset", lambda: delete_city(cursor))
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM merchants_merchant WHERE slug LIKE %s)", [f"{SLUG_PREFIX}%"]
            )
            if cursor.fetchone()[0]:
                raise CommandError("A city is already seeded; pass --reset to replace it.")
            with transaction.atomic():
                # Compiling the generating statements costs more than running them.
                cursor.execute("SET LOCAL jit = off")
                # Foreign keys checked per statement: indexes cannot be rebuilt over pending checks.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                indexes = secondary_indexes(cursor, BULK_TABLES)
                for name, _ in indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
                merchants = self._timed(
                    "merchants, hours", lambda: self._merchants(cursor, sizes["merchants"])
                )
                self._timed("menus", lambda: self._menus(cursor, merchants, sizes["dishes"]))
                customers = self._timed("customers", lambda: self._customers(cursor, sizes["customers"]))
                self._timed("orders", lambda: self._orders(cursor, merchants, customers, sizes["orders"]))
                self._timed("indexes", lambda: [cursor.execute(definition) for _, definition in indexes])
            self._timed("analyze", lambda: cursor.execute("ANALYZE"))
        bump_catalog_version()
        self.stdout.write(
            f"city seeded in {time.monotonic() - started:.0f} s: {sizes['merchants']:,} merchants, "
            f"{sizes['dishes']:,} dishes, {sizes['customers']:,} customers, {sizes['orders']:,} orders "
            f"({min(HEAVY_CUSTOMER_ORDERS, sizes['orders'])} by {HEAVY_CUSTOMER_PHONE})"
        )

    def _timed(self, label: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        result = step()
        self.stdout.write(f"  {label}: {time.monotonic() - started:.1f} s")
        return result

    def _merchants(self, cursor: CursorWrapper, count: int) -> list[dict[str, Any]]:
        merchants: list[dict[str, Any]] = []
        rows: list[list[Any]] = []
        hours: list[tuple[Any, ...]] = []
        closed: list[tuple[Any, ...]] = []
        for index, pk in enumerate(reserve_ids(cursor, "merchants_merchant", count)):
            kind_index = index % len(KINDS)
            kind = KINDS[kind_index]
            name = f"{kind.names[(index // len(KINDS)) % len(kind.names)]} {index + 1}"
            lat, lng = _position(self.rng)
            rating_count = self.rng.randint(0, 3000)
            rating_avg = round(self.rng.uniform(3.5, 5.0), 2) if rating_count else 0
            prep = self.rng.choice([10, 15, 20, 25])
            merchants.append({"id": pk, "kind": kind_index, "prep": prep})
            address = f"{index + 1} Đường số {index % 97 + 1}, TP. Hồ Chí Minh"
            min_order, radius = self.rng.choice([0, 30_000, 50_000]), self.rng.choice([4_000, 5_000, 8_000])
            busy, rating_sum = self.rng.random() < 0.03, int(rating_avg * rating_count)
            search_text = normalize(" ".join([name, *kind.cuisines]))
            rows.append([
                pk, name, f"{SLUG_PREFIX}{index + 1}", "", "", address, f"{lat:.6f}", f"{lng:.6f}",
                list(kind.cuisines), kind.price_level, "", min_order, radius, prep, busy, True,
                rating_count, rating_sum, f"{rating_avg:.2f}", search_text, "now", "now",
            ])  # fmt: skip
            # As in the demo: every sixth merchant never closes, the others keep their kind's hours.
            pattern = "around_the_clock" if index % 6 == 0 else kind.hours
            hours.extend((pk, day, opens, closes) for day in range(7) for opens, closes in HOURS[pattern])
            if index % 5 == 2:
                closed.append((pk, TET_2027, "Nghỉ Tết Nguyên Đán"))
        copy_rows(cursor, "merchants_merchant", MERCHANT_COLUMNS, rows)
        copy_rows(
            cursor, "merchants_openinghours", ("merchant_id", "weekday", "opens_at", "closes_at"), hours
        )
        copy_rows(cursor, "merchants_closeddate", ("merchant_id", "date", "reason"), closed)
        return merchants

    def _menus(self, cursor: CursorWrapper, merchants: list[dict[str, Any]], dishes: int) -> None:
        menus = _menus()
        share, extra = divmod(dishes, len(merchants))
        plans = [_plan(menus[m["kind"]], share + (i < extra)) for i, m in enumerate(merchants)]
        names = [list(dict.fromkeys(dish[0] for dish in plan)) for plan in plans]
        category_ids = iter(reserve_ids(cursor, "merchants_menucategory", sum(map(len, names))))
        category_of = [{name: next(category_ids) for name in categories} for categories in names]
        copy_rows(
            cursor,
            "merchants_menucategory",
            ("id", "merchant_id", "name", "position"),
            (
                (pk, merchant["id"], name, position)
                for merchant, categories in zip(merchants, category_of, strict=True)
                for position, (name, pk) in enumerate(categories.items())
            ),
        )
        item_ids = iter(reserve_ids(cursor, "merchants_menuitem", dishes))
        search_text: dict[str, str] = {}
        items: list[tuple[Any, ...]] = []
        groups: list[tuple[int, str, int]] = []
        for index, (merchant, plan) in enumerate(zip(merchants, plans, strict=True)):
            merchant["first_item"], merchant["items"] = None, len(plan)
            for position, (category, name, price, keys) in enumerate(plan):
                pk = next(item_ids)
                merchant["first_item"] = merchant["first_item"] or pk
                text = search_text.get(name) or search_text.setdefault(name, normalize(name))
                available = self.rng.random() > 0.06
                category_id = category_of[index][category]
                items.append(
                    (pk, merchant["id"], category_id, name, "", price, "", available, position, text)
                )
                if index % 4 == 0:  # every fourth merchant's dishes carry the demo's option groups
                    groups.extend((pk, key, group_position) for group_position, key in enumerate(keys))
        copy_rows(cursor, "merchants_menuitem", ITEM_COLUMNS, items)
        group_ids = reserve_ids(cursor, "merchants_optiongroup", len(groups))
        copy_rows(
            cursor,
            "merchants_optiongroup",
            GROUP_COLUMNS,
            (
                (pk, item, spec.name, spec.required, spec.min_select, spec.max_select, position)
                for pk, (item, key, position) in zip(group_ids, groups, strict=True)
                for spec in [GROUPS[key]]
            ),
        )
        copy_rows(
            cursor,
            "merchants_option",
            OPTION_COLUMNS,
            (
                (pk, name, delta, True, position)
                for pk, (_, key, _) in zip(group_ids, groups, strict=True)
                for position, (name, delta) in enumerate(GROUPS[key].options)
            ),
        )

    def _customers(self, cursor: CursorWrapper, count: int) -> list[int]:
        ids = reserve_ids(cursor, "users_user", count)
        copy_rows(
            cursor,
            "users_user",
            USER_COLUMNS,
            (
                (
                    pk,
                    "!",
                    False,
                    f"{PHONE_PREFIX}{n:07d}",
                    "",
                    f"Khách {n}",
                    ["customer"],
                    "vi",
                    True,
                    False,
                    "now()",
                )
                for n, pk in enumerate(ids)
            ),
        )
        return ids

    def _orders(
        self, cursor: CursorWrapper, merchants: list[dict[str, Any]], customers: list[int], count: int
    ) -> None:
        """Orders are generated in SQL from two lookup tables (merchants by index, customers by index):
        the first `HEAVY_CUSTOMER_ORDERS` belong to customer 0, the rest spread over the others; each
        has 1-3 lines of its merchant's dishes and two history events (placed, delivered), and was
        placed at a pseudo-random moment of the past year."""
        cursor.execute(
            "CREATE TEMP TABLE city_m (idx int PRIMARY KEY, id bigint, lat numeric, lng numeric, "
            "first_item bigint, items int, prep int) ON COMMIT DROP"
        )
        cursor.execute(
            "INSERT INTO city_m SELECT row_number() OVER (ORDER BY m.id) - 1, m.id, m.lat, m.lng, "
            "f.first_item, f.items, m.prep_minutes FROM merchants_merchant m "
            "JOIN unnest(%s::bigint[], %s::bigint[], %s::int[]) AS f(id, first_item, items) ON f.id = m.id",
            [
                [m["id"] for m in merchants if m["items"]],
                [m["first_item"] for m in merchants if m["items"]],
                [m["items"] for m in merchants if m["items"]],
            ],
        )
        cursor.execute("CREATE TEMP TABLE city_c (idx int PRIMARY KEY, id bigint, phone text) ON COMMIT DROP")
        cursor.execute(
            "INSERT INTO city_c SELECT n - 1, u.id, u.phone "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS c(id, n) JOIN users_user u ON u.id = c.id",
            [customers],
        )
        cursor.execute("ANALYZE city_m; ANALYZE city_c")
        cursor.execute("SELECT count(*) FROM city_m")
        listed = cursor.fetchone()[0]
        if listed:
            self._generate_orders(cursor, listed=listed, customers=len(customers), count=count)
        cursor.execute("DROP TABLE city_m, city_c")  # now, not at commit: the caller's transaction may go on

    def _generate_orders(self, cursor: CursorWrapper, *, listed: int, customers: int, count: int) -> None:
        params: dict[str, int | str] = {
            "count": count,
            "heavy": HEAVY_CUSTOMER_ORDERS,
            "customers": customers - 1,
            "merchants": listed,
            "prefix": CODE_PREFIX,
            "pattern": f"{CODE_PREFIX}%",
        }
        self._timed("  orders", lambda: cursor.execute(INSERT_ORDERS, params))
        self._timed("  lines", lambda: cursor.execute(INSERT_LINES, params))
        self._timed("  history", lambda: cursor.execute(INSERT_HISTORY, params))


INSERT_ORDERS = """
    INSERT INTO orders_order (
        code, customer_id, merchant_id, status, version, status_reason, cancelled_by,
        delivery_address, delivery_lat, delivery_lng, delivery_note, customer_phone, delivery_code,
        distance_m, note, subtotal_vnd, delivery_fee_vnd, small_order_fee_vnd, service_fee_vnd,
        discount_vnd, total_vnd, promo_code, payment_method, payment_status, prep_minutes, eta,
        created_at, updated_at, accepted_at, ready_at, picked_up_at, delivered_at)
    SELECT %(prefix)s || lpad(g::text, 9, '0'), c.id, m.id, 'delivered', 2, '', '',
           'Giao tới khách ' || c.idx, m.lat + 0.01, m.lng - 0.01, '', c.phone,
           lpad((g %% 10000)::text, 4, '0'), 1500 + g %% 4000, '', sub.total, 15000, 0, 0, 0,
           sub.total + 15000, '', 'cash', 'paid', m.prep, t.at + interval '40 minutes',
           t.at, t.at + interval '40 minutes', t.at + interval '2 minutes',
           t.at + interval '15 minutes', t.at + interval '20 minutes', t.at + interval '40 minutes'
    FROM generate_series(1::bigint, %(count)s::bigint) AS g
    JOIN city_c c ON c.idx = CASE WHEN g <= %(heavy)s THEN 0 ELSE 1 + (g * 7919) %% %(customers)s END
    JOIN city_m m ON m.idx = (g * 104729) %% %(merchants)s
    CROSS JOIN LATERAL (
        SELECT now() - interval '1 second' * ((g::bigint * 15485863) %% 31536000) AS at) t
    CROSS JOIN LATERAL (
        SELECT COALESCE(sum(i.price_vnd), 0) AS total FROM generate_series(1, 1 + g %% 3) AS k
        JOIN merchants_menuitem i ON i.id = m.first_item + (g + k) %% m.items) sub
"""

INSERT_LINES = """
    INSERT INTO orders_orderline (
        order_id, menu_item_id, name, base_price_vnd, unit_price_vnd, quantity, line_total_vnd,
        options, note)
    SELECT o.id, i.id, i.name, i.price_vnd, i.price_vnd, 1, i.price_vnd, '[]', ''
    FROM orders_order o
    JOIN city_m m ON m.id = o.merchant_id
    CROSS JOIN LATERAL (SELECT substr(o.code, 5)::bigint AS g) n
    CROSS JOIN LATERAL generate_series(1, 1 + n.g %% 3) AS k
    JOIN merchants_menuitem i ON i.id = m.first_item + (n.g + k) %% m.items
    WHERE o.code LIKE %(pattern)s
"""

INSERT_HISTORY = """
    INSERT INTO orders_orderevent (
        order_id, version, kind, from_status, to_status, actor_id, actor_role, reason, created_at)
    SELECT o.id, 1, 'placed', '', 'placed', o.customer_id, 'customer', '', o.created_at
    FROM orders_order o WHERE o.code LIKE %(pattern)s
    UNION ALL
    SELECT o.id, 2, 'delivered', 'picked_up', 'delivered', NULL, 'driver', '', o.delivered_at
    FROM orders_order o WHERE o.code LIKE %(pattern)s
"""


def delete_city(cursor: CursorWrapper) -> None:
    """Delete every seeded row (children first: the seed bypassed the ORM, so does this)."""
    orders = f"SELECT id FROM orders_order WHERE code LIKE '{CODE_PREFIX}%'"  # noqa: S608 - fixed names and prefixes
    merchants = f"SELECT id FROM merchants_merchant WHERE slug LIKE '{SLUG_PREFIX}%'"  # noqa: S608 - fixed names and prefixes
    items = f"SELECT id FROM merchants_menuitem WHERE merchant_id IN ({merchants})"  # noqa: S608 - fixed names and prefixes
    groups = f"SELECT id FROM merchants_optiongroup WHERE item_id IN ({items})"  # noqa: S608 - fixed names and prefixes
    statements = [
        f"DELETE FROM orders_orderevent WHERE order_id IN ({orders})",  # noqa: S608 - fixed names and prefixes
        f"DELETE FROM orders_orderline WHERE order_id IN ({orders})",  # noqa: S608 - fixed names and prefixes
        f"DELETE FROM orders_order WHERE id IN ({orders})",  # noqa: S608 - fixed names and prefixes
        f"DELETE FROM merchants_option WHERE group_id IN ({groups})",  # noqa: S608 - fixed names and prefixes
        f"DELETE FROM merchants_optiongroup WHERE id IN ({groups})",  # noqa: S608 - fixed names and prefixes
        *(
            f"DELETE FROM merchants_{table} WHERE merchant_id IN ({merchants})"  # noqa: S608 - fixed names and prefixes
            for table in ("menuitem", "menucategory", "openinghours", "closeddate")
        ),
        f"DELETE FROM merchants_merchant WHERE id IN ({merchants})",  # noqa: S608 - fixed names and prefixes
        f"DELETE FROM users_user WHERE phone LIKE '{PHONE_PREFIX}%'",  # noqa: S608 - fixed names and prefixes
    ]
    with transaction.atomic():
        for sql in statements:
            cursor.execute(sql)  # only the module's own constants, no input
