from django.apps import AppConfig


class DriversConfig(AppConfig):
    name = "drivers"
    verbose_name = "Drivers"

    def ready(self) -> None:
        from drivers.promises import install
        from drivers.subscribers import register

        register()
        install()
