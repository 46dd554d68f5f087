"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels routes of every app."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.signals import request_finished  # noqa: E402
from django.db import connections  # noqa: E402

from loship.routing import websocket_urlpatterns  # noqa: E402
from loship.serving import freeze_startup_heap  # noqa: E402
from users.sockets import SessionWhenCookie, StreamAuthMiddleware  # noqa: E402


def _close_request_connections(**_: object) -> None:
    """An HTTP request served here runs in a thread of its own (Django's ASGI handler), so a
    connection it kept would outlive the thread unused (Django ticket #33497): close it. The streams'
    database work runs in one long-lived thread, which keeps its connection (DB_CONN_MAX_AGE)."""
    connections.close_all()


request_finished.connect(_close_request_connections, sender=ASGIHandler)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The session cookie (the admin's browser on the ops feed) or a JWT, read without the database;
        # consumers resolve the user, check the origin and close refusals with 4401/4403.
        "websocket": SessionWhenCookie(StreamAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
freeze_startup_heap()
