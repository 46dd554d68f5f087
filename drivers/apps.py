from django.apps import AppConfig


class DriversConfig(AppConfig):
    name = "drivers"
    verbose_name = "Drivers"

    def ready(self) -> None:
        from drivers.subscribers import register

        register()
