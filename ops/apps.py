from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loship.events.subscribers import subscribe
        from loship.observability import connect_celery_signals
        from ops.heartbeat import connect_heartbeats
        from ops.subscribers import observe_dispatch_latency, push_ops_event

        connect_celery_signals()
        connect_heartbeats()
        subscribe("ops.", "ops-city-feed", push_ops_event)
        subscribe("order.driver_assigned", "ops-dispatch-latency", observe_dispatch_latency)
