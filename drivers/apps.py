from django.apps import AppConfig


class DriversConfig(AppConfig):
    name = "drivers"
    verbose_name = "Drivers"
