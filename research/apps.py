from django.apps import AppConfig


class ResearchConfig(AppConfig):
    """No models: the app exists to own the research management commands (`mdrp_run`, `mdrp_eval`)."""

    name = "research"
    verbose_name = "Research"
