"""The merchant dashboard's charts, drawn from `ops.trends` with the one chart helper (`ops.charts`)."""

from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loship.money import format_vnd
from ops.charts import Value, bar_chart, ranking_chart
from ops.trends import MerchantTrends

#: A day label every week on the 30-day axes.
DAY_LABEL_EVERY = 7


def _minutes(value: Value) -> str:
    return gettext("%(minutes).1f min") % {"minutes": value}


def _stars(value: Value) -> str:
    return f"{value:.2f} ★"


def _daily(rows: list[tuple[str, Value]], title: str, **options: Any) -> SafeString:
    return bar_chart(rows, title=title, label_every=DAY_LABEL_EVERY, **options)


def trend_charts(trends: MerchantTrends) -> dict[str, Any]:
    """Template context: each chart's SVG, the window's means, and whether a ranking has rows."""
    day = [d.strftime("%d/%m") for d in trends.days]
    no_reason = gettext("(no reason given)")
    return {
        "trends": trends,
        "sales_chart": _daily(
            [(label, row.sales_vnd) for label, row in zip(day, trends.sales, strict=True)],
            str(_("Sales per day")),
            value_text=format_vnd,
        ),
        "orders_chart": _daily(
            [(label, row.orders) for label, row in zip(day, trends.sales, strict=True)],
            str(_("Orders per day")),
        ),
        "dishes_chart": ranking_chart(trends.top_dishes, title=str(_("Top dishes (portions)"))),
        "reasons_chart": ranking_chart(
            [(reason or no_reason, n) for reason, n in trends.cancellation_reasons],
            title=str(_("Cancellation reasons")),
        ),
        "prep_chart": _daily(
            [(label, row.mean or 0.0) for label, row in zip(day, trends.prep_minutes, strict=True)],
            str(_("Average preparation time per day")),
            value_text=_minutes,
        ),
        "ratings_chart": _daily(
            [(label, row.mean or 0.0) for label, row in zip(day, trends.ratings, strict=True)],
            str(_("Average rating per day")),
            peak=5,
            value_text=_stars,
        ),
    }
