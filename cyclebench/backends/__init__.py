"""Inference backends: the only place that touches models."""

from cyclebench.backends.base import (
    BACKENDS,
    Backend,
    GenerationRequest,
    GenerationResponse,
    build_backend,
    parse_model_args,
)
from cyclebench.backends.opened import (
    OpenBackend,
    TrainingData,
    needs_training,
    open_backend,
)

__all__ = ["BACKENDS", "Backend", "GenerationRequest", "GenerationResponse", "OpenBackend", "TrainingData",
           "build_backend", "needs_training", "open_backend", "parse_model_args"]
