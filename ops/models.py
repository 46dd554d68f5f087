"""Measured capacity (from the benchmarks) and the headroom alerts raised against it."""

from django.db import models
from django.db.models import Q


class LoadFigure(models.TextChoices):
    """The live loads compared with a measured limit."""

    ORDERS_PER_MINUTE = "orders_per_minute", "Orders placed per minute"
    LOCATION_FIXES_PER_SECOND = "location_fixes_per_second", "Driver location fixes per second"
    OPEN_SOCKETS = "open_sockets", "Open WebSocket connections"
    QUEUE_DEPTH = "queue_depth", "Celery tasks waiting (all queues)"


class Capacity(models.Model):
    """The measured limit of one load figure on the current deployment (one row per figure).

    Written only by `manage.py record_capacity` from the benchmark results (or an explicit override).
    """

    figure = models.CharField(max_length=32, choices=LoadFigure.choices, unique=True)
    limit = models.FloatField(help_text="The most the system carried in the benchmark, in the figure's unit.")
    source = models.CharField(max_length=200, help_text="The results file (or 'manual').")
    basis = models.TextField(blank=True, help_text="How the limit was measured.")
    measured_at = models.DateTimeField(help_text="When the benchmark ran (the results file's time).")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["figure"]
        verbose_name_plural = "capacities"
        constraints = [models.CheckConstraint(condition=Q(limit__gt=0), name="capacity_limit_positive")]

    def __str__(self) -> str:
        return f"{self.figure} <= {self.limit:g}"


class HeadroomAlert(models.Model):
    """Load passed 40% of a measured limit. Open until a check sees it back under the threshold."""

    figure = models.CharField(max_length=32, choices=LoadFigure.choices)
    load = models.FloatField(help_text="The load when the alert opened.")
    peak_load = models.FloatField(help_text="The highest load seen while open.")
    limit = models.FloatField()
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    notified_via = models.CharField(max_length=16, blank=True, help_text="notify (ops inbox) or outbox.")

    class Meta:
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
