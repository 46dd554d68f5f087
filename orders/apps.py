from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from orders.gateways.routes import route_webhooks
        from orders.models import TIP_REF_PREFIX
        from orders.services.tips import handle_tip_webhook

        route_webhooks(TIP_REF_PREFIX, handle_tip_webhook)
