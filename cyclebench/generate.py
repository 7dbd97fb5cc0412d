"""A generator evaluation run: Research-14K prompts -> papers in the CycleResearcher format -> judge -> figures.

Per prompt (the system + user turns of a Research-14K test record: topic and BibTeX references with
abstracts) the generator writes ``n`` samples, sample ``k`` with seed ``seed + k``. Each sample is a
conversation in the format the models were trained on (REFERENCE 1.3):

1. **part 1**: the prompt; the model writes outline, part-1 LaTeX and the experimental setup.
2. **the results turn**: in training a user turn ``## Experimental_results`` + JSON holding the real paper's
   results. An evaluation has no real results, so (``results_turn``):

   * ``simulate`` (default): the generator simulates them itself, as in the original, whose one-pass
     generation (``ignore_eos=True``) let the model write through the end of its turn into the results and
     part 2. Here the backends stop at the end of a turn, so the run asks the model in a follow-up turn
     (:data:`RESULTS_REQUEST`) to write the results it expects as the JSON list, and puts that list into the
     training-format results turn. A part 1 that already holds an ``## Experimental_results`` block (a model
     or backend that wrote through, e.g. vLLM with ``ignore_eos``) is used as it is: no further request.
   * ``given``: the test record's own results turn (``messages[3]``: the original paper's results, as in
     training). The generated paper then reports another paper's numbers; useful to separate writing
     quality from result simulation.

3. **part 2**: the conversation so far + the results turn; the model writes experiments, discussion and
   conclusion.

Every response is cached by request hash (a killed run resumes; a rerun generates nothing). Each part is
parsed (:func:`cyclebench.protocols.cycleresearcher.parse_generation`), the paper is assembled
(``GeneratedPaper.text()``) and judged (:mod:`cyclebench.judging`). With ``n > 1`` the run also reports the
best-of-N selection by the judge (the paper's rejection sampling): per prompt the sample the judge rated
highest. The experimental results of every generated paper are simulated (or borrowed, with ``given``):
the report says so.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from cyclebench.backends.base import recorded_model_args
from cyclebench.judging import (
    DEFAULT_THRESHOLD,
    RESULTS_SCHEMA_VERSION,
    JudgeConfig,
    JudgeItem,
    SetEntry,
    definitions,
    disagreement,
    generate_in_batches,
    judge_paper_set,
    judge_inputs,
    judgement_row,
    open_judge,
    provenance,
    read_paper_set,
    run_marker,
    set_figures,
    text_sha256,
    write_outputs,
)
from cyclebench.outputs import run_folder
from cyclebench.protocols.cycleresearcher import (
    build_generation_messages,
    default_sampling,
    format_results_turn,
    parse_generation,
    read_json_list,
    split_at_results,
)
from cyclebench.records import GeneratedPaper

GENERATION_TASKS = ("research-14k",)
RESULTS_TURNS = ("simulate", "given")
# The follow-up turn of ``results_turn="simulate"``: the model writes the results it expects.
RESULTS_REQUEST = (
    "The experiments in the Experimental Setup above have not been run. Simulate their results: for each "
    "experiment, write the result you expect as one entry of a JSON list in a ```json block, of the form "
    '[{"name": "...", "result": {"table": "...", "description": "..."}}] (use "image" instead of "table" for a '
    "figure). Write only the JSON block."
)


# ---------------------------------------------------------------------------------------------
# Prompts


@dataclass(frozen=True)
class GenerationPrompt:
    """One Research-14K record as a prompt: the first two turns, and its own results turn when it has one."""

    paper_id: str
    title: str
    messages: tuple[dict[str, str], ...]
    given_results: str | None = None
    rebuilt: bool = False  # the prompt was built from ``references`` because ``messages`` was unusable


@dataclass(frozen=True)
class PromptSplit:
    prompts: list[GenerationPrompt]
    n_rows: int
    skipped: dict[str, int]
    notes: dict[str, int]
    fingerprint: str
    source: dict[str, Any]


def _turn(message: Any, role: str) -> dict[str, str] | None:
    if not isinstance(message, dict) or message.get("role") != role:
        return None
    content = message.get("content")
    return {"role": role, "content": content} if isinstance(content, str) and content.strip() else None


def prompts_from_rows(rows: list[dict[str, Any]]) -> tuple[list[GenerationPrompt], dict[str, int], dict[str, int]]:
    """Rows with ``paperId, title, abstract, references, messages`` to prompts; unusable rows counted by reason.

    ``messages[0:2]`` (system + user) is the prompt exactly as in training; a row whose messages are unusable
    but which has ``references`` gets the prompt rebuilt with :func:`build_generation_messages` (counted in
    ``notes``). ``messages[3]`` (the results turn), when there, is kept for ``results_turn="given"``."""
    prompts: list[GenerationPrompt] = []
    skipped: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    seen: set[str] = set()
    for row in rows:
        paper_id = row.get("paperId") or row.get("paper_id") or row.get("id")
        if not isinstance(paper_id, str) or not paper_id.strip():
            skipped["no_paper_id"] += 1
            continue
        if paper_id in seen:
            skipped["duplicate_paper_id"] += 1
            continue
        messages = row.get("messages")
        messages = list(messages) if isinstance(messages, (list, tuple)) else []
        first = [_turn(messages[0], "system"), _turn(messages[1], "user")] if len(messages) >= 2 else [None, None]
        rebuilt = False
        if None in first:
            references = row.get("references")
            if isinstance(references, (list, tuple)):
                references = "\n\n".join(str(r) for r in references)
            if not isinstance(references, str) or not references.strip():
                skipped["no_prompt"] += 1
                continue
            first = build_generation_messages(str(row.get("topic") or ""), references)
            rebuilt = True
            notes["prompt_rebuilt_from_references"] += 1
        given = _turn(messages[3], "user") if len(messages) >= 4 else None
        seen.add(paper_id)
        prompts.append(GenerationPrompt(paper_id, str(row.get("title") or ""), tuple(first),  # type: ignore[arg-type]
                                        given["content"] if given else None, rebuilt))
    return prompts, dict(skipped), dict(notes)


def load_generation_prompts(task: str, data: str, split: str = "test", revision: str | None = None,
                            limit: int | None = None) -> PromptSplit:
    """The prompts of a generation task's split (a Hub-layout folder or a Hub repo id + revision)."""
    from cyclebench.tasks import dataset_fingerprint, read_rows

    if task not in GENERATION_TASKS:
        raise ValueError(f"unknown generation task {task!r}; known: {', '.join(GENERATION_TASKS)}")
    fingerprint, source = dataset_fingerprint(data, revision)
    rows = read_rows(data, "default", [split], revision)
    prompts, skipped, notes = prompts_from_rows(rows)
    if limit is not None:
        prompts = prompts[:limit]
        source = {**source, "limit": limit}
    return PromptSplit(prompts, len(rows), skipped, notes, fingerprint, source)


