"""Telling the ops team: the notifications app's `notify` when it is installed, else only the outbox
event the caller records (which the ops live feed shows as a banner)."""

import importlib
import logging
from typing import Any

from django.db.models import Q

from users.models import Role, User

logger = logging.getLogger(__name__)


def ops_users() -> list[User]:
    return list(User.objects.filter(Q(roles__contains=[Role.OPS]) | Q(is_superuser=True), is_active=True))


def notify_ops(*, title_vi: str, title_en: str, body_vi: str, body_en: str) -> str:
    """Send to every active ops user; returns how ("notify") or "outbox" when no notifier exists."""
    try:
        notifications: Any = importlib.import_module("loship.notifications.services")
    except ImportError:
        return "outbox"
    notify = getattr(notifications, "notify", None)
    if notify is None:
        return "outbox"
    for user in ops_users():
        vi = user.language == "vi"
        notify(
            user=user,
            kind="ops.headroom_alert",
            title=title_vi if vi else title_en,
            body=body_vi if vi else body_en,
            data={"kind": "ops.headroom_alert"},
        )
    return "notify"
