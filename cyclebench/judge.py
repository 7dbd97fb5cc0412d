"""The judge: a review protocol plus a backend (behind the response cache, trained first when it is a baseline).

One judge serves every run that reads reviews from a model: review evaluation (:mod:`cyclebench.evaluate_reviews`),
paper judging (:mod:`cyclebench.evaluate_papers`), generator evaluation (:mod:`cyclebench.evaluate_generator`)
and the trainers' reward and guard judges. Multi-turn protocols (AI Scientist reflection) say what to ask next
through ``protocol.follow_up``; :meth:`Judge.review` drives those rounds, here and nowhere else.

A baseline judge (``train="TASK=DATA"``, e.g. ``"aiscientist-iclr2022=ais2022/"``) is fitted on that task's
training split; :meth:`Judge.in_training` then says whether a paper was among what it learned from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from cyclebench.backends import (
    GenerationRequest,
    OpenBackend,
    TrainingData,
    needs_training,
    open_backend,
)
from cyclebench.backends.base import recorded_model_args
from cyclebench.literature import attach_literature
from cyclebench.records import ParsedReview


@dataclass(frozen=True)
class JudgeConfig:
    """Which judge: review protocol + backend, and for a CPU baseline the review task it learns from.

    ``train`` is ``"TASK=DATA"`` (e.g. ``"aiscientist-iclr2022=ais2022/"``): the baseline is fitted on that
    task's training split before judging; required for backends that need training, refused otherwise."""

    protocol: str
    backend: str
    model_args: dict[str, Any] = field(default_factory=dict)
    protocol_options: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)
    train: str | None = None
    train_revision: str | None = None

    def label(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in recorded_model_args(self.model_args).items())
        return f"{self.protocol} via {self.backend}" + (f" ({args})" if args else "")


def parse_train_spec(spec: str) -> tuple[str, str]:
    task, sep, data = spec.partition("=")
    if not sep or not task.strip() or not data.strip():
        raise ValueError(f"judge training data must be TASK=DATA (e.g. aiscientist-iclr2022=ais2022/), not {spec!r}")
    return task.strip(), data.strip()


def judge_inputs(judge: JudgeConfig | None) -> list[Any]:
    """What a judge reads that may be a local path: model and protocol arguments, its training build."""
    if judge is None:
        return []
    return [*judge.model_args.values(), *judge.protocol_options.values(), (judge.train or "").partition("=")[2]]


@dataclass(frozen=True)
class JudgeItem:
    """One paper to judge: ``item_id`` names it in cache keys and predictions."""

    item_id: str
    text: str
    title: str | None = None


@dataclass(frozen=True)
class Judgement:
    item_id: str
    request_hash: str
    output: str | None
    error: str | None
    finish_reason: str | None
    review: ParsedReview
    rounds: int = 1
    # What the protocol noted deciding the follow-ups (``{"literature": {...}}``; ``follow_up_error`` when a
    # follow-up failed and the last answer that did not was kept); empty for one-turn protocols.
    notes: dict[str, Any] = field(default_factory=dict)


def judgement_row(j: Judgement) -> dict[str, Any]:
    """A judgement as a prediction row records it (``notes`` only when there are any)."""
    return {"request_hash": j.request_hash, "output": j.output, "error": j.error, "finish_reason": j.finish_reason,
            "rounds": j.rounds, "parsed": asdict(j.review), **({"notes": j.notes} if j.notes else {})}


def judge_failure(error: str | None) -> ParsedReview:
    """The review of a paper the judge's backend gave no answer for."""
    return ParsedReview(status="failed", problems=(f"judge_generation_error: {error or 'empty response'}",))