# ---------------------------------------------------------------------------------------------
# The run


@dataclass(frozen=True)
class GeneratorRunConfig:
    """What decides a generator evaluation; every field lands in ``results.json``."""

    data: str
    backend: str
    judge: JudgeConfig
    task: str = "research-14k"
    split: str = "test"
    revision: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    sampling: dict[str, Any] = field(default_factory=dict)  # overrides of the CycleResearcher defaults
    n: int = 1
    limit: int | None = None
    seed: int = 0
    results_turn: str = "simulate"
    second_judge: JudgeConfig | None = None
    reference_sets: tuple[tuple[str, str], ...] = ()  # (name, folder) judged beside the generated papers
    prefer: tuple[str, ...] = ("latex", "markdown", "text", "pdf")
    reference_limit: int | None = None
    threshold: float = DEFAULT_THRESHOLD
    n_resamples: int = 10_000
    batch_size: int = 16


@dataclass
class Sample:
    """One generation sample and everything that happened to it."""

    prompt: GenerationPrompt
    index: int
    seed: int
    turns: list[dict[str, Any]] = field(default_factory=list)
    plan: str = ""
    paper: GeneratedPaper | None = None
    outcome: str = "judged"
    reason: str | None = None

    @property
    def item_id(self) -> str:
        return f"{self.prompt.paper_id}#s{self.index}"


def _turn_record(name: str, request: Any, response: Any, fingerprint: str) -> dict[str, Any]:
    return {"turn": name, "request_hash": request.cache_key(fingerprint), "output": response.text,
            "error": response.error, "finish_reason": response.finish_reason,
            "completion_tokens": response.completion_tokens}


