"""Telling the ops team about a headroom alert: the notifications app's `notify` (inbox, push, email by
preference) for every active ops user when that app is installed; the caller's outbox event (shown as a
banner on the ops dashboard's live feed) either way."""

import importlib
import logging
from typing import Any

from django.apps import apps
from django.db.models import Q

from loship.i18n import Text
from users.models import Role, User

logger = logging.getLogger(__name__)

ALERT_KIND = "ops.headroom_alert"
ALERT_TITLE = Text(vi="Cảnh báo tải: {figure}", en="Load alert: {figure}")
ALERT_BODY = Text(
    vi="Tải {load} đã vượt 40% giới hạn đo được ({limit}). Còn dư {headroom} lần.",
    en="Load {load} passed 40% of the measured limit ({limit}). Headroom {headroom}x.",
)


def ops_users() -> list[User]:
    return list(User.objects.filter(Q(roles__contains=[Role.OPS]) | Q(is_superuser=True), is_active=True))


def notify_ops(*, figure: str, load: float, limit: float) -> str:
    """Notify every active ops user; returns "notify", or "outbox" when the notifications app is absent."""
    if not apps.is_installed("loship.notifications"):
        return "outbox"
    templates: Any = importlib.import_module("loship.notifications.templates")
    services: Any = importlib.import_module("loship.notifications.services")
    templates.TEMPLATES.setdefault(ALERT_KIND, templates.Template(ALERT_TITLE, ALERT_BODY))
    context = {
        "figure": figure,
        "load": f"{load:.1f}",
        "limit": f"{limit:.1f}",
        "headroom": f"{limit / load:.1f}",
    }
    for user in ops_users():
        services.notify(user=user, kind=ALERT_KIND, context=context, data={"figure": figure})
    return "notify"
