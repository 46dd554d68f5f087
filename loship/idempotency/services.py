"""Running a request once per `Idempotency-Key`: claim the key in the request's transaction, or find the
earlier use of it and answer that use's result.

The claim is `INSERT ... ON CONFLICT (user_id, key) DO NOTHING`: the first use inserts the key's row and
does its work in the same transaction; a concurrent use of the same key waits on that row until the
first commits (then finds it) or rolls back (then claims it itself). Placement, the hottest write,
runs the same claim inside its one read statement (`CLAIM_SQL` as a CTE) and stores its order with
`RECORD_RESULT_SQL` in its write batch; everything else goes through `run_once`.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from loship.errors import CommonErrors
from loship.idempotency.models import IdempotencyKey

MAX_KEY_LENGTH = 100

# The table name is the model's fixed db_table; only %(...)s parameters carry request data.
CLAIM_SQL = """
  INSERT INTO idempotency_idempotencykey (user_id, key, request_hash, created_at)
  VALUES (%(user_id)s, %(key)s, %(request_hash)s, %(now)s)
  ON CONFLICT (user_id, key) DO NOTHING RETURNING id"""
RECORD_RESULT_SQL = "UPDATE idempotency_idempotencykey SET result_id = %s WHERE id = %s"


@dataclass(frozen=True, slots=True)
class Outcome:
    #: What the request made or acted on (its first use's, for a repeat).
    result_id: int | None
    #: True when an earlier use of the key had already done the work.
    replayed: bool


def request_hash(body: Any) -> str:
    """A stable fingerprint of a request body (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier_use(*, user_id: int, key: str, request_hash: str) -> IdempotencyKey:
    """The row of a key already used, locked for the caller's transaction; another request under the
    same key is a 422 `idempotency_key_reused`."""
    used = IdempotencyKey.objects.select_for_update().get(user_id=user_id, key=key)
    if used.request_hash != request_hash:
        raise CommonErrors.IDEMPOTENCY_KEY_REUSED()
    return used


def run_once(
    *, user_id: int, key: str, request_hash: str, act: Callable[[], int | None], now: datetime | None = None
) -> Outcome:
    """Run `act` (which returns the id of what it made or acted on) once per (user, key) and request:
    its first use runs it and keeps the id in the same transaction; the same request again gets that
    id back without running it. If `act` refuses, nothing is kept and a retry runs it again."""
    params: dict[str, Any] = {
        "user_id": user_id,
        "key": key,
        "request_hash": request_hash,
        "now": now or timezone.now(),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, params)
            claimed = cursor.fetchone()
        if claimed is None:
            used = earlier_use(user_id=user_id, key=key, request_hash=request_hash)
            return Outcome(result_id=used.result_id, replayed=True)
        result_id = act()
        with connection.cursor() as cursor:
            cursor.execute(RECORD_RESULT_SQL, (result_id, claimed[0]))
        return Outcome(result_id=result_id, replayed=False)