def generate_samples(samples: list[Sample], backend: Any, sampling: dict[str, Any], *, results_turn: str,
                     batch_size: int, progress: bool | None) -> None:
    """Run the turns of every sample through ``backend`` (a cached backend), filling ``turns``, ``plan``,
    ``paper``, ``outcome`` and ``reason`` in place."""
    from cyclebench.backends import GenerationRequest

    fp = backend.fingerprint

    def request(s: Sample, name: str, messages: list[dict[str, str]]) -> Any:
        return GenerationRequest(f"{s.item_id}/{name}", tuple(messages), {**sampling, "seed": s.seed})

    first = [request(s, "part1", list(s.prompt.messages)) for s in samples]
    answers = generate_in_batches(backend, first, batch_size, "part 1", progress)
    part1: dict[int, str] = {}
    for i, (s, req, resp) in enumerate(zip(samples, first, answers)):
        s.turns.append(_turn_record("part1", req, resp, fp))
        if resp.error is not None or not resp.text:
            s.outcome, s.reason, s.plan = "generation_failed", f"part1: {resp.error or 'empty output'}", "part1-failed"
        else:
            part1[i] = resp.text

    # The results turn of each sample still writing (None: the model wrote the results itself).
    results_turn_text: dict[int, str] = {}
    asks: list[tuple[int, Any]] = []
    for i, text in part1.items():
        s = samples[i]
        if split_at_results(text) is not None:
            s.plan = "one-pass"
        elif results_turn == "given":
            s.plan = "given-results"
            results_turn_text[i] = str(s.prompt.given_results)
        else:
            s.plan = "simulated-results"
            conversation = [*s.prompt.messages, {"role": "assistant", "content": text}, {"role": "user", "content": RESULTS_REQUEST}]
            asks.append((i, request(s, "results", conversation)))
    if asks:
        replies = generate_in_batches(backend, [r for _, r in asks], batch_size, "results turn", progress)
        for (i, req), resp in zip(asks, replies):
            s = samples[i]
            s.turns.append(_turn_record("results", req, resp, fp))
            if resp.error is not None or not resp.text:
                s.reason = f"results: {resp.error or 'empty output'}"
                continue
            items, _why, _salvaged = read_json_list(resp.text)
            # The list as the model wrote it goes into the training-format turn; an unreadable reply goes in
            # as written, and the parser names the problem.
            results_turn_text[i] = format_results_turn(items) if items is not None else f"## Experimental_results\n\n{resp.text.strip()}"

    seconds = [(i, request(samples[i], "part2", [*samples[i].prompt.messages, {"role": "assistant", "content": part1[i]},
                                                  {"role": "user", "content": turn}]))
               for i, turn in results_turn_text.items()]
    part2: dict[int, str] = {}
    if seconds:
        replies = generate_in_batches(backend, [r for _, r in seconds], batch_size, "part 2", progress)
        for (i, req), resp in zip(seconds, replies):
            samples[i].turns.append(_turn_record("part2", req, resp, fp))
            if resp.error is not None or not resp.text:
                samples[i].reason = f"part2: {resp.error or 'empty output'}"
            else:
                part2[i] = resp.text

    for i, text in part1.items():
        s = samples[i]
        if s.plan == "one-pass":
            head, rest = split_at_results(text)  # type: ignore[misc]
            paper = parse_generation(head, rest, s.item_id)
        elif i in results_turn_text:
            rest = results_turn_text[i] + ("\n\n" + part2[i] if i in part2 else "")
            paper = parse_generation(text, rest, s.item_id)
        else:
            paper = parse_generation(text, None, s.item_id)
        extra = [f"turn_failed: {s.reason}"] if s.reason else []
        extra += [f"generation_truncated: {t['turn']}" for t in s.turns if t["finish_reason"] == "length"]
        s.paper = replace(paper, problems=paper.problems + tuple(extra)) if extra else paper
        if s.paper.status == "failed":
            s.outcome = "parse_failed"
            s.reason = "paper_unreadable: " + ", ".join(p.split(": ", 1)[0] for p in s.paper.problems[:6])


def best_of_n(samples: list[Sample], reviews: dict[str, Any]) -> list[Sample]:
    """Per prompt, the sample the judge rated highest (ties: the lower sample index). A prompt with no rated
    sample keeps the sample that got furthest (judged, then parsed, then none), lowest index first."""
    by_prompt: dict[str, list[Sample]] = {}
    for s in samples:
        by_prompt.setdefault(s.prompt.paper_id, []).append(s)
    rank = {"judged": 0, "parse_failed": 1, "generation_failed": 2}
    chosen = []
    for group in by_prompt.values():
        rated = [s for s in group if reviews.get(s.item_id) is not None and reviews[s.item_id].rating is not None]
        if rated:
            chosen.append(max(rated, key=lambda s: (reviews[s.item_id].rating, -s.index)))
        else:
            chosen.append(min(group, key=lambda s: (rank[s.outcome], s.index)))
    return chosen


def _entries(samples: list[Sample], reviews: dict[str, Any]) -> list[SetEntry]:
    return [SetEntry(s.item_id, s.outcome, reviews.get(s.item_id) if s.outcome == "judged" else None,  # type: ignore[arg-type]
                     None if s.outcome == "judged" else s.reason) for s in samples]


