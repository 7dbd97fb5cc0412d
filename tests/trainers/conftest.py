"""Trainer test fixtures, defined here so every trainer module shares one of each (helpers are in support.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_llama_long(tmp_path_factory) -> Path:
    """The tiny Llama with 8,192 positions (RoPE has no learned positions), so Review-5K sample rows fit."""
    pytest.importorskip("trl", reason="the trainers need trl (pip install 'cyclebench[train]')")
    from tests.tiny_models import make_tiny_llama

    path = make_tiny_llama(tmp_path_factory.mktemp("tiny-llama-long"))
    config = json.loads((path / "config.json").read_text())
    config["max_position_embeddings"] = 8192
    (path / "config.json").write_text(json.dumps(config))
    return path
