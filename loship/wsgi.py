"""WSGI entry point, served by the Procfile's `web` line: the REST API and the probes through the
short `API_MIDDLEWARE` stack, the admin and everything else through `MIDDLEWARE` (loship/serving.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
site = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after setup)

from loship.serving import PathDispatch, StackHandler  # noqa: E402

application = PathDispatch(api=StackHandler(settings.API_MIDDLEWARE), site=site)
