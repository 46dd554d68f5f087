"""What customers browse: merchants near a point (distance, filters, Vietnamese search) and the
merchant page with its full menu.

Distance is computed in SQL (haversine over an indexed bounding box), so filtering, ordering and
paging happen in the database, in one statement. Search matches normalized words by prefix with
PostgreSQL's built-in full-text machinery (`to_tsvector('simple', search_text)`, GIN-indexed; no
extension needed): every word of the query must start a word of the merchant's name or cuisines,
or of one of its dish names.
"""

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connections
from django.db.models import Prefetch
from django.utils import timezone

from loship.db_router import read_alias
from merchants.cache import cached_page
from merchants.geo import EARTH_RADIUS_M, FeeSchedule, bounding_box, delivery_distance, tiered_fee_vnd
from merchants.geo import travel_minutes as travel_minutes_for
from merchants.models import ClosedDate, MenuCategory, MenuItem, Merchant, OpeningHours, Option, OptionGroup
from merchants.photos import photo_fields
from merchants.search import normalize
from merchants.selectors import LOCAL_TZ, open_at

#: More words than this add nothing but cost; the rest of a long query is ignored.
MAX_QUERY_WORDS = 8
#: Dishes reported per merchant in a search result.
MATCHED_DISHES_SHOWN = 5
UNCATEGORIZED = "Món khác"


class Sort:
    DISTANCE = "distance"
    RATING = "rating"
    CHOICES = (DISTANCE, RATING)


@dataclass(frozen=True, slots=True)
class NearbyQuery:
    lat: float
    lng: float
    radius_m: int
    sort: str = Sort.DISTANCE
    open_now: bool = False
    cuisines: tuple[str, ...] = ()
    price_levels: tuple[int, ...] = ()
    q: str = ""
    at: datetime | None = field(default=None)


def search_words(text: str) -> list[str]:
    return normalize(text).split()[:MAX_QUERY_WORDS]


def search_query(text: str) -> SearchQuery | None:
    """Every normalized word as a prefix, all required: "bun bo" -> `bun:* & bo:*`. None if empty."""
    words = search_words(text)
    if not words:
        return None
    # normalize() leaves only [a-z0-9] words, so the raw tsquery cannot be malformed.
    return SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")


# The nearby list is the hottest read of the app, so it is one hand-written statement: the ORM spent
# more time building and compiling the expressions below than PostgreSQL spent running them. Each
# fragment mirrors a Python rule: `_DISTANCE` is `merchants.geo.haversine_m`; `_OPEN` is
# `merchants.selectors.open_at` over the schedule columns the database keeps on each merchant
# (migration 0003: seconds of the week covered by its intervals and their past-midnight tails, and its
# closed dates), so open-now costs no subquery per merchant; `_MATCHES` uses the GIN index expressions
# of `merchant_search`/`menu_item_search`. Tests check that each agrees with its Python twin.
_DISTANCE = """2 * %(earth_radius)s * asin(sqrt(
    power(sin((radians(m.lat::float8) - %(phi)s) / 2), 2)
    + %(cos_phi)s * cos(radians(m.lat::float8)) * power(sin((radians(m.lng::float8) - %(lam)s) / 2), 2)))"""

_OPEN = """((m.open_spans @> %(week_second)s AND NOT %(today)s = ANY(m.closed_on))
    OR (m.spill_spans @> %(week_second)s AND NOT %(yesterday)s = ANY(m.closed_on)))"""

_TSVECTOR = "to_tsvector('simple'::regconfig, COALESCE({table}.search_text, ''::text))"
# The matching merchants are found through the two GIN indexes at once and kept as a hashed set that
# the candidates inside the bounding box are checked against: no text is parsed per candidate.
_MATCHES = f"""m.id IN (
    SELECT s.id FROM merchants_merchant s
    WHERE {_TSVECTOR.format(table="s")} @@ to_tsquery('simple'::regconfig, %(tsquery)s)
    UNION
    SELECT i.merchant_id FROM merchants_menuitem i
    WHERE {_TSVECTOR.format(table="i")} @@ to_tsquery('simple'::regconfig, %(tsquery)s))"""  # noqa: S608

# The first few matching dishes of each merchant of the page, in menu order, as JSON.
_DISHES = f"""
    LEFT JOIN LATERAL (
        SELECT json_agg(json_build_object(
                   'id', d.id, 'name', d.name, 'price_vnd', d.price_vnd, 'is_available', d.is_available)
                   ORDER BY d.position, d.id) AS matched_dishes
        FROM (SELECT i.id, i.name, i.price_vnd, i.is_available, i.position FROM merchants_menuitem i
              WHERE i.merchant_id = m.id
                AND {_TSVECTOR.format(table="i")} @@ to_tsquery('simple'::regconfig, %(tsquery)s)
              ORDER BY i.position, i.id LIMIT {MATCHED_DISHES_SHOWN}) d) dishes ON true"""  # noqa: S608

