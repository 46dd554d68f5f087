"""Telling the ops team about a headroom alert: the notifications app's `notify` (inbox, push, email by
preference) for every active ops user when that app is installed; the caller's outbox event (shown as a
banner on the ops dashboard's live feed) either way."""

import logging

from django.apps import apps
from django.db.models import Q

from notifications.services import notify
from users.models import Role, User

logger = logging.getLogger(__name__)

ALERT_KIND = "ops.headroom_alert"  # its title and body are in notifications/templates.py


def ops_users() -> list[User]:
    return list(User.objects.filter(Q(roles__contains=[Role.OPS]) | Q(is_superuser=True), is_active=True))


def notify_ops(*, figure: str, load: float, limit: float) -> str:
    """Notify every active ops user; returns "notify", or "outbox" when the notifications app is absent."""
    if not apps.is_installed("notifications"):
        return "outbox"
    context = {
        "figure": figure,
        "load": f"{load:.1f}",
        "limit": f"{limit:.1f}",
        "headroom": f"{limit / load:.1f}",
    }
    for user in ops_users():
        notify(user=user, kind=ALERT_KIND, context=context, data={"figure": figure})
    return "notify"
