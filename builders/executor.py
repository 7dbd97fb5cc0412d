"""Run a builder's per-record stage on N local processes or on datatrove, results in input order.

A builder's stage is a pure, picklable function from one input item to its output (rows or a reject).
Every engine here maps it over the items and yields the outputs in the order of the items, so the
shards the builder writes from them (in one process, through ``HubFolderWriter``) are byte-identical
whatever the number of workers, tasks or machines.

Engines (``run_stage(..., engine=...)``):

``local``      ``run_ordered``: a process pool on this machine (1 worker = in this process). The stage
               is sent to each worker once (pool initializer), not with every chunk of items, so a
               stage holding a large lookup table (the cited-abstracts index) costs one copy per worker.
``datatrove``  ``run_datatrove``: the items are cut into ``tasks`` contiguous blocks; each datatrove task
               runs the stage on its block and writes its outputs to ``<work_dir>/<key>/outputs/<rank>.pkl``;
               the driver then reads the blocks back in rank order. datatrove's completion markers make
               a rerun with the same stage and items skip finished tasks (a killed build resumes), and
               the same pipeline runs on datatrove's ``LocalPipelineExecutor`` (CI, one machine),
               ``SlurmPipelineExecutor`` (a cluster; the driver waits for the array job) or
               ``RayPipelineExecutor`` (a Ray cluster).

Why datatrove and not Ray Data (see ``builders/SCALE_OUT.md``): a build is "many independent papers ->
one record each", which is exactly datatrove's task model (rank, world size, completion markers,
per-task logs and stats); it is a small pure-Python install (``pip install "cyclebench[scale]"``, no
cluster runtime) whose local executor runs in CI, and the one pipeline also runs on Slurm, where most
academic compute is, and on Ray. Ray Data would bring a ~100 MB runtime and a cluster even for a local
run, and an order-preserving, resumable map over files is extra work there.

datatrove is imported only when the ``datatrove`` engine is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

Engine = Literal["local", "datatrove"]
ENGINES: tuple[str, ...] = ("local", "datatrove")


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))


# ---------------------------------------------------------------------------------------------
# local: a process pool


_INSTALLED_STAGE: Callable[[Any], Any] | None = None


def _install_stage(stage: Callable[[Any], Any]) -> None:
    global _INSTALLED_STAGE
    _INSTALLED_STAGE = stage


def _call_installed(item: Any) -> Any:
    assert _INSTALLED_STAGE is not None, "stage not installed in this worker"
    return _INSTALLED_STAGE(item)


def run_ordered(stage: Callable[[In], Out], items: Iterable[In], workers: int | None = None,
                chunksize: int = 8) -> Iterator[Out]:
    """``map(stage, items)`` on ``workers`` processes (1 = in this process), in input order, streaming."""
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        yield from map(stage, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with context.Pool(workers, initializer=_install_stage, initargs=(stage,)) as pool:
        yield from pool.imap(_call_installed, items, chunksize=chunksize)


# ---------------------------------------------------------------------------------------------
# datatrove


@dataclass
class DatatroveOptions:
    """How ``run_datatrove`` runs: where, on what, with how many tasks.

    ``executor``: ``local`` (``LocalPipelineExecutor``; ``workers`` processes), ``slurm``
    (``SlurmPipelineExecutor``; ``executor_args`` must give at least ``time`` and ``partition``, and
    the work folder must be on storage the nodes share) or ``ray`` (``RayPipelineExecutor``; a running
    Ray cluster). ``work_dir``: inputs, outputs, logs and completion markers; reusing it resumes.
    """

    tasks: int = 2
    workers: int = 2
    executor: Literal["local", "slurm", "ray"] = "local"
    work_dir: Path | None = None
    executor_args: dict[str, Any] = field(default_factory=dict)
    poll_seconds: float = 30.0  # slurm: how often the driver checks for finished tasks
    wait_timeout_s: float | None = None  # slurm: give up (naming the missing tasks) after this long


class _BlockStage:
    """The one datatrove pipeline step: run the stage on this rank's block of items.

    A plain callable with datatrove's ``(data, rank, world_size)`` signature, picklable by reference,
    so defining it needs no datatrove import. Outputs go to ``outputs/<rank>.pkl`` (one pickle per
    item), written under a temporary name and renamed, so a half-written block is never read. A task
    killed mid-block leaves no output and no completion marker, so a rerun redoes that block only.
    """

    def __init__(self, work_dir: str):
        self.work_dir = work_dir

    def __repr__(self) -> str:  # datatrove logs the pipeline; keep the (large) stage out of it
        return f"cyclebench-stage({self.work_dir})"

    def __call__(self, data: Any, rank: int = 0, world_size: int = 1) -> None:
        with open(os.path.join(self.work_dir, "inputs", f"{rank:05d}.pkl"), "rb") as fh:
            stage, block = pickle.load(fh)
        final = os.path.join(self.work_dir, "outputs", f"{rank:05d}.pkl")
        tmp = final + ".tmp"
        with open(tmp, "wb") as fh:
            for item in block:
                pickle.dump(stage(item), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, final)


def _blocks(n: int, tasks: int) -> list[tuple[int, int]]:
    """``tasks`` contiguous [start, end) ranges covering ``n`` items, sizes differing by at most one."""
    base, extra = divmod(n, tasks)
    out, start = [], 0
    for r in range(tasks):
        end = start + base + (1 if r < extra else 0)
        out.append((start, end))
        start = end
    return out


def _make_executor(options: DatatroveOptions, pipeline: list[Any], logging_dir: str) -> Any:
    if options.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(pipeline=pipeline, tasks=options.tasks, workers=options.workers,
                                     logging_dir=logging_dir, skip_completed=True, **options.executor_args)
    if options.executor == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(pipeline=pipeline, tasks=options.tasks, logging_dir=logging_dir,
                                     skip_completed=True, **options.executor_args)
    if options.executor == "ray":
        from datatrove.executor import RayPipelineExecutor

        return RayPipelineExecutor(pipeline=pipeline, tasks=options.tasks, workers=options.workers,
                                   logging_dir=logging_dir, skip_completed=True, **options.executor_args)
    raise ValueError(f"unknown datatrove executor {options.executor!r}; use local, slurm or ray")


def run_datatrove(stage: Callable[[In], Out], items: Iterable[In], options: DatatroveOptions | None = None) -> Iterator[Out]:
    """``map(stage, items)`` as datatrove tasks, outputs in input order (see the module docstring).

    Inside ``options.work_dir`` the run lives in a folder keyed by the sha256 of the pickled stage and
    items, so a rerun of the same build finds its finished tasks (resume) and a different build never
    reads another's outputs; that folder is kept. Without a ``work_dir`` a temporary folder is used and
    removed afterwards.
    """
    try:
        import datatrove  # noqa: F401
    except ImportError as exc:
        raise ImportError('the datatrove engine needs datatrove: pip install datatrove (or, in a cyclebench clone, pip install -e ".[scale]")') from exc
    options = options or DatatroveOptions()
    if options.tasks < 1 or options.workers < 1:
        raise ValueError("tasks and workers must be >= 1")
    items = list(items)
    tasks = max(1, min(options.tasks, len(items)))
    payload = pickle.dumps((stage, items), protocol=pickle.HIGHEST_PROTOCOL)
    key = hashlib.sha256(payload).hexdigest()[:16] + f"-t{tasks}"
    del payload
    temporary = options.work_dir is None
    root = Path(tempfile.mkdtemp(prefix="cyclebench-datatrove-")) if temporary else Path(options.work_dir)
    work = (root / key).resolve()
    try:
        (work / "inputs").mkdir(parents=True, exist_ok=True)
        (work / "outputs").mkdir(parents=True, exist_ok=True)
        ranges = _blocks(len(items), tasks)
        for rank, (start, end) in enumerate(ranges):
            target = work / "inputs" / f"{rank:05d}.pkl"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                tmp.write_bytes(pickle.dumps((stage, items[start:end]), protocol=pickle.HIGHEST_PROTOCOL))
                os.replace(tmp, target)
        run_options = dataclasses.replace(options, tasks=tasks, workers=min(options.workers, tasks))
        executor = _make_executor(run_options, [_BlockStage(str(work))], str(work / "logs"))
        executor.run()
        _wait_for_outputs(work, tasks, options)
        for rank in range(tasks):
            with open(work / "outputs" / f"{rank:05d}.pkl", "rb") as fh:
                for _ in range(ranges[rank][1] - ranges[rank][0]):
                    yield pickle.load(fh)
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)


def _wait_for_outputs(work: Path, tasks: int, options: DatatroveOptions) -> None:
    """Local and Ray executors return when done; Slurm returns once the array is submitted, so poll."""
    missing = [r for r in range(tasks) if not (work / "outputs" / f"{r:05d}.pkl").exists()]
    if not missing:
        return
    if options.executor != "slurm":
        raise RuntimeError(f"datatrove tasks {missing[:10]} produced no output; see {work / 'logs'}")
    started = time.monotonic()
    while missing:
        if options.wait_timeout_s is not None and time.monotonic() - started > options.wait_timeout_s:
            raise TimeoutError(f"datatrove tasks {missing[:10]} not finished after {options.wait_timeout_s:.0f} s; "
                               f"see {work / 'logs'} (rerun with the same --work-dir to resume)")
        time.sleep(options.poll_seconds)
        missing = [r for r in missing if not (work / "outputs" / f"{r:05d}.pkl").exists()]


# ---------------------------------------------------------------------------------------------
# One entry point for builders


def run_stage(stage: Callable[[In], Out], items: Iterable[In], *, workers: int | None = None,
              engine: Engine = "local", datatrove: DatatroveOptions | None = None) -> Iterator[Out]:
    """The builders' single call: ``run_ordered`` for ``engine="local"``, ``run_datatrove`` otherwise."""
    if engine == "local":
        return run_ordered(stage, items, workers)
    if engine == "datatrove":
        options = datatrove or DatatroveOptions(tasks=workers or default_workers(), workers=workers or default_workers())
        return run_datatrove(stage, items, options)
    raise ValueError(f"unknown engine {engine!r}; choose from {ENGINES}")


__all__ = [
    "ENGINES",
    "DatatroveOptions",
    "default_workers",
    "run_datatrove",
    "run_ordered",
    "run_stage",
]
