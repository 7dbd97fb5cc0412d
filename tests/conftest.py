"""Shared test setup: offline Hub, the real corpus beside the repository, and the dataset builds several
test modules read, each built once per session.

The builds are shared read-only: a test that writes into a build (a forged card, a removed shard) copies it
first (``shutil.copytree``) or builds its own. Each build is listed when made and again when the session ends;
a difference is an error naming the build."""

from __future__ import annotations

import os

# Before anything imports huggingface_hub/datasets: a Hub lookup would retry for ~50 s offline.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI draws the same examples every run (a property failure there must reproduce, not come and go);
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from tests.tiny_models import tiny_llama, tiny_qwen2  # noqa: E402, F401  (session fixtures, one per session)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Debian's chromium driven by the PyPI playwright package, never a downloaded browser; the flags keep it offline.
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS}")
    return CORPUS.resolve()


# ---------------------------------------------------------------------------------------------
# Builds shared by the session (each takes seconds; a module-scoped copy in every module took them again)


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (the folder too) with its size and modification time: what a write changes."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in [folder, *folder.rglob("*")]}


def _read_only(folder: Path) -> Iterator[Path]:
    """Yield a shared build, then check that no test wrote into it."""
    before = _listing(folder)
    yield folder
    after = _listing(folder)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a test wrote into the shared build {folder}: {changed[:10]}; copy it first (shutil.copytree)"


@pytest.fixture(scope="session")
def review5k_sample_build(tmp_path_factory) -> Iterator[Path]:
    """``cyclebench build review-5k --sample``: the embedded sample with the default config."""
    from cyclebench.cli import main

    out = tmp_path_factory.mktemp("review5k-sample") / "review5k"
    assert main(["build", "review-5k", "--sample", "--out", str(out)]) == 0
    yield from _read_only(out)


def _seed_task_build(corpus: Path, tmp_path_factory, task: str) -> Path:
    from cyclebench.leaderboard.seed import SEED_TASKS

    spec = next(spec for spec in SEED_TASKS if spec.task == task)
    out = tmp_path_factory.mktemp("corpus-build") / task
    spec.build(corpus, out)
    return out


@pytest.fixture(scope="session")
def review5k_build(corpus, tmp_path_factory) -> Iterator[Path]:
    """Review-5K from the corpus's ``iclr2026_v2.jsonl`` without paper texts (``require_text=False``, the
    default seed): the build the seeded leaderboard submissions were scored on."""
    yield from _read_only(_seed_task_build(corpus, tmp_path_factory, "review-5k"))


@pytest.fixture(scope="session")
def aiscientist_build(corpus, tmp_path_factory) -> Iterator[Path]:
    """aiscientist-iclr2022 from the corpus's ratings table and markdown papers, default config: the build the
    seeded and the imported AI Scientist submissions were scored on."""
    yield from _read_only(_seed_task_build(corpus, tmp_path_factory, "aiscientist-iclr2022"))


@pytest.fixture(scope="session")
def seed_builds(review5k_build, aiscientist_build) -> dict[str, Path]:
    """``{task: build}`` of every seeded task, as ``leaderboard.seed.build_corpus_datasets`` returns it."""
    return {"aiscientist-iclr2022": aiscientist_build, "review-5k": review5k_build}


@pytest.fixture(scope="session")
def sync_api():
    """The Playwright sync API, or a skip without chromium (requested before site fixtures, so nothing is built
    first). playwright is in the dev extra: a missing package is a broken install, not a skip."""
    from playwright import sync_api as api

    if not CHROMIUM.is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium); this test never downloads a browser")
    return api


@pytest.fixture()
def browser(sync_api):
    """One launched chromium, closed after the test."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()
