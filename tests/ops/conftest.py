from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.drivers.conftest import pooled_order  # noqa: F401 (shared fixture)
from tests.factories import UserFactory
from tests.orders.conftest import menu, place, placed_order  # noqa: F401 (shared fixtures)
from users.models import Role

METRICS_TOKEN = "scrape-me-3f9a"


@pytest.fixture(autouse=True)
def _metrics_settings(settings: Any) -> None:
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_PUBLISH_SECONDS = 0


class Scrape:
    """One /metrics answer, parsed: `scrape.value("loship_orders", state="placed")`."""

    def __init__(self, text: str) -> None:
        self.samples = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        matches = self._matches(name, labels)
        assert matches, f"{name} {labels} not in the scrape"
        return sum(matches)

    def value_or_zero(self, name: str, **labels: str) -> float:
        return sum(self._matches(name, labels))

    def _matches(self, name: str, labels: dict[str, str]) -> list[float]:
        return [
            value
            for sample_name, sample_labels, value in self.samples
            if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items())
        ]


def scrape(client: Client | None = None) -> Scrape:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content
    return Scrape(response.content.decode())


@pytest.fixture
def ops_user(db: None) -> Any:
    return UserFactory(roles=[Role.OPS], is_staff=True)
