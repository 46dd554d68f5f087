"""The read replica is configured by `DATABASE_REPLICA_URL` alone: unset, there is no alias and no
router (every read stays on the primary); set, the alias mirrors the primary in tests and falls back
to it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connections

from loship.db_router import read_alias, replica_reads

ROOT = Path(__file__).resolve().parents[2]

_SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'replica': settings.DATABASES.get('replica'), 'routers': settings.DATABASE_ROUTERS,"
    " 'middleware': [m for m in settings.API_MIDDLEWARE if 'pin_writers' in m]}, default=str))"
)


def _settings_with(**variables: str) -> dict[str, object]:
    env = {**os.environ, "DEBUG": "1", **variables}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", _SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


def test_without_a_replica_url_every_read_stays_on_the_primary() -> None:
    shown = _settings_with(DATABASE_REPLICA_URL="")

    assert shown["replica"] is None and shown["routers"] == []
    assert "replica" not in connections.settings
    with replica_reads():
        assert read_alias() == "default"


def test_a_replica_url_adds_an_alias_that_mirrors_the_primary_in_tests_and_falls_back_to_it() -> None:
    shown = _settings_with(DATABASE_REPLICA_URL="postgres://reader@standby.internal:5433/loship")

    replica = shown["replica"]
    assert isinstance(replica, dict)
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == ("standby.internal", 5433, "reader")
    assert replica["ENGINE"] == "loship.postgres" and replica["FALLBACK"] == "default"
    assert replica["TEST"]["MIRROR"] == "default"
    assert shown["routers"] == ["loship.db_router.ReplicaRouter"]
    assert shown["middleware"] == ["loship.db_router.pin_writers_middleware"]
