"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels routes of every app."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from loship.routing import websocket_urlpatterns  # noqa: E402
from realtime.auth import JWTAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The session (admin browser on the ops feed) first, then a JWT overrides it when present;
        # consumers check the origin and close refusals with 4401/4403.
        "websocket": AuthMiddlewareStack(JWTAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
