"""Inference backends: the only place that touches models."""

from cyclebench.backends.base import (
    BACKENDS,
    Backend,
    GenerationRequest,
    GenerationResponse,
    build_backend,
    parse_model_args,
)

__all__ = ["BACKENDS", "Backend", "GenerationRequest", "GenerationResponse", "build_backend", "parse_model_args"]
