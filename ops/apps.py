from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from loship.observability import connect_celery_signals


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = _("Operations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops.heartbeat import connect_heartbeats
        from ops.subscribers import register

        connect_celery_signals()
        connect_heartbeats()
        register()
