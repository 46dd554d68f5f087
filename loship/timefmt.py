"""The one way a moment is written in any output: ISO-8601 in the project's time zone
(Asia/Ho_Chi_Minh, `2026-11-30T16:12:03.123456+07:00`), exactly as DRF's DateTimeField renders it in
REST answers, so the same instant reads the same over REST, WebSocket streams and notification data.
"""

from datetime import datetime

from django.utils import timezone


def iso(moment: datetime) -> str:
    """`moment` in the current (the project's) time zone, ISO-8601 with its offset."""
    return timezone.localtime(moment).isoformat()


def iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None
