from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResearchConfig(AppConfig):
    """No models: the app exists to own the research management commands (`mdrp_run`, `mdrp_eval`)."""

    name = "research"
    verbose_name = _("Research")
