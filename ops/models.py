"""Measured capacity (from the benchmarks) and the headroom alerts raised against it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LoadFigure(models.TextChoices):
    """The live loads compared with a measured limit."""

    ORDERS_PER_MINUTE = "orders_per_minute", _("Orders placed per minute")
    LOCATION_FIXES_PER_SECOND = "location_fixes_per_second", _("Driver location fixes per second")
    OPEN_SOCKETS = "open_sockets", _("Open WebSocket connections")
    QUEUE_DEPTH = "queue_depth", _("Celery tasks waiting (all queues)")


class Capacity(models.Model):
    """The measured limit of one load figure on the current deployment (one row per figure).

    Written only by `manage.py record_capacity` from the benchmark results (or an explicit override).
    """

    figure = models.CharField(
        max_length=32, choices=LoadFigure.choices, unique=True, verbose_name=_("figure")
    )
    limit = models.FloatField(
        help_text=_("The most the system carried in the benchmark, in the figure's unit."),
        verbose_name=_("limit"),
    )
    source = models.CharField(
        max_length=200, help_text=_("The results file (or 'manual')."), verbose_name=_("source")
    )
    basis = models.TextField(blank=True, help_text=_("How the limit was measured."), verbose_name=_("basis"))
    measured_at = models.DateTimeField(
        help_text=_("When the benchmark ran (the results file's time)."), verbose_name=_("measured at")
    )
    recorded_at = models.DateTimeField(auto_now=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("capacity")
        ordering = ["figure"]
        verbose_name_plural = _("capacities")
        constraints = [models.CheckConstraint(condition=Q(limit__gt=0), name="capacity_limit_positive")]

    def __str__(self) -> str:
        return f"{self.figure} <= {self.limit:g}"


class HeadroomAlert(models.Model):
    """Load passed 40% of a measured limit. Open until a check sees it back under the threshold."""

    figure = models.CharField(max_length=32, choices=LoadFigure.choices, verbose_name=_("figure"))
    load = models.FloatField(help_text=_("The load when the alert opened."), verbose_name=_("load"))
    peak_load = models.FloatField(
        help_text=_("The highest load seen while open."), verbose_name=_("peak load")
    )
    limit = models.FloatField(verbose_name=_("limit"))
    opened_at = models.DateTimeField(auto_now_add=True, verbose_name=_("opened at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    notified_via = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("notify (ops inbox) or outbox."),
        verbose_name=_("notified via"),
    )

    class Meta:
        verbose_name = _("headroom alert")
        verbose_name_plural = _("headroom alerts")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["figure"], condition=Q(closed_at__isnull=True), name="one_open_headroom_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.figure}: {self.load:g} of {self.limit:g}"

    @property
    def headroom(self) -> float:
        return self.limit / self.load if self.load > 0 else float("inf")
