"""Review-evaluation tasks: which dataset, which split, what the ground truth is.

A task reads a dataset built by ``builders/`` (a Hub-layout folder, or a Hub repo id plus revision) or, for
DeepReview-13K, the original WestlakeNLP files, and yields ``ReviewExample`` records. Tasks are plain
Python in a small registry; nothing here knows about models or protocols.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclebench.records import ReviewExample


@dataclass(frozen=True)
class LoadedSplit:
    """The examples of one split plus where they came from (for the results' provenance)."""

    task: str
    split: str
    examples: list[ReviewExample]
    fingerprint: str
    source: dict[str, Any]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewTask:
    name: str
    description: str
    splits: tuple[str, ...]
    eval_split: str
    # Split a trained baseline learns from; None when the task has none (then baselines cannot run on it).
    train_split: str | None
    # Split the baselines are scored on when the eval split overlaps their training data.
    baseline_eval_split: str | None
    loader: Callable[..., LoadedSplit]
    # Options a user may pass (``--task-args k=v``), with their defaults.
    options: dict[str, Any] = field(default_factory=dict)
    # Further split names the task accepts (DeepReview-13K rebuilds name a test split per year built).
    split_pattern: str | None = None

    def load(self, data: str, split: str | None = None, revision: str | None = None, limit: int | None = None,
             **options: Any) -> LoadedSplit:
        split = split or self.eval_split
        if split not in self.splits and not (self.split_pattern and re.fullmatch(self.split_pattern, split)):
            raise ValueError(f"task {self.name} has splits {self.splits}, not {split!r}")
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(f"task {self.name} takes options {sorted(self.options)}, not {unknown}")
        for key, value in options.items():
            check_option_type(self.name, key, self.options[key], value)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            # A negative limit would slice papers off the end, and 0 would evaluate nothing.
            raise ValueError(f"limit must be a positive integer (first N papers), not {limit!r}")
        loaded = self.loader(data, split, revision, **{**self.options, **options})
        if limit is not None:
            loaded = LoadedSplit(loaded.task, loaded.split, loaded.examples[:limit], loaded.fingerprint,
                                 {**loaded.source, "limit": limit}, loaded.skipped)
        return loaded


def check_option_type(task: str, key: str, default: Any, value: Any) -> None:
    """A task option has its default's type: ``abstract_fallback=maybe`` is refused, not read as true."""
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ValueError(f"task {task} option {key} must be true or false, not {value!r}")


# ---------------------------------------------------------------------------------------------
# Hub-layout datasets


def _is_local(data: str) -> bool:
    return Path(data).exists()


def dataset_fingerprint(data: str, revision: str | None) -> tuple[str, dict[str, Any]]:
    """A local build is named by its manifest (sha256 of every shard); a Hub dataset by repo + revision."""
    if _is_local(data):
        manifest = Path(data) / "manifest.json"
        if manifest.is_file():
            content = json.loads(manifest.read_text())
            shards = json.dumps(content.get("shards", {}), sort_keys=True)
            digest = hashlib.sha256(shards.encode()).hexdigest()
            return f"sha256:{digest}", {"path": str(Path(data)), "builder": content.get("dataset"),
                                        "builder_version": content.get("builder_version")}
        files = sorted(p for p in Path(data).rglob("*.parquet"))
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.read_bytes())
        return f"sha256:{digest.hexdigest()}", {"path": str(Path(data))}
    if not revision:
        raise ValueError(f"{data!r} is not a local folder: give --revision (a tag such as v1.0.0) for a Hub dataset")
    return f"hub:{data}@{revision}", {"repo": data, "revision": revision}


def read_rows(data: str, config: str, splits: Iterable[str], revision: str | None) -> list[dict[str, Any]]:
    """Rows of a config's splits: a local build is read straight from its parquet shards (the card's
    ``configs`` say which), a Hub dataset through ``datasets.load_dataset`` at the given revision."""
    rows: list[dict[str, Any]] = []
    if _is_local(data):
        import pyarrow.parquet as pq

        patterns = local_data_files(Path(data), config)
        for split in splits:
            if split not in patterns:
                raise ValueError(f"{data}: config {config!r} has no split {split!r} (has {sorted(patterns)})")
            files = sorted(Path(data).glob(patterns[split]))
            if not files:
                raise FileNotFoundError(f"{data}: no files match {patterns[split]}")
            for path in files:
                rows.extend(pq.read_table(path).to_pylist())
        return rows
    from datasets import load_dataset

    for split in splits:
        rows.extend(load_dataset(data, config, split=split, revision=revision).to_list())
    return rows


