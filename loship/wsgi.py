"""WSGI entry point, served by the Procfile's `web` line: the REST API and the probes through the
short `API_MIDDLEWARE` stack, the admin and everything else through `MIDDLEWARE` (loship/serving.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
django.setup(set_prefix=False)

from loship.serving import freeze_startup_heap, web_application  # noqa: E402  (after setup)

application = web_application()
freeze_startup_heap()