_COLUMNS = (
    "m.id, m.name, m.slug, m.address, m.lat, m.lng, m.cuisines, m.price_level, m.cover_image_url, "
    "m.cover_photo_variants, m.rating_avg, m.rating_count, m.min_order_vnd, m.prep_minutes, "
    "m.delivery_radius_m, m.is_busy"
)

_ORDER = {
    Sort.DISTANCE: "{t}.distance_m, {t}.id",
    Sort.RATING: "{t}.rating_avg DESC, {t}.rating_count DESC, {t}.distance_m, {t}.id",
}

SECONDS_PER_DAY = 86_400
#: `count` counts at most this many merchants ("100+" is all a list needs to say); the pages go on.
COUNT_CAP = 100
#: Rings tried, nearest first, before the whole radius: where merchants are dense (the city centre
#: has thousands within 5 km), the first page and the capped count come from a small disc.
RING_RADII_M = (500, 1_000, 2_000)


def _decimal(value: float) -> Decimal:
    # Compared with the numeric columns as numeric, so the (lat, lng) index applies.
    return Decimal(f"{value:.6f}")


def nearby_sql(query: NearbyQuery, *, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    """The statement listing one page of `query` (plus one row, to tell whether a next page exists)
    with the count capped at `COUNT_CAP` (and, for a search, each merchant's matching dishes), with
    its parameters.

    By distance, the candidates are read from the smallest ring around the point that holds enough
    listed merchants for the page and the capped count (the whole radius if none does): the nearest
    rows of a ring that holds at least `offset + limit + 1` of them are the nearest rows overall, and
    a ring holding `COUNT_CAP` of them says the radius holds at least as many. By rating the ring is
    the whole radius, and so it is for a search, whose candidates are the merchants the text matches
    (found through the GIN indexes). Only the page's merchants are joined back for their other columns
    and dishes.
    """
    local = (query.at or timezone.now()).astimezone(LOCAL_TZ)
    today = local.date()
    yesterday = today - timedelta(days=1)
    phi = math.radians(query.lat)
    words = search_words(query.q)
    # A search reads its candidates from the (few) merchants the text matches, not from the rings.
    near_first = query.sort == Sort.DISTANCE and not words
    radii = [r for r in RING_RADII_M if near_first and r < query.radius_m] + [query.radius_m]
    boxes = [bounding_box(query.lat, query.lng, radius) for radius in radii]
    params: dict[str, Any] = {
        "earth_radius": float(EARTH_RADIUS_M),
        "phi": phi,
        "lam": math.radians(query.lng),
        "cos_phi": math.cos(phi),
        "today": today,
        "yesterday": yesterday,
        "week_second": today.weekday() * SECONDS_PER_DAY
        + local.hour * 3600
        + local.minute * 60
        + local.second,
        "radii": [float(radius) for radius in radii],
        "min_lats": [_decimal(box[0]) for box in boxes],
        "max_lats": [_decimal(box[1]) for box in boxes],
        "min_lngs": [_decimal(box[2]) for box in boxes],
        "max_lngs": [_decimal(box[3]) for box in boxes],
        "radius": float(query.radius_m),
        "enough": max(COUNT_CAP, offset + limit + 1),
        "cap": COUNT_CAP,
        "limit": limit + 1,
        "offset": offset,
    }
    conditions = [
        "m.is_active",
        "m.lat BETWEEN ring.min_lat AND ring.max_lat",
        "m.lng BETWEEN ring.min_lng AND ring.max_lng",
        f"{_DISTANCE} <= ring.radius",
    ]
    if query.open_now:
        conditions.append(f"{_OPEN} AND NOT m.is_busy")
    if query.cuisines:
        conditions.append("m.cuisines && %(cuisines)s::varchar(20)[]")
        params["cuisines"] = list(query.cuisines)
    if query.price_levels:
        conditions.append("m.price_level = ANY(%(price_levels)s)")
        params["price_levels"] = list(query.price_levels)
    dishes_column, dishes_join = "'[]'::json", ""
    if words:
        conditions.append(_MATCHES)
        params["tsquery"] = " & ".join(f"{word}:*" for word in words)
        dishes_column, dishes_join = "COALESCE(dishes.matched_dishes, '[]'::json)", _DISHES
    where = " AND ".join(conditions)
    # The rings come out of unnest() in array order and the LIMIT stops at the first that is enough.
    sql = f"""
        WITH ring AS (
            SELECT ring.* FROM unnest(%(radii)s::float8[], %(min_lats)s::numeric[], %(max_lats)s::numeric[],
                                      %(min_lngs)s::numeric[], %(max_lngs)s::numeric[])
                               AS ring(radius, min_lat, max_lat, min_lng, max_lng)
            WHERE ring.radius >= %(radius)s
               OR (SELECT count(*) FROM (SELECT 1 FROM merchants_merchant m WHERE {where}
                                         LIMIT %(enough)s) AS probe) >= %(enough)s
            LIMIT 1
        ), listed AS (
            SELECT m.id, m.rating_avg, m.rating_count, {_DISTANCE} AS distance_m, {_OPEN} AS is_open
            FROM ring, merchants_merchant m
            WHERE {where}
        )
        SELECT {_COLUMNS}, page.distance_m, page.is_open, {dishes_column} AS matched_dishes,
               (SELECT count(*) FROM (SELECT 1 FROM listed LIMIT %(cap)s) AS counted) AS total
        FROM (SELECT * FROM listed ORDER BY {_ORDER[query.sort].format(t="listed")}
              LIMIT %(limit)s OFFSET %(offset)s) AS page
        JOIN merchants_merchant m ON m.id = page.id{dishes_join}
        ORDER BY {_ORDER[query.sort].format(t="page")}"""  # noqa: S608 - only fixed fragments; values are parameters
    return sql, params


@dataclass(frozen=True, slots=True)
class NearbyPage:
    #: How many merchants are listed, counting at most `COUNT_CAP`.
    total: int
    rows: list[dict[str, Any]]
    #: Whether more merchants follow this page.
    has_next: bool = False


def nearby_merchants(query: NearbyQuery, *, limit: int = 20, offset: int = 0) -> NearbyPage:
    """One page of listed merchants within `radius_m` of the point, with `distance_m`, `is_open` and
    (for a search) `matched_dishes`, filtered and ordered as asked (ties broken by id, so pages are
    stable), the count (at most `COUNT_CAP`) and whether a next page exists, in one statement.
    A page past the end is empty with a total of 0."""
    sql, params = nearby_sql(query, limit=limit, offset=offset)
    # The replica inside `replica_reads()` (a cached list's rebuild), else the primary.
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    total = rows[0]["total"] if rows else 0
    for row in rows:
        del row["total"]
        # Django reads jsonb as text (its JSONField decodes it); this raw statement decodes its own.
        row["cover_photo_variants"] = json.loads(row["cover_photo_variants"])
    return NearbyPage(total=total, rows=rows[:limit], has_next=len(rows) > limit)


# --- The merchant page --------------------------------------------------------------------------


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _option_group(group: OptionGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "is_required": group.is_required,
        "min_select": group.min_select,
        "max_select": group.max_select,
        "options": [
            {
                "id": option.pk,
                "name": option.name,
                "price_delta_vnd": option.price_delta_vnd,
                "is_available": option.is_available,
            }
            for option in group.options.all()
        ],
    }


def _item(item: MenuItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "description": item.description,
        "price_vnd": item.price_vnd,
        **photo_fields(
            url_key="image_url", photo_key="photo", typed_url=item.image_url, variants=item.photo_variants
        ),
        "is_available": item.is_available,
        "option_groups": [_option_group(group) for group in item.option_groups.all()],
    }


def build_page(merchant_id: int, *, today: date | None = None) -> dict[str, Any] | None:
    """The merchant's profile, hours and full menu as plain data, in 7 queries whatever the menu's
    size; None if the merchant is not listed. Time-dependent answers (open now) are added on render."""
    today = today or timezone.now().astimezone(LOCAL_TZ).date()
    merchant = (
        Merchant.objects.filter(pk=merchant_id, is_active=True)
        .prefetch_related(
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens_at", "id")),
            Prefetch(
                "closed_dates",
                # Yesterday's closure still matters after midnight (an interval belongs to its start day).
                queryset=ClosedDate.objects.filter(date__gte=today - timedelta(days=1)).order_by("date"),
            ),
            Prefetch("categories", queryset=MenuCategory.objects.order_by("position", "id")),
            Prefetch("items", queryset=MenuItem.objects.order_by("position", "id")),
            Prefetch("items__option_groups", queryset=OptionGroup.objects.order_by("position", "id")),
            Prefetch("items__option_groups__options", queryset=Option.objects.order_by("position", "id")),
        )
        .first()
    )
    if merchant is None:
        return None
    items_by_category: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for item in merchant.items.all():
        items_by_category[item.category_id].append(_item(item))
    sections = [
        {"id": category.pk, "name": category.name, "items": items_by_category[category.pk]}
        for category in merchant.categories.all()
        if items_by_category.get(category.pk)
    ]
    if items_by_category.get(None):
        sections.append({"id": None, "name": UNCATEGORIZED, "items": items_by_category[None]})
    return {
        "id": merchant.pk,
        "name": merchant.name,
        "slug": merchant.slug,
        "description": merchant.description,
        "phone": merchant.phone,
        "address": merchant.address,
        "lat": str(merchant.lat),
        "lng": str(merchant.lng),
        "cuisines": list(merchant.cuisines),
        "price_level": merchant.price_level,
        **photo_fields(
            url_key="cover_image_url",
            photo_key="cover_photo",
            typed_url=merchant.cover_image_url,
            variants=merchant.cover_photo_variants,
        ),
        "min_order_vnd": merchant.min_order_vnd,
        "delivery_radius_m": merchant.delivery_radius_m,
        "prep_minutes": merchant.prep_minutes,
        "is_busy": merchant.is_busy,
        "rating_avg": str(merchant.rating_avg),
        "rating_count": merchant.rating_count,
        "opening_hours": [
            {"weekday": hours.weekday, "opens_at": _hhmm(hours.opens_at), "closes_at": _hhmm(hours.closes_at)}
            for hours in merchant.opening_hours.all()
        ],
        "closed_dates": [
            {"date": closed.date.isoformat(), "reason": closed.reason}
            for closed in merchant.closed_dates.all()
        ],
        "menu": sections,
    }


def json_bytes(value: Any) -> bytes:
    # As DRF's JSONRenderer writes it: UTF-8, compact.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def cache_entry(page: dict[str, Any]) -> dict[str, Any]:
    """The page as stored in Redis: everything but the clock-dependent fields already encoded as
    JSON (encoding ~40 kB on every read cost more than the rest of the request), plus what the
    clock-dependent fields are computed from."""
    static = {key: value for key, value in page.items() if key != "closed_dates"}
    return {
        "body": json_bytes(static),
        "opening_hours": page["opening_hours"],
        "closed_dates": page["closed_dates"],
        "is_busy": page["is_busy"],
    }


def render_entry(entry: dict[str, Any], *, at: datetime | None = None) -> bytes:
    """The page's JSON now: open-now, accepting orders and upcoming closed dates, then the stored body."""
    local = (at or timezone.now()).astimezone(LOCAL_TZ)
    hours = [
        OpeningHours(
            weekday=row["weekday"],
            opens_at=time.fromisoformat(row["opens_at"]),
            closes_at=time.fromisoformat(row["closes_at"]),
        )
        for row in entry["opening_hours"]
    ]
    closed = {date.fromisoformat(row["date"]) for row in entry["closed_dates"]}
    is_open = open_at(hours, closed, local=local)
    today = local.date().isoformat()
    clock = {
        "is_open": is_open,
        "accepting_orders": is_open and not entry["is_busy"],
        "closed_dates": [row for row in entry["closed_dates"] if row["date"] >= today],
    }
    return json_bytes(clock)[:-1] + b"," + entry["body"][1:]


def merchant_page_json(merchant_id: int, *, at: datetime | None = None) -> bytes | None:
    """The merchant page as customers see it now (cached menu, fresh open-now), as JSON bytes."""

    def build() -> dict[str, Any] | None:
        page = build_page(merchant_id)
        return None if page is None else cache_entry(page)

    entry = cached_page(merchant_id, build)
    return None if entry is None else render_entry(entry, at=at)


def merchant_page(merchant_id: int, *, at: datetime | None = None) -> dict[str, Any] | None:
    """The same page as data."""
    body = merchant_page_json(merchant_id, at=at)
    return None if body is None else json.loads(body)


# --- Delivery preview ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryPreview:
    merchant_id: int
    distance_m: int
    road_distance_m: int
    delivery_radius_m: int
    within_radius: bool
    delivery_fee_vnd: int
    eta_minutes: int
    min_order_vnd: int


def delivery_preview(merchant: Merchant, *, lat: float, lng: float) -> DeliveryPreview:
    """What delivering to (lat, lng) would cost and take, priced exactly as orders price it."""
    distance = delivery_distance(merchant, lat=Decimal(str(lat)), lng=Decimal(str(lng)))
    travel = travel_minutes_for(distance.road_m, speed_kmh=settings.ORDER_DRIVER_SPEED_KMH)
    return DeliveryPreview(
        merchant_id=merchant.pk,
        distance_m=distance.straight_m,
        road_distance_m=distance.road_m,
        delivery_radius_m=merchant.delivery_radius_m,
        within_radius=distance.straight_m <= merchant.delivery_radius_m,
        delivery_fee_vnd=tiered_fee_vnd(distance.road_m, FeeSchedule.from_settings()),
        eta_minutes=merchant.prep_minutes + travel + settings.ORDER_ETA_BUFFER_MINUTES,
        min_order_vnd=merchant.min_order_vnd,
    )
