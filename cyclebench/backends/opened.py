"""A backend ready for requests: built from its registry name, trained when it is a baseline, behind the cache.

Every run kind (review evaluation, paper judging, generator evaluation, the trainers' judges and samplers)
opens its backends here, so "build it / fit it if it learns from data / wrap it in the response cache / close
it only if we built it" is written once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.backends.base import BACKENDS, Backend, build_backend
from cyclebench.backends.cache import CachedBackend


@dataclass(frozen=True)
class TrainingData:
    """What a baseline backend learns from, and what the run records about it (``info``; the backend's
    training report is added under ``report``)."""

    examples: Sequence[Any]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class OpenBackend:
    """``model`` (the backend itself: its fingerprint names the cache) and ``cached`` (what to send requests
    to: the cache, or the model itself when no cache folder was given); ``training`` is the recorded training
    info of a baseline, None otherwise."""

    model: Backend
    cached: Backend
    owned: bool
    training: dict[str, Any] | None = None
    examples: Sequence[Any] = ()

    @property
    def fingerprint(self) -> str:
        return self.model.fingerprint

    @property
    def is_baseline(self) -> bool:
        return bool(getattr(self.model, "needs_training", False))

    def close(self) -> None:
        """Close the backend if it was built here (one passed in stays its owner's to close)."""
        if self.owned:
            self.model.close()


def needs_training(name: str, backend: Any = None) -> bool:
    """Whether the backend (the given one, else the class registered as ``name``) learns from data first;
    known without loading a model."""
    if backend is not None:
        return bool(getattr(backend, "needs_training", False))
    if name not in BACKENDS:
        return False  # build_backend names the unknown backend
    module_name, _, class_name = BACKENDS[name].partition(":")
    return bool(getattr(getattr(importlib.import_module(module_name), class_name), "needs_training", False))


def open_backend(name: str, model_args: str | dict[str, Any] | None, cache_dir: str | Path | None, *, backend: Any = None,
                 protocol: Any = None, training: Callable[[], TrainingData] | None = None,
                 before_cache: Callable[[str], None] | None = None) -> OpenBackend:
    """Build backend ``name`` (or take ``backend``), fit it on ``training()`` when it is a baseline (the
    examples rendered by ``protocol``), call ``before_cache(fingerprint)`` (a run folder's check), and wrap it
    in the response cache under ``cache_dir`` (None: no cache, as a build without a cache folder asks). A
    backend built here is closed again if any step fails."""
    model = backend if backend is not None else build_backend(name, model_args)
    try:
        info, examples = None, ()
        if cache_dir is not None and callable(getattr(model, "use_embedding_cache", None)):
            model.use_embedding_cache(Path(cache_dir) / "embeddings")  # an embedding baseline's vectors
        if training is not None and getattr(model, "needs_training", False):
            data = training()
            examples = data.examples
            model.prepare(examples, protocol)
            info = {**data.info, "report": getattr(model, "training_report", None)}
        if before_cache is not None:
            before_cache(model.fingerprint)
        cached = CachedBackend(model, Path(cache_dir)) if cache_dir is not None else model
    except BaseException:
        if backend is None:
            model.close()
        raise
    return OpenBackend(model, cached, backend is None, info, examples)
