"""Run a builder's per-record stage on N local processes, results in input order.

A builder's stage is a pure, picklable function from one input item to its output (rows or a reject).
``run_ordered`` maps it over the items with a process pool and yields outputs in the order of the items,
so the shards written from them are byte-identical whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


def run_ordered(stage: Callable[[In], Out], items: Iterable[In], workers: int | None = None,
                chunksize: int = 8) -> Iterator[Out]:
    """``map(stage, items)`` on ``workers`` processes (1 = in this process), in input order, streaming."""
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        yield from map(stage, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with context.Pool(workers) as pool:
        yield from pool.imap(stage, items, chunksize=chunksize)