def run_generator_evaluation(config: GeneratorRunConfig, output: str | Path, *, cache_dir: str | Path | None = None,
                             backend: Any = None, judge_backend: Any = None, second_judge_backend: Any = None,
                             progress: bool | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) one generator evaluation into ``output``; returns the results dict. ``output`` must be
    new, empty or this run's folder; ``overwrite`` replaces another run's folder that cyclebench wrote."""
    inputs = [config.data, *config.model_args.values(), *(folder for _, folder in config.reference_sets),
              *judge_inputs(config.judge), *judge_inputs(config.second_judge)]
    with run_folder(output, run_marker("generator", config), overwrite=overwrite, inputs=inputs) as claimed:
        return _run_generator(config, claimed, cache_dir=cache_dir, backend=backend, judge_backend=judge_backend,
                              second_judge_backend=second_judge_backend, progress=progress)


def _run_generator(config: GeneratorRunConfig, output: Path, *, cache_dir: str | Path | None, backend: Any,
                   judge_backend: Any, second_judge_backend: Any, progress: bool | None) -> dict[str, Any]:
    from cyclebench.backends import build_backend
    from cyclebench.backends.cache import CachedBackend

    if config.n < 1:
        raise ValueError(f"n (samples per prompt) must be >= 1, not {config.n}")
    if config.results_turn not in RESULTS_TURNS:
        raise ValueError(f"results_turn must be one of {RESULTS_TURNS}, not {config.results_turn!r}")
    started = time.time()
    cache = Path(cache_dir) if cache_dir else output / "cache"

    loaded = load_generation_prompts(config.task, config.data, config.split, config.revision, config.limit)
    prompts, skipped = loaded.prompts, dict(loaded.skipped)
    if config.results_turn == "given":
        without = [p for p in prompts if p.given_results is None]
        if without:
            skipped["no_results_turn_for_given_mode"] = len(without)
            prompts = [p for p in prompts if p.given_results is not None]
    if not prompts:
        raise ValueError(f"no usable prompts in {config.data} ({config.split}): skipped {skipped}")
    samples = [Sample(p, k, config.seed + k) for p in prompts for k in range(config.n)]

    # 1. Generate (the generator is closed before any judge is loaded: both may be large models).
    model = backend if backend is not None else build_backend(config.backend, config.model_args)
    generator_fp = model.fingerprint
    sampling = {**default_sampling(), **config.sampling}
    cached = CachedBackend(model, cache)
    try:
        generate_samples(samples, cached, sampling, results_turn=config.results_turn, batch_size=config.batch_size,
                         progress=progress)
    finally:
        if backend is None:
            model.close()
    caches = [cached]

    # 2. Judge the generated papers, and the reference sets beside them.
    to_judge = [s for s in samples if s.outcome == "judged"]
    items = [JudgeItem(s.item_id, s.paper.text()) for s in to_judge]  # type: ignore[union-attr]
    common = {"threshold": config.threshold, "n_resamples": config.n_resamples, "seed": config.seed,
              "batch_size": config.batch_size, "progress": progress}
    references = [read_paper_set(name, folder, prefer=config.prefer, limit=config.reference_limit)
                  for name, folder in config.reference_sets]
    judge = open_judge(config.judge, cache, backend=judge_backend)
    caches.append(judge.cached)
    try:
        judgements = {j.item_id: j for j in judge.review(items, batch_size=config.batch_size, seed=config.seed,
                                                          progress=progress, label="judging generated papers")}
        judged_refs = [judge_paper_set(r, judge, **common) for r in references]
    finally:
        judge.close()
    reviews = {k: j.review for k, j in judgements.items()}
    chosen = best_of_n(samples, reviews)

    def generated_set(selected: list[Sample], revs: dict[str, Any]) -> dict[str, Any]:
        figures = set_figures(_entries(selected, revs), threshold=config.threshold, n_resamples=config.n_resamples,
                              seed=config.seed)
        figures["counts"]["n_prompts"] = len({s.prompt.paper_id for s in selected})
        figures["counts"]["n_samples"] = len(selected)
        figures["counts"]["paper_status"] = dict(sorted(Counter(s.paper.status for s in selected if s.paper).items()))
        figures["counts"]["paper_problems"] = dict(sorted(Counter(
            p.split(": ", 1)[0] for s in selected if s.paper for p in s.paper.problems).items()))
        figures["counts"]["turn_plans"] = dict(sorted(Counter(s.plan for s in selected).items()))
        return figures

    label = f"{config.backend} generated" + (f" ({config.n} samples per prompt)" if config.n > 1 else "")
    sets: dict[str, Any] = {"generated": {"label": label, "kind": "generated", "source": config.data,
                                          **generated_set(samples, reviews)}}
    if config.n > 1:
        sets["generated_best_of_n"] = {"label": f"{config.backend} best-of-{config.n} by the judge", "kind": "best_of_n",
                                       "source": config.data, **generated_set(chosen, reviews)}
    for js in judged_refs:
        sets[js.paper_set.name] = js.result

    # 3. The second, independent judge on the same papers.
    second_info, second_judgements = None, {}
    if config.second_judge is not None:
        second = open_judge(config.second_judge, cache, backend=second_judge_backend)
        caches.append(second.cached)
        try:
            second_info = second.describe()
            second_judgements = {j.item_id: j for j in second.review(items, batch_size=config.batch_size, seed=config.seed,
                                                                      progress=progress, label="second judge")}
            second_refs = [judge_paper_set(js.paper_set, second, kept=js.kept, label="second judge", **common)
                           for js in judged_refs]
        finally:
            second.close()
        reviews2 = {k: j.review for k, j in second_judgements.items()}
        for key, selected in (("generated", samples), ("generated_best_of_n", chosen)):
            if key in sets:
                sets[key]["second_judge"] = generated_set(selected, reviews2)
                sets[key]["disagreement"] = disagreement([reviews.get(s.item_id) for s in selected],
                                                         [reviews2.get(s.item_id) for s in selected],
                                                         n_resamples=config.n_resamples, seed=config.seed)
        for js, other in zip(judged_refs, second_refs):
            js.result["second_judge"] = {"metrics": other.result["metrics"], "counts": other.result["counts"]}
            js.result["disagreement"] = disagreement([e.review for e in js.entries], [e.review for e in other.entries],
                                                     n_resamples=config.n_resamples, seed=config.seed)

    chosen_ids = {s.item_id for s in chosen}
    predictions: list[dict[str, Any]] = []
    for s in samples:
        row = {"set": "generated", "paper_id": s.prompt.paper_id, "sample": s.index, "seed": s.seed, "plan": s.plan,
               "outcome": s.outcome, "reason": s.reason, "best_of_n": s.item_id in chosen_ids, "turns": s.turns,
               "paper": asdict(s.paper) if s.paper else None,
               "paper_text_sha256": text_sha256(s.paper.text()) if s.paper and s.outcome == "judged" else None,
               "judge": judgement_row(judgements[s.item_id]) if s.item_id in judgements else None}
        if s.item_id in second_judgements:
            row["second_judge"] = judgement_row(second_judgements[s.item_id])
        predictions.append(row)
    for js in judged_refs:
        predictions.extend(js.predictions())

    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "kind": "generator",
        "task": {"name": config.task, "split": config.split, "dataset_fingerprint": loaded.fingerprint,
                 "source": loaded.source, "n_rows": loaded.n_rows, "n_prompts": len(prompts), "skipped": skipped,
                 "notes": loaded.notes},
        "generator": {"backend": config.backend, "model_args": recorded_model_args(config.model_args), "fingerprint": generator_fp,
                      "sampling": sampling, "n": config.n, "seeds": [config.seed + k for k in range(config.n)],
                      "results_turn": config.results_turn,
                      "results_request": RESULTS_REQUEST if config.results_turn == "simulate" else None,
                      "results_are_simulated": config.results_turn == "simulate"},
        "judge": judge.describe(),
        "second_judge": second_info,
        "threshold": config.threshold,
        "seed": config.seed,
        "n_resamples": config.n_resamples,
        "metrics": sets["generated"]["metrics"],
        "best_of_n_metrics": sets["generated_best_of_n"]["metrics"] if config.n > 1 else None,
        "counts": {**sets["generated"]["counts"], "n_rows": loaded.n_rows, "prompts_skipped": skipped},
        "sets": sets,
        "reference_sets": [list(r) for r in config.reference_sets],
        "definitions": {
            **definitions(config.threshold),
            "best_of_n": "per prompt, the sample with the highest rating by the (first) judge; ties go to the lower "
                         "sample index; a prompt without any rated sample keeps its furthest-got sample as a failure",
            "simulated_results": "the experimental results in generated papers were written by the generator "
                                 "(results_turn=simulate) or copied from the test record (given): never run",
            "samples": "sample k of a prompt is generated with seed = seed + k; every turn of a sample uses its seed",
        },
        "provenance": provenance(),
    }
    write_outputs(output, results, predictions, started, caches)
    return results
