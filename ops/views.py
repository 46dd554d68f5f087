"""The ops dashboard and the merchant dashboard: custom admin pages (behind the admin login).

Ops see the city; merchant staff see only the merchants they work for (another merchant is a 404).
Actions on late and stuck orders call the owning apps' services, never write rows here.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from drivers.selectors import largest_cash_balances
from loship.errors import ApplicationError
from merchants.models import Merchant
from merchants.selectors import merchants_for_staff
from ops import actions, drivers_board, selectors
from ops.charts import bar_chart
from ops.headroom import current_readings, lowest_headroom
from ops.heartbeat import heartbeats
from ops.merchant_charts import trend_charts
from ops.models import HeadroomAlert
from ops.trends import merchant_trends
from users.models import User
from users.permissions import is_ops

OPS_FEED_PATH = "/ws/ops/city/"
#: How many merchants the merchant pages' picker lists (any other opens by `?merchant=<id>`).
MERCHANT_CHOICES = 200


def _ops_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not is_ops(user):
        raise PermissionDenied
    return user


def ops_dashboard(request: HttpRequest) -> HttpResponse:
    _ops_user(request)
    now = timezone.now()
    today, last_hour = selectors.today_and_last_hour(now)
    readings = current_readings()
    quarter_hours = selectors.orders_per_quarter_hour(today)
    busy = selectors.busy_driver_ids()  # one read for the counts and the drivers' rows
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Ops dashboard"),
        "now": now,
        "windows": [
            (_("Today"), selectors.order_figures(today)),
            (_("Last hour"), selectors.order_figures(last_hour)),
        ],
        "unassigned": selectors.unassigned_orders().count(),
        "drivers": drivers_board.driver_counts(busy),
        "driver_rows": drivers_board.driver_rows(busy=busy),
        "orders_chart": bar_chart(
            [(slot.strftime("%H:%M"), n) for slot, n in quarter_hours],
            title=str(_("Orders per 15 minutes")),
            label_every=4,
        ),
        "delivery_chart": bar_chart(
            selectors.delivery_time_distribution(today), title=str(_("Click-to-door minutes"))
        ),
        "readings": readings,
        "lowest": lowest_headroom(readings),
        "open_alerts": list(HeadroomAlert.objects.filter(closed_at__isnull=True)),
        # Judged now, at render time: a dead beat cannot report its own death.
        "dead_processes": [heartbeat for heartbeat in heartbeats() if heartbeat.stale],
        "live_orders": list(selectors.active_orders()),
        "late_or_stuck": selectors.late_or_stuck_orders(now),
        "feed_path": OPS_FEED_PATH,
        "cash_rows": largest_cash_balances(),
        "cash_limit_vnd": settings.DRIVER_CASH_LIMIT_VND,
    }
    return render(request, "ops/dashboard.html", context)


@require_POST
def order_action(request: HttpRequest, order_id: int) -> HttpResponse:
    """Cancel with refund, or take the order from its driver (back to dispatch) and optionally give it
    to a named driver. Refusals come back as the service's message."""
    user = _ops_user(request)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()[:200]
    try:
        if action == "cancel":
            actions.cancel_with_refund(actor=user, order_id=order_id, reason=reason)
            messages.success(request, _("Order %(id)s cancelled (refunded if paid).") % {"id": order_id})
        elif action == "reassign":
            driver_id = request.POST.get("driver_id", "").strip()
            actions.reassign(
                actor=user,
                order_id=order_id,
                driver_id=int(driver_id) if driver_id.isdigit() else None,
                reason=reason,
            )
            messages.success(request, _("Order %(id)s reassigned.") % {"id": order_id})
        else:
            messages.error(request, _("Unknown action."))
    except ApplicationError as error:
        messages.error(request, _("Order %(id)s: %(message)s") % {"id": order_id, "message": error.message})
    return HttpResponseRedirect(reverse("ops:dashboard"))


def chosen_merchant(request: HttpRequest) -> tuple[User, Merchant | None, list[Merchant]]:
    """The merchant a merchant page shows (`?merchant=<id>`, else the first by name) and the ones the
    user may pick from: staff their own merchants (another is a 404, none a 403), ops any."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    choices = Merchant.objects.all() if is_ops(user) else merchants_for_staff(user)
    if not is_ops(user) and not choices.exists():
        raise PermissionDenied
    wanted = request.GET.get("merchant", "")
    if wanted:
        merchant = choices.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if merchant is None:
            raise Http404
    else:
        merchant = choices.order_by("name").first()
    return user, merchant, list(choices.order_by("name", "pk")[:MERCHANT_CHOICES])


def merchant_dashboard(request: HttpRequest) -> HttpResponse:
    """Merchant staff: their merchants only (`?merchant=<id>` picks one); ops may open any merchant.
    Today's figures, then the last 30 days as charts (one query each, see `ops.trends`)."""
    _user, merchant, choices = chosen_merchant(request)
    today, _last_hour = selectors.today_and_last_hour()
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Merchant dashboard"),
        "merchant": merchant,
        "merchant_choices": choices,
        "figures": selectors.merchant_figures(merchant, today) if merchant else None,
        **(trend_charts(merchant_trends(merchant)) if merchant else {}),
        "statement_link": _("Statement and CSV export"),
    }
    return render(request, "ops/merchant_dashboard.html", context)


def _orders_context(user: User, merchant: Merchant) -> dict[str, Any]:
    return {
        "merchant": merchant,
        "orders": list(selectors.todays_merchant_orders(merchant)),
        # The tablet's rule: staff answer their merchants' orders; ops (not staff there) watch.
        "may_answer": merchants_for_staff(user).filter(pk=merchant.pk).exists(),
    }


def merchant_orders(request: HttpRequest) -> HttpResponse:
    """Today's orders of one merchant, kept live by the merchant stream; staff answer them here
    through the tablet's own views (`ops.answers`)."""
    user, merchant, choices = chosen_merchant(request)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Incoming orders"),
        "merchant_choices": choices,
        "merchant": merchant,
        **(_orders_context(user, merchant) if merchant else {}),
    }
    return render(request, "ops/merchant_orders.html", context)


def merchant_order_rows(request: HttpRequest) -> HttpResponse:
    """The page's table rows, as a reload would draw them: the page fetches them when the stream says
    something changed (or on reconnecting), so what it shows is always what the database holds."""
    user, merchant, _choices = chosen_merchant(request)
    if merchant is None:
        raise Http404
    return render(request, "ops/merchant_order_rows.html", _orders_context(user, merchant))