def local_data_files(folder: Path, config: str) -> dict[str, str]:
    """``{split: glob}`` of one config, from the YAML ``configs`` of a Hub-layout folder's card."""
    import yaml

    card = folder / "README.md"
    if not card.is_file():
        raise FileNotFoundError(f"{folder} has no README.md: not a dataset folder in the Hub layout")
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---"):
        raise ValueError(f"{card} has no YAML front matter")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser reads a large card 10x faster
    front = yaml.load(text.split("---", 2)[1], Loader=loader) or {}
    for entry in front.get("configs", []):
        if entry.get("config_name") == config:
            files = entry.get("data_files", [])
            return {f["split"]: f["path"] if isinstance(f["path"], str) else f["path"][0] for f in files}
    raise ValueError(f"{folder}: no config {config!r} in its card")


def _scores(reviews: list[dict[str, Any]], name: str) -> tuple[float, ...]:
    return tuple(float(r[name]) for r in reviews if r.get(name) is not None)


def review5k_examples(rows: Iterable[dict[str, Any]], abstract_fallback: bool = False) -> tuple[list[ReviewExample], dict[str, int]]:
    """Rows of the Review-5K ``default`` config to examples; papers without text or ratings are counted.

    With ``abstract_fallback`` a paper built without a text is shown to the model as its title and
    abstract (counted as ``abstract_only``), which a build with ``--allow-missing-text`` needs.
    """
    examples, skipped = [], {}
    for row in rows:
        reviews = row.get("reviews") or []
        ratings = _scores(reviews, "rating")
        text = row.get("paper_text")
        if not text and abstract_fallback and row.get("abstract"):
            text = f"# {row.get('title') or ''}\n\n## Abstract\n\n{row['abstract']}"
            skipped["abstract_only"] = skipped.get("abstract_only", 0) + 1
        reason = None if text else "no_paper_text"
        reason = reason or (None if ratings else "no_ratings")
        if reason:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        decision = row.get("decision")
        examples.append(
            ReviewExample(
                paper_id=row["id"],
                title=row.get("title") or "",
                paper_text=text,
                ratings=ratings,
                accepted=True if decision == "accept" else False if decision == "reject" else None,
                soundness=_scores(reviews, "soundness"),
                presentation=_scores(reviews, "presentation"),
                contribution=_scores(reviews, "contribution"),
                confidence=_scores(reviews, "confidence"),
                year=row.get("year"),
                rating_scale=row.get("rating_scale"),
            )
        )
    return examples, skipped


def _load_review5k(data: str, split: str, revision: str | None, abstract_fallback: bool = False) -> LoadedSplit:
    fingerprint, source = dataset_fingerprint(data, revision)
    examples, skipped = review5k_examples(read_rows(data, "default", [split], revision), abstract_fallback)
    source = {**source, "abstract_fallback": abstract_fallback}
    return LoadedSplit("review-5k", split, examples, fingerprint, source, skipped)


def _load_aiscientist(data: str, split: str, revision: str | None) -> LoadedSplit:
    fingerprint, source = dataset_fingerprint(data, revision)
    splits = ["train", "test"] if split == "all" else [split]
    examples, skipped = [], {}
    for row in read_rows(data, "default", splits, revision):
        if not row.get("paper_text") or not row.get("ratings"):
            skipped["no_text_or_ratings"] = skipped.get("no_text_or_ratings", 0) + 1
            continue
        examples.append(
            ReviewExample(
                paper_id=row["paper_id"], title=row.get("title") or "", paper_text=row["paper_text"],
                ratings=tuple(row["ratings"]), accepted=row.get("accepted"), year=row.get("year"),
                rating_scale=row.get("rating_scale"),
            )
        )
    examples.sort(key=lambda e: e.paper_id)
    return LoadedSplit("aiscientist-iclr2022", split, examples, fingerprint, source, skipped)


def _load_deepreview(data: str, split: str, revision: str | None) -> LoadedSplit:
    from cyclebench.sources.westlake import read_deepreview_split

    examples, skipped, source = read_deepreview_split(data, split, revision)
    fingerprint = source.pop("fingerprint")
    return LoadedSplit("deepreview-13k", split, examples, fingerprint, source, skipped)


TASKS: dict[str, ReviewTask] = {
    task.name: task
    for task in (
        ReviewTask(
            "review-5k", "Review-5K (ICLR, rebuilt by cyclebench): rating, aspects and decision per paper",
            splits=("train", "test"), eval_split="test", train_split="train", baseline_eval_split="test",
            loader=_load_review5k, options={"abstract_fallback": False},
        ),
        ReviewTask(
            "deepreview-13k", "DeepReview-13K test papers, ICLR 2024 and 2025 kept apart",
            splits=("train", "test_2024", "test_2025"), eval_split="test_2024", train_split="train",
            baseline_eval_split="test_2024", loader=_load_deepreview, split_pattern=r"test_\d{4}",
        ),
        ReviewTask(
            "aiscientist-iclr2022", "AI Scientist reviewer benchmark (ICLR 2022 papers, human ratings + decision)",
            splits=("all", "train", "test"), eval_split="all", train_split="train", baseline_eval_split="test",
            loader=_load_aiscientist,
        ),
    )
}


def get_task(name: str) -> ReviewTask:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}")
    return TASKS[name]
