"""Shared test setup: offline Hub, the real corpus beside the repository."""

from __future__ import annotations

import os

# Before anything imports huggingface_hub/datasets: a Hub lookup would retry for ~50 s offline.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI draws the same examples every run (a property failure there must reproduce, not come and go);
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS}")
    return CORPUS.resolve()
