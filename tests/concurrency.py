"""Racing real requests: threads released together, each on its own PostgreSQL connection."""

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.db import connection


def race(calls: Sequence[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run the calls in threads released by one barrier; each result is the call's return value or the
    exception it raised, in the order of `calls`. Each thread closes its own database connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as error:  # surfaced to the test through the results
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def run_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """`race` over `work(0)` .. `work(count - 1)`."""
    return race([partial(work, index) for index in range(count)])
