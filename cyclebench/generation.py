"""CycleResearcher generation: Research-14K prompts -> multi-turn samples -> papers (the generator's side).

Per prompt (the system + user turns of a Research-14K test record: topic and BibTeX references with
abstracts) a run writes ``n`` samples, sample ``k`` with seed ``seed + k``. Each sample is a conversation in
the format the models were trained on (REFERENCE 1.3):

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

Each part is parsed (:func:`cyclebench.protocols.cycleresearcher.parse_generation`) and the paper assembled
(``GeneratedPaper.text()``); :mod:`cyclebench.evaluate_generator` judges the papers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from cyclebench.judge import generate_in_batches
from cyclebench.protocols.cycleresearcher import (
    build_generation_messages,
    format_results_turn,
    parse_generation,
    read_json_list,
    split_at_results,
)
from cyclebench.records import GeneratedPaper, problem_key

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
        if not isinstance(row, dict):
            skipped["not_a_record"] += 1
            continue
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


def original_row(row: Any) -> Any:
    """A row of the original Research-14K files with its JSON-text columns (``messages``, ``references``,
    ``sections``, ``figure``) decoded, so its own prompt is used rather than one rebuilt from the JSON text;
    a row of our Hub layout (already lists) passes as it is."""
    from cyclebench.hub.columns import Research14K
    from cyclebench.hub.load import decoded_cell

    if not isinstance(row, dict):
        return row
    return {key: decoded_cell(value) if key in Research14K.JSON_ENCODED else value for key, value in row.items()}


def load_generation_prompts(task: str, data: str, split: str = "test", revision: str | None = None,
                            limit: int | None = None) -> PromptSplit:
    """The prompts of a generation task's split: a Hub-layout folder, the original WestlakeNLP files
    (``<split>.csv|.parquet|.jsonl|.json`` in a folder, or one such file), or a Hub repo id + revision."""
    from cyclebench.hub.load import dataset_fingerprint, read_rows

    if task not in GENERATION_TASKS:
        raise ValueError(f"unknown generation task {task!r}; known: {', '.join(GENERATION_TASKS)}")
    fingerprint, source = dataset_fingerprint(data, revision, split)  # one file: the sha256 of that file
    rows = [original_row(row) for row in read_rows(data, "default", [split], revision)]
    prompts, skipped, notes = prompts_from_rows(rows)
    if limit is not None:
        prompts = prompts[:limit]
        source = {**source, "limit": limit}
    return PromptSplit(prompts, len(rows), skipped, notes, fingerprint, source)


# ---------------------------------------------------------------------------------------------
# One sample's turns -> its paper (the leaderboard re-derives submitted samples with these too)


def turn_failure(error: str | None, text: str | None) -> str | None:
    """Why a turn gave no text, as a sample's reason words it; None when it gave text."""
    if error is None and text:
        return None
    return error or "empty output"


def results_turn_text(output: str) -> str:
    """The training-format results turn from the model's simulated results: the JSON list as the model wrote
    it, or an unreadable reply as written (the parser names the problem)."""
    items, _why, _salvaged = read_json_list(output)
    return format_results_turn(items) if items is not None else f"## Experimental_results\n\n{output.strip()}"


def sample_paper(item_id: str, part1: str, results_text: str | None, part2_text: str | None, reason: str | None,
                 truncated: Iterable[str]) -> GeneratedPaper:
    """The paper of one sample from its turns' texts (a part 1 that holds its results is read as one pass),
    with a problem for the failed turn (``reason``) and for each turn cut at the length limit."""
    one_pass = split_at_results(part1)
    if one_pass is not None:
        paper = parse_generation(one_pass[0], one_pass[1], item_id)
    elif results_text is not None:
        paper = parse_generation(part1, results_text + ("\n\n" + part2_text if part2_text is not None else ""), item_id)
    else:
        paper = parse_generation(part1, None, item_id)
    extra = [f"turn_failed: {reason}"] if reason else []
    extra += [f"generation_truncated: {name}" for name in truncated]
    return replace(paper, problems=paper.problems + tuple(extra)) if extra else paper


def unreadable_reason(paper: GeneratedPaper) -> str:
    """A failed paper's reason: the keys of its first six problems."""
    return "paper_unreadable: " + ", ".join(problem_key(p) for p in paper.problems[:6])


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
        why = turn_failure(resp.error, resp.text)
        if why is not None:
            s.outcome, s.reason, s.plan = "generation_failed", f"part1: {why}", "part1-failed"
        else:
            part1[i] = resp.text

    # The results turn of each sample still writing (None: the model wrote the results itself).
    results_text: dict[int, str] = {}
    asks: list[tuple[int, Any]] = []
    for i, text in part1.items():
        s = samples[i]
        if split_at_results(text) is not None:
            s.plan = "one-pass"
        elif results_turn == "given":
            s.plan = "given-results"
            results_text[i] = str(s.prompt.given_results)
        else:
            s.plan = "simulated-results"
            conversation = [*s.prompt.messages, {"role": "assistant", "content": text}, {"role": "user", "content": RESULTS_REQUEST}]
            asks.append((i, request(s, "results", conversation)))
    if asks:
        replies = generate_in_batches(backend, [r for _, r in asks], batch_size, "results turn", progress)
        for (i, req), resp in zip(asks, replies):
            s = samples[i]
            s.turns.append(_turn_record("results", req, resp, fp))
            why = turn_failure(resp.error, resp.text)
            if why is not None:
                s.reason = f"results: {why}"
                continue
            results_text[i] = results_turn_text(resp.text)

    seconds = [(i, request(samples[i], "part2", [*samples[i].prompt.messages, {"role": "assistant", "content": part1[i]},
                                                  {"role": "user", "content": turn}]))
               for i, turn in results_text.items()]
    part2: dict[int, str] = {}
    if seconds:
        replies = generate_in_batches(backend, [r for _, r in seconds], batch_size, "part 2", progress)
        for (i, req), resp in zip(seconds, replies):
            samples[i].turns.append(_turn_record("part2", req, resp, fp))
            why = turn_failure(resp.error, resp.text)
            if why is not None:
                samples[i].reason = f"part2: {why}"
            else:
                part2[i] = resp.text

    for i, text in part1.items():
        s = samples[i]
        s.paper = sample_paper(s.item_id, text, results_text.get(i), part2.get(i), s.reason,
                               [t["turn"] for t in s.turns if t["finish_reason"] == "length"])
        if s.paper.status == "failed":
            s.outcome = "parse_failed"
            s.reason = unreadable_reason(s.paper)

