"""Error tracking is off unless SENTRY_DSN is set; with one, Sentry starts with the Django and Celery
integrations and without personal data. Each case is a fresh interpreter (settings load once)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(json.dumps({
    "active": client.is_active(),
    "dsn": client.dsn,
    "pii": client.options.get("send_default_pii"),
    "integrations": sorted(client.integrations),
}))
"""


def probe(**env: str) -> dict[str, object]:
    child = {**os.environ, "DJANGO_SETTINGS_MODULE": "loship.settings", "SECRET_KEY": "x" * 50, **env}
    child.pop("SENTRY_DSN", None)
    child.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=child, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_without_a_dsn_sentry_is_not_initialised() -> None:
    assert probe()["active"] is False


def test_with_a_dsn_sentry_starts_with_django_and_celery_and_no_personal_data() -> None:
    # A local address nobody listens on: nothing is sent during this test.
    dsn = "http://public@127.0.0.1:9/1"

    answer = probe(SENTRY_DSN=dsn)

    assert answer["active"] is True
    assert answer["dsn"] == dsn
    assert answer["pii"] is False
    assert {"django", "celery"} <= set(answer["integrations"])  # type: ignore[arg-type]
