from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DriversConfig(AppConfig):
    name = "drivers"
    verbose_name = _("Drivers")

    def ready(self) -> None:
        from drivers.models import TOPUP_REF_PREFIX
        from drivers.promises import install
        from drivers.services.cash import handle_topup_webhook
        from drivers.subscribers import register
        from orders.gateways.routes import route_webhooks

        register()
        install()
        route_webhooks(TOPUP_REF_PREFIX, handle_topup_webhook)