def text_sha256(text: str) -> str:
    """Hash of a paper text with whitespace collapsed: the key of the training-overlap check."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


class Judge:
    """A ready judge: protocol, backend behind a response cache, and (for baselines) what it learned from.

    Build with :func:`open_judge`; call :meth:`review` on items; :meth:`close` the backend it built."""

    def __init__(self, config: JudgeConfig, protocol: Any, opened: OpenBackend, literature: Any = None):
        self.config = config
        self.protocol = protocol
        self.opened = opened
        self.literature = literature  # the protocol's literature search (DeepReviewer Best mode), opened here
        self.backend = opened.model
        self.cached = opened.cached
        self.training = opened.training
        self._train_ids = frozenset(e.paper_id for e in opened.examples)
        self._train_texts = frozenset(text_sha256(e.paper_text) for e in opened.examples)

    @property
    def fingerprint(self) -> str:
        return self.backend.fingerprint

    def describe(self) -> dict[str, Any]:
        return {
            "protocol": self.config.protocol,
            "protocol_description": self.protocol.describe(),
            "protocol_arguments": self.config.protocol_options,
            "backend": self.config.backend,
            "model_args": recorded_model_args(self.config.model_args),
            "fingerprint": self.backend.fingerprint,
            "baseline": self.opened.is_baseline,
            "training": self.training,
            "label": self.config.label(),
        }

    def in_training(self, paper_id: str, text: str) -> str | None:
        """Why a paper is in the judge's training data ("id" / "text"), or None."""
        if paper_id in self._train_ids:
            return "id"
        if text_sha256(text) in self._train_texts:
            return "text"
        return None

    def review(self, items: Sequence[JudgeItem], *, batch_size: int = 16, seed: int = 0,
               progress: bool | None = None, label: str = "judging",
               failure: Callable[[str | None], ParsedReview] = judge_failure) -> list[Judgement]:
        """One judgement per item, in order. A backend error or empty answer comes back as the review
        ``failure(error)``, never as an exception.

        Rounds: while the protocol has a follow-up for an item's last answer, the follow-up is asked (cached
        like the first request); a follow-up that fails keeps the last answer that did not."""
        sampling = {**self.protocol.sampling, "seed": seed}
        requests = [GenerationRequest(it.item_id, tuple(self.protocol.build_messages(it.text, title=it.title)), sampling)
                    for it in items]
        responses = generate_in_batches(self.cached, requests, batch_size, label, progress)
        rounds = [1] * len(items)
        notes: list[dict[str, Any]] = [{} for _ in items]
        round_no = 2
        while True:
            follow = []
            for i, response in enumerate(responses):
                if response.text is not None:
                    turn = self.protocol.next_turn(list(requests[i].messages), response.text, round_no)
                    notes[i].update(turn.notes)
                    if turn.messages is not None:
                        follow.append((i, GenerationRequest(requests[i].request_id, tuple(turn.messages), sampling)))
            if not follow:
                break
            answers = generate_in_batches(self.cached, [r for _, r in follow], batch_size, f"{label} round {round_no}",
                                          progress)
            for (i, request), answer in zip(follow, answers):
                if answer.error is None and answer.text is not None:
                    requests[i], responses[i], rounds[i] = request, answer, round_no
                elif self.literature is not None:  # noted where a follow-up decides the review's source
                    notes[i]["follow_up_error"] = f"round {round_no}: {answer.error or 'empty response'}"
            round_no += 1
        out = []
        for item, request, response, n_rounds, note in zip(items, requests, responses, rounds, notes):
            if response.error is not None or response.text is None:
                review = failure(response.error)
            else:
                review = self.protocol.parse(response.text)
            out.append(Judgement(item.item_id, request.cache_key(self.backend.fingerprint), response.text, response.error,
                                 response.finish_reason, review, n_rounds, note))
        return out

    def close(self) -> None:
        try:
            self.opened.close()
        finally:
            if self.literature is not None:
                self.literature.close()


def task_training(spec: str, revision: str | None = None) -> TrainingData:
    """The training split of the task named in ``spec`` (``TASK=DATA``), as a baseline judge learns from it."""
    from cyclebench.tasks import get_task

    task_name, data = parse_train_spec(spec)
    task = get_task(task_name)
    if task.train_split is None:
        raise ValueError(f"task {task_name} has no training split for a baseline judge")
    loaded = task.load(data, task.train_split, revision)
    if not loaded.examples:
        raise ValueError(f"{task_name} {task.train_split} split in {data} has no examples to train the judge on")
    return TrainingData(loaded.examples, {"task": task_name, "data": data, "split": task.train_split,
                                          "n_examples": len(loaded.examples), "dataset_fingerprint": loaded.fingerprint})


