"""`manage.py seed_demo`: the demo city. Idempotent: running it twice changes nothing the second time.

Each app that has demo data offers `<app>/demo.py` with `seed(log)`; they run in INSTALLED_APPS
order, which is the dependency order (users before merchants before orders before drivers).
"""

import importlib
import importlib.util
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or refresh) the demo city: users of every role, merchants, menus, drivers."

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            module = importlib.import_module(module_name)
            with transaction.atomic():
                module.seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
