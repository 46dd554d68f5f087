from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "loship.events"
    label = "events"
    verbose_name = "Events (outbox)"