def load_few_shot(folder: str | Path, n: int | None = None) -> list[tuple[str, str]]:
    """AI Scientist few-shot examples from a folder of ``NAME.txt`` (paper) + ``NAME.json`` (its review,
    the original double-encoded form or a plain object), sorted by name; the first ``n`` when given."""
    from cyclebench.protocols.aiscientist import decode_fewshot_review

    folder = Path(folder)
    pairs = []
    for review_file in sorted(folder.glob("*.json")):
        paper_file = review_file.with_suffix(".txt")
        if not paper_file.is_file():
            raise FileNotFoundError(f"few-shot review {review_file.name} has no paper text {paper_file.name}")
        review = decode_fewshot_review(review_file.read_text(encoding="utf-8"))
        pairs.append((paper_file.read_text(encoding="utf-8"), json.dumps(review, indent=4)))
    if not pairs:
        raise FileNotFoundError(f"no few-shot examples (*.json + *.txt) in {folder}")
    return pairs[:n] if n else pairs


def resolve_protocol_options(options: dict[str, Any]) -> dict[str, Any]:
    """Turn file-valued options into what a (pure) protocol takes: ``few_shot=DIR`` plus ``num_fs=N``."""
    options = dict(options)
    few_shot = options.get("few_shot")
    if isinstance(few_shot, str):
        options["few_shot"] = load_few_shot(few_shot, options.pop("num_fs", None))
    return options


def open_protocol(name: str, options: dict[str, Any], sampling: dict[str, Any]) -> Any:
    """The review protocol ``name`` with its file-valued options read (few-shot folder) and sampling overrides."""
    from cyclebench.protocols import get_protocol

    protocol = get_protocol(name, **resolve_protocol_options(options))
    if sampling:
        protocol.sampling.update(sampling)
    return protocol


def open_judge(config: JudgeConfig, cache_dir: str | Path, *, backend: Any = None,
               training: Callable[[], TrainingData] | None = None,
               before_cache: Callable[[str], None] | None = None) -> Judge:
    """Build the judge's protocol and backend, fit a baseline, wrap it in the cache.

    A baseline learns from ``training()`` when given (a review run trains on its own task), else from
    ``config.train``; a baseline built here with neither is refused, and so is training data for a backend
    that does not train. A baseline passed in ready-made without training data is used as it is."""
    protocol = open_protocol(config.protocol, config.protocol_options, config.sampling)
    baseline = needs_training(config.backend, backend)
    if baseline and training is None and not config.train and backend is None:
        raise ValueError(f"judge backend {config.backend} is a baseline that must be trained: give its training "
                         "data as TASK=DATA (--judge-train aiscientist-iclr2022=DIR)")
    if config.train and not baseline:
        raise ValueError(f"judge backend {config.backend} does not train; drop the judge training data {config.train!r}")
    if training is None and config.train:
        training = partial(task_training, config.train, config.train_revision)
    literature = attach_literature(protocol, cache_dir)
    try:
        opened = open_backend(config.backend, config.model_args, cache_dir, backend=backend, protocol=protocol,
                              training=training, before_cache=before_cache)
    except BaseException:
        if literature is not None:
            literature.close()
        raise
    return Judge(config, protocol, opened, literature)


def generate_in_batches(backend: Any, requests: list[Any], batch_size: int, label: str, progress: bool | None) -> list[Any]:
    """``backend.generate`` over ``requests`` in batches (each batch is saved by the cache as it returns)."""
    from tqdm.auto import tqdm

    responses: list[Any] = []
    with tqdm(total=len(requests), desc=label, unit=" req", disable=None if progress is None else not progress) as bar:
        for start in range(0, len(requests), max(1, batch_size)):
            batch = requests[start : start + max(1, batch_size)]
            responses.extend(backend.generate(batch))
            bar.update(len(batch))
    return responses
