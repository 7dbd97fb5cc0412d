"""CycleResearcher generation protocol (WestlakeNLP/CycleResearcher-ML-{12B,72B,123B}; REFERENCE 1.3).

The model is given a topic and a BibTeX file whose entries carry abstracts, and writes a paper in two
assistant turns:

* part 1: ``## Motivation``, ``## Main Idea``, ``## Interestingness``, ``## Feasibility``, ``## Novelty``
  (the last three integers), a fenced ```` ```latex ```` block (``\\title{}``, ``\\begin{abstract}`` ...
  ``\\end{abstract}``, introduction, related work, method), then ``## Experimental Setup`` with a fenced JSON
  list ``[{"name", "description"}]``;
* a user turn ``## Experimental_results`` with a fenced JSON list ``[{"name", "result": {"table" | "image",
  "description"}}]`` (in training: the real paper's results; in evaluation they are *simulated*);
* part 2: a fenced LaTeX block with experiments, discussion and conclusion.

The system prompt and the user instruction below are those of the original package (``ai_researcher``
0.1.0, ``CycleResearcher.generate_paper``, WestlakeNLP, https://github.com/zhu-minjun/Researcher), kept word
for word (its ``Methods/`` typo included) because the released models were trained on them. Sampling as
there: temperature 0.4, top_p 0.95, max_tokens 19000, stop at ``\\clearpage`` (the original also stops at
``\\clear`` and ``clearpage``, and generates with ``ignore_eos=True``, so one completion runs through the
results turn, which the model writes itself; see :mod:`cyclebench.generation` for how an evaluation here
produces that turn).

Three functions are the public contract (the Research-14K builder imports them):

* :func:`build_generation_messages` ``(topic, bibtex) -> [system, user]``;
* :func:`parse_generation` ``(part1, part2=None, paper_id="") -> GeneratedPaper``: never raises on text;
  what cannot be read is a named problem (stable key before ``": "``), truncated output and truncated or
  malformed JSON are read as far as they go;
* :func:`format_training_messages` ``(topic, bibtex, outline, paper) -> 5 messages``, written so that
  :func:`parse_training_messages` (part 1, then the results turn followed by part 2) gives back the same
  fields.

Pure functions: no I/O, no model imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cyclebench.protocols.base import parse_score, problem, snippet
from cyclebench.records import (
    ExperimentResult,
    ExperimentSpec,
    GeneratedPaper,
    PaperOutline,
    ParseStatus,
)
from cyclebench.sources.latex import group_end

Message = dict[str, str]

# ---------------------------------------------------------------------------------------------
# Prompt (the original's words)

SYSTEM_PROMPT = (
    "You are a research assistant AI tasked with generating a scientific paper based on provided literature. "
    "Follow these steps:\n\n"
    "1. Analyze the given References. \n"
    "2. Identify gaps in existing research to establish the motivation for a new study.\n"
    "3. Propose a main idea for a new research work.\n"
    "4. Write the paper's main content in LaTeX format, including:\n"
    "   - Title\n"
    "   - Abstract\n"
    "   - Introduction\n"
    "   - Related Work\n"
    "   - Methods/\n"
    "5. Generate experimental setup details in JSON format to guide researchers.\n"
    "6. After receiving experimental results in JSON format, analyze them.\n"
    "7. Complete the paper by writing:\n"
    "   - Results\n"
    "   - Discussion\n"
    "   - Conclusion\n"
    "   - Contributions\n\n"
    "Ensure all content is original, academically rigorous, and follows standard scientific writing conventions."
)
TOPIC_LINE = "Generate a research paper on the topic: {topic}\n\n"
USER_INSTRUCTION = (
    "The above content represents the relevant literature in this field. Please analyze it and provide the "
    "motivation and main idea. Then, provide the Title, Abstract, Introduction, Related Work, and Methods "
    "sections in LaTeX format."
)
DEFAULT_SAMPLING: Mapping[str, Any] = {"temperature": 0.4, "top_p": 0.95, "max_tokens": 19000, "stop": ["\\clearpage"]}
RESULTS_HEADING = "## Experimental_results"
SCORE_RANGE = (0.0, 10.0)
SCORE_FIELDS = ("interestingness", "feasibility", "novelty")


def default_sampling() -> dict[str, Any]:
    """A fresh copy of the original's sampling settings (lists copied, so callers may edit them)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in DEFAULT_SAMPLING.items()}


def build_generation_messages(topic: str, bibtex: str) -> list[Message]:
    """System prompt + the user turn: ``Generate a research paper on the topic: ...`` (when a topic is
    given), the BibTeX references, and the instruction for part 1, as the original package built them."""
    if not isinstance(topic, str) or not isinstance(bibtex, str):
        raise TypeError("topic and bibtex must be strings")
    if not topic.strip() and not bibtex.strip():
        raise ValueError("a generation prompt needs a topic or references")
    user = TOPIC_LINE.format(topic=topic.strip()) if topic.strip() else ""
    if bibtex.strip():
        user += bibtex + "\n\n"
    user += USER_INSTRUCTION
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# ---------------------------------------------------------------------------------------------
# Reading an output: fenced blocks and headings

_SECTION_ALIASES: dict[str, str] = {
    "motivation": "motivation",
    "main idea": "main_idea",
    "idea": "main_idea",
    "interestingness": "interestingness",
    "feasibility": "feasibility",
    "novelty": "novelty",
    "experimental setup": "setup",
    "experiment setup": "setup",
    "experimental results": "results",
    "experiment results": "results",
}
_HEADING = re.compile(
    r"^[ \t]{0,3}#{1,6}[ \t]*\**[ \t]*(?P<name>[A-Za-z][A-Za-z _\-]*?)[ \t]*\**[ \t]*(?::[ \t]*(?P<inline>[^\n]*))?[ \t]*$",
    re.MULTILINE,
)
_FENCE_OPEN = re.compile(r"^[ \t]*```[ \t]*(?P<lang>[A-Za-z0-9_+\-]*)[^\n]*(?:\n|$)", re.MULTILINE)
_LATEX_HINT = re.compile(r"\\(?:title|section|subsection|begin\{abstract\}|paragraph)\b")


@dataclass(frozen=True, slots=True)
class _Fence:
    lang: str
    start: int  # offset of the opening ``` line
    body_start: int
    body_end: int
    end: int  # offset after the closing ``` (or where the block was cut)
    closed: bool
    cut_at_heading: bool = False


@dataclass(frozen=True, slots=True)
class _Heading:
    key: str
    start: int
    end: int
    inline: str


def _heading_key(name: str) -> str | None:
    words = " ".join(re.split(r"[\s_\-]+", name.strip().lower()))
    return _SECTION_ALIASES.get(words)


def _scan(text: str) -> tuple[list[_Fence], list[_Heading]]:
    """Fenced blocks and known headings, in order; headings inside a fence are not headings.

    A fence runs to the next ```` ``` ```` (as the original parser splits); a LaTeX or untagged fence that
    meets one of the protocol's headings before it closes ends at that heading (the model forgot to close
    it), and one that never closes runs to the end of the text (truncated output)."""
    fences: list[_Fence] = []
    headings: list[_Heading] = []
    pos = 0
    while pos <= len(text):
        opening = _FENCE_OPEN.search(text, pos)
        stop = opening.start() if opening else len(text)
        for m in _HEADING.finditer(text, pos, stop):
            key = _heading_key(m.group("name"))
            if key:
                headings.append(_Heading(key, m.start(), m.end(), (m.group("inline") or "").strip()))
        if not opening:
            break
        lang = opening.group("lang").lower()
        body_start = opening.end()
        close = text.find("```", body_start)
        limit = close if close >= 0 else len(text)
        if lang not in ("json", "javascript"):
            cut = next((m.start() for m in _HEADING.finditer(text, body_start, limit) if _heading_key(m.group("name"))), None)
            if cut is not None:
                fences.append(_Fence(lang, opening.start(), body_start, cut, cut, False, True))
                pos = cut
                continue
        if close < 0:
            fences.append(_Fence(lang, opening.start(), body_start, len(text), len(text), False))
            break
        fences.append(_Fence(lang, opening.start(), body_start, close, close + 3, True))
        pos = close + 3
    return fences, headings


def _shift(f: _Fence, by: int) -> _Fence:
    return _Fence(f.lang, f.start + by, f.body_start + by, f.body_end + by, f.end + by, f.closed, f.cut_at_heading)


def _is_latex(fence: _Fence, text: str) -> bool:
    if fence.lang in ("latex", "tex"):
        return True
    return fence.lang == "" and bool(_LATEX_HINT.search(text[fence.body_start : fence.body_end]))


def _is_json(fence: _Fence, text: str) -> bool:
    if fence.lang in ("json", "javascript"):
        return True
    return fence.lang == "" and text[fence.body_start : fence.body_end].lstrip()[:1] in ("[", "{")


# ---------------------------------------------------------------------------------------------
# JSON lists (lenient, salvaging truncated lists)


def _loads(text: str) -> tuple[Any, str | None]:
    from cyclebench.protocols.aiscientist import loads_lenient

    return loads_lenient(text)


def read_json_list(text: str) -> tuple[list[Any] | None, str | None, bool]:
    """A JSON list from model text: ``(items, problem, salvaged)``.

    Tries the whole text (leniently: trailing commas, Python literals, raw control characters); when that
    fails, salvages the complete elements of a list cut short (a truncated output), ``salvaged`` true. A
    single object is read as a one-item list. ``items`` is None when nothing could be read."""
    body = text.strip()
    if not body:
        return None, "empty", False
    start = min((i for i in (body.find("["), body.find("{")) if i >= 0), default=-1)
    if start < 0:
        return None, f"no JSON list in {snippet(body)}", False
    body = body[start:]
    value, error = _loads(body)
    if error is None:
        if isinstance(value, list):
            return value, None, False
        if isinstance(value, dict):
            return [value], None, False
        return None, f"JSON is a {type(value).__name__}, not a list", False
    if body[0] != "[":
        return None, f"invalid JSON object: {error}", False
    decoder = json.JSONDecoder(strict=False)
    items: list[Any] = []
    i = 1
    while True:
        while i < len(body) and body[i] in " \t\r\n,":
            i += 1
        if i >= len(body) or body[i] == "]":
            break
        try:
            item, i = decoder.raw_decode(body, i)
        except json.JSONDecodeError:
            break
        items.append(item)
    if not items:
        return None, f"invalid JSON: {error}", False
    return items, f"kept {len(items)} complete item(s) before the text breaks off ({error})", True


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, ensure_ascii=False)


def _read_setup(items: Sequence[Any], problems: list[str]) -> tuple[ExperimentSpec, ...]:
    out = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            problems.append(problem("setup_item_invalid", f"item {i} is a {type(item).__name__}"))
            continue
        name = _as_text(item.get("name"))
        if not name:
            problems.append(problem("setup_item_invalid", f"item {i} has no name"))
            continue
        out.append(ExperimentSpec(name=name, description=_as_text(item.get("description")) or ""))
    return tuple(out)


_RESULT_KINDS = ("table", "image", "text")


def _read_results(items: Sequence[Any], problems: list[str]) -> tuple[ExperimentResult, ...]:
    out = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            problems.append(problem("results_item_invalid", f"item {i} is a {type(item).__name__}"))
            continue
        name = _as_text(item.get("name"))
        if not name:
            problems.append(problem("results_item_invalid", f"item {i} has no name"))
            continue
        result = item.get("result", {k: item[k] for k in (*_RESULT_KINDS, "description") if k in item})
        if isinstance(result, str):
            out.append(ExperimentResult(name=name, kind="text", content=result.strip()))
            continue
        if not isinstance(result, Mapping):
            problems.append(problem("results_item_invalid", f"item {i} ({name!r}) has no result"))
            continue
        kind = next((k for k in _RESULT_KINDS if result.get(k) is not None), None)
        if kind is None:
            problems.append(problem("results_item_invalid", f"item {i} ({name!r}): result has no table, image or text"))
            continue
        out.append(ExperimentResult(name=name, kind=kind, content=_as_text(result[kind]) or "",
                                    description=_as_text(result.get("description")) or ""))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# LaTeX of part 1


def _braced(text: str, open_at: int) -> tuple[str, bool]:
    """Content of the brace group opening at ``text[open_at] == "{"``; (content so far, False) if unclosed."""
    end = group_end(text, open_at)
    if end < 0:
        return text[open_at + 1 :], False
    return text[open_at + 1 : end - 1], True


_TITLE = re.compile(r"\\title\s*(?:\[[^\]]*\])?\s*\{")
_BEGIN_ABSTRACT = re.compile(r"\\begin\s*\{abstract\}")
_END_ABSTRACT = re.compile(r"\\end\s*\{abstract\}")


def _read_part1_latex(latex: str, problems: list[str]) -> tuple[str | None, str | None, str | None]:
    title = abstract = None
    body_from = 0
    m = _TITLE.search(latex)
    if m:
        content, closed = _braced(latex, m.end() - 1)
        title = " ".join(content.split()) or None
        if not closed:
            problems.append(problem("title_unclosed", "\\title{ never closes"))
            return title, None, None
        body_from = m.end() + len(content) + 1
    if title is None:
        problems.append(problem("title_missing", "no \\title{...} in the LaTeX block"))
    b = _BEGIN_ABSTRACT.search(latex)
    if b:
        e = _END_ABSTRACT.search(latex, b.end())
        if e is None:
            abstract = latex[b.end() :].strip() or None
            problems.append(problem("abstract_unclosed", "\\begin{abstract} never ends (truncated)"))
            return title, abstract, None
        abstract = latex[b.end() : e.start()].strip() or None
        body_from = max(body_from, e.end())
    if abstract is None:
        problems.append(problem("abstract_missing", "no \\begin{abstract} ... \\end{abstract}"))
    body = latex[body_from:].strip() or None
    if body is None:
        problems.append(problem("latex_body_missing", "nothing after the abstract in the LaTeX block"))
    return title, abstract, body


_CLEARPAGE = re.compile(r"\\clearpage\b")


def _cut_clearpage(latex: str) -> str:
    m = _CLEARPAGE.search(latex)
    return latex[: m.start()] if m else latex


# ---------------------------------------------------------------------------------------------
# The parser


def _read_score(key: str, raw: str | None, problems: list[str]) -> int | None:
    if raw is None:
        problems.append(problem(f"{key}_missing"))
        return None
    reading = parse_score(raw, *SCORE_RANGE, field=key)
    if reading.problem and reading.problem.startswith(f"{key}_unparseable"):
        # "Score: 8", "I rate it 8/10": the first number of a short first line.
        first = raw.strip().split("\n", 1)[0]
        loose = re.search(r"(?<![\d.])(\d{1,2})(?:\s*/\s*10)?(?![\d.])", first) if len(first) <= 60 else None
        if loose:
            reading = parse_score(loose.group(1), *SCORE_RANGE, field=key)
    if reading.problem:
        problems.append(reading.problem)
        return None
    value = reading.value
    if value != int(value):
        problems.append(problem(f"{key}_not_integer", f"{value:g}"))
        return None
    return int(value)


def _status(paper_fields: Mapping[str, Any]) -> ParseStatus:
    text_fields = ("title", "abstract", "latex_body", "experiments_latex")
    if not any(paper_fields[f] for f in text_fields):
        return "failed"
    required = (*text_fields, "motivation", "main_idea", *SCORE_FIELDS, "setup", "results")
    return "ok" if all(paper_fields[f] not in (None, ()) for f in required) else "partial"


def parse_generation(part1: str, part2: str | None = None, paper_id: str = "") -> GeneratedPaper:
    """Read a CycleResearcher output into a :class:`GeneratedPaper`. Never raises on text.

    ``part1`` is the first assistant turn. ``part2`` is everything after it: the second assistant turn,
    optionally preceded by the ``## Experimental_results`` block (the results turn of the conversation, or
    what a one-pass generation writes itself). A single text that runs through the results into the final
    LaTeX (the original's ``ignore_eos`` generation) may also be passed as ``part1`` alone.

    ``status``: "ok" when every part was read (outline, title, abstract, both LaTeX parts, setup and
    results), "failed" when no paper text at all was read (no title, abstract or LaTeX), "partial" otherwise.
    ``problems`` names each part that was missing, truncated or malformed; a list cut short keeps its
    complete items (``*_json_truncated``).
    """
    problems: list[str] = []
    if not isinstance(part1, str) or (part2 is not None and not isinstance(part2, str)):
        return GeneratedPaper(paper_id=paper_id, status="failed", problems=(problem("not_text", "part1/part2 must be strings"),))
    if not part1.strip() and not (part2 or "").strip():
        return GeneratedPaper(paper_id=paper_id, status="failed", problems=(problem("empty_output"),))
    sep = "\n\n"
    text = part1 if part2 is None else part1 + sep + part2
    part2_start = None if part2 is None else len(part1) + len(sep)
    # Each part is scanned on its own: a block left open at the end of part 1 (truncated) must not run on
    # into part 2.
    fences, headings = _scan(part1)
    if part2 is not None:
        assert part2_start is not None
        more_fences, more_headings = _scan(part2)
        fences += [_shift(f, part2_start) for f in more_fences]
        headings += [_Heading(h.key, h.start + part2_start, h.end + part2_start, h.inline) for h in more_headings]

    first: dict[str, _Heading] = {}
    for h in headings:
        if h.key in first:
            problems.append(problem("section_repeated", f"{h.key}; the first is read"))
        else:
            first[h.key] = h
    bounds = sorted({h.start for h in headings} | {f.start for f in fences} | {len(text)})

    def prose(h: _Heading) -> str:
        nxt = next(b for b in bounds if b >= h.end)
        body = text[h.end : nxt].strip()
        return (h.inline + ("\n" + body if body else "")).strip() if h.inline else body

    def section_end(h: _Heading) -> int:
        return next((x.start for x in headings if x.start > h.start), len(text))

    # Outline
    motivation = prose(first["motivation"]) if "motivation" in first else None
    main_idea = prose(first["main_idea"]) if "main_idea" in first else None
    if not motivation:
        problems.append(problem("motivation_missing"))
        motivation = None
    if not main_idea:
        problems.append(problem("main_idea_missing"))
        main_idea = None
    scores = {k: _read_score(k, prose(first[k]) if k in first else None, problems) for k in SCORE_FIELDS}

    # Part 1 LaTeX: the first LaTeX block before the setup / results / part 2.
    limits = [first[k].start for k in ("setup", "results") if k in first]
    if part2_start is not None:
        limits.append(part2_start)
    part1_end = min(limits, default=len(text))
    title = abstract = latex_body = None
    p1_fence = next((f for f in fences if f.start < part1_end and _is_latex(f, text)), None)
    p1_latex_end = 0
    if p1_fence is None:
        raw = text[:part1_end]
        m = _TITLE.search(raw) or _BEGIN_ABSTRACT.search(raw)
        if m:
            problems.append(problem("latex_fence_missing", "LaTeX written without a ```latex fence"))
            cut = min([h.start for h in headings if h.start > m.start()] + [part1_end])
            title, abstract, latex_body = _read_part1_latex(raw[m.start() : cut], problems)
            p1_latex_end = cut
        else:
            problems.append(problem("latex_missing", "no LaTeX block with the title, abstract and sections"))
    else:
        if not p1_fence.closed:
            why = "ends at the next heading" if p1_fence.cut_at_heading else "output ends inside it (truncated)"
            problems.append(problem("latex_fence_unclosed", why))
        title, abstract, latex_body = _read_part1_latex(text[p1_fence.body_start : p1_fence.body_end], problems)
        p1_latex_end = p1_fence.end

    # Setup and results: the first JSON block of each section.
    def json_section(key: str, fallback_index: int = 0) -> tuple[list[Any] | None, int]:
        h = first[key]
        end = section_end(h)
        blocks = [f for f in fences if h.end <= f.start < end and _is_json(f, text)]
        if len(blocks) > fallback_index:
            f = blocks[fallback_index]
            body, block_end = text[f.body_start : f.body_end], f.end
            if not f.closed:
                problems.append(problem(f"{key}_json_unclosed", "output ends inside the JSON block"))
        else:
            if fallback_index:
                return None, h.end
            body = prose(h)
            block_end = end if body else h.end
            if not body:
                problems.append(problem(f"{key}_json_missing", "no JSON block under the heading"))
                return None, block_end
            problems.append(problem(f"{key}_json_fence_missing", "JSON written without a ```json fence"))
        items, why, salvaged = read_json_list(body)
        if items is None:
            problems.append(problem(f"{key}_json_invalid", why or ""))
        elif salvaged:
            problems.append(problem(f"{key}_json_truncated", why or ""))
        return items, block_end

    setup: tuple[ExperimentSpec, ...] = ()
    results: tuple[ExperimentResult, ...] = ()
    region_start = max(p1_latex_end, part2_start or 0)
    if "setup" in first:
        items, block_end = json_section("setup")
        region_start = max(region_start, block_end)
        if items is not None:
            setup = _read_setup(items, problems)
            if not setup:
                problems.append(problem("setup_empty", "the JSON list holds no experiment"))
    else:
        problems.append(problem("setup_missing", "no ## Experimental Setup section"))
    have_results_block = False
    if "results" in first:
        have_results_block = True
        items, block_end = json_section("results")
        region_start = max(region_start, block_end)
        if items is not None:
            results = _read_results(items, problems)
            if not results:
                problems.append(problem("results_empty", "the JSON list holds no result"))
    elif "setup" in first:
        # The original reader's fallback: a second JSON block under the setup heading holds the results.
        items, block_end = json_section("setup", fallback_index=1)
        if items is not None:
            have_results_block = True
            problems.append(problem("results_heading_missing", "results read from the second JSON block of the setup"))
            region_start = max(region_start, block_end)
            results = _read_results(items, problems)
    if not have_results_block:
        problems.append(problem("results_missing", f"no {RESULTS_HEADING} block"))

    # Part 2 LaTeX: the LaTeX blocks after the results (or, given part 2, in part 2 after its results block).
    experiments_latex = None
    if part2_start is not None or have_results_block:
        region = [f for f in fences if f.start >= region_start and f is not p1_fence and _is_latex(f, text)]
        if region:
            experiments_latex = "\n\n".join(
                _cut_clearpage(text[f.body_start : f.body_end]).strip() for f in region
            ).strip() or None
            if not region[-1].closed:
                problems.append(problem("experiments_fence_unclosed", "output ends inside the final LaTeX block (truncated or stopped at \\clearpage)"))
        else:
            rest = text[region_start:]
            if _LATEX_HINT.search(rest):
                experiments_latex = _cut_clearpage(rest.replace("```latex", "").replace("```", "")).strip() or None
                problems.append(problem("experiments_fence_missing", "final LaTeX written without a ```latex fence"))
        if experiments_latex is None:
            problems.append(problem("experiments_latex_missing", "no LaTeX after the experimental results"))
    else:
        problems.append(problem("experiments_latex_missing", "no part 2"))

    has_outline = any(v is not None for v in (motivation, main_idea, *scores.values()))
    outline = PaperOutline(motivation=motivation or "", main_idea=main_idea or "", **scores) if has_outline else None
    fields = {
        "title": title, "abstract": abstract, "latex_body": latex_body, "experiments_latex": experiments_latex,
        "motivation": motivation, "main_idea": main_idea, **scores, "setup": setup, "results": results,
    }
    return GeneratedPaper(
        paper_id=paper_id,
        status=_status(fields),
        problems=tuple(problems),
        outline=outline,
        title=title,
        abstract=abstract,
        latex_body=latex_body,
        experiments_latex=experiments_latex,
        setup=setup,
        results=results,
    )


def split_at_results(text: str) -> tuple[str, str] | None:
    """``(part 1, the rest)`` when ``text`` already holds an ``## Experimental_results`` heading outside its
    fenced blocks (a model that wrote through the end of its turn, as the original one-pass generation
    does), else None."""
    _fences, headings = _scan(text)
    at = next((h.start for h in headings if h.key == "results"), None)
    return None if at is None else (text[:at].rstrip(), text[at:])


def parse_training_messages(messages: Sequence[Mapping[str, str]], paper_id: str = "") -> GeneratedPaper:
    """Read the assistant turns of a 5-turn training record (and the results turn between them) back."""
    if len(messages) != 5 or [m.get("role") for m in messages] != ["system", "user", "assistant", "user", "assistant"]:
        raise ValueError("expected 5 turns: system, user, assistant, user, assistant")
    return parse_generation(messages[2]["content"], messages[3]["content"] + "\n\n" + messages[4]["content"], paper_id)


# ---------------------------------------------------------------------------------------------
# Writer (training records)

_HEADING_TITLES = {
    "motivation": "Motivation", "main_idea": "Main Idea", "interestingness": "Interestingness",
    "feasibility": "Feasibility", "novelty": "Novelty",
}


def _check_text(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{where} is missing")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, not {type(value).__name__}")
    value = value.strip()
    if "```" in value:
        raise ValueError(f"{where} holds ``` which would end its fenced block")
    for m in _HEADING.finditer(value):
        if _heading_key(m.group("name")):
            raise ValueError(f"{where} has a line that reads as a section heading: {m.group(0)!r}")
    return value


def _check_score(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
        raise ValueError(f"{where} must be an integer in 0..10, not {value!r}")
    return value


def _json_block(items: list[Any]) -> str:
    # A backtick inside a JSON string is written as \u0060 (same JSON value) so that "```" in a table or
    # description cannot close the fence early.
    return "```json\n" + json.dumps(items, indent=2, ensure_ascii=False).replace("`", "\\u0060") + "\n```"


def setup_json(setup: Iterable[ExperimentSpec]) -> list[dict[str, str]]:
    return [{"name": s.name, "description": s.description} for s in setup]


def results_json(results: Iterable[ExperimentResult]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        result: dict[str, str] = {r.kind: r.content}
        if r.description:
            result["description"] = r.description
        out.append({"name": r.name, "result": result})
    return out


def _check_title(title: Any) -> str:
    title = _check_text(title, "paper.title")
    assert title is not None
    title = " ".join(title.split())
    content, closed = _braced("{" + title + "}", 0)
    if not closed or content != title:
        raise ValueError(f"paper.title has unbalanced braces: {title!r}")
    return title


def format_part1(outline: PaperOutline, paper: GeneratedPaper) -> str:
    """The first assistant turn: outline sections, the part-1 LaTeX block, the setup JSON."""
    parts = [
        f"## Motivation\n\n{_check_text(outline.motivation, 'outline.motivation')}",
        f"## Main Idea\n\n{_check_text(outline.main_idea, 'outline.main_idea')}",
    ]
    for key in SCORE_FIELDS:
        value = _check_score(getattr(outline, key), f"outline.{key}")
        if value is not None:
            parts.append(f"## {_HEADING_TITLES[key]}\n\n{value}")
    abstract = _check_text(paper.abstract, "paper.abstract")
    if _END_ABSTRACT.search(abstract or ""):
        raise ValueError("paper.abstract holds \\end{abstract}")
    latex = (f"\\title{{{_check_title(paper.title)}}}\n\n\\begin{{abstract}}\n{abstract}\n\\end{{abstract}}\n\n"
             f"{_check_text(paper.latex_body, 'paper.latex_body')}")
    parts.append(f"```latex\n{latex}\n```")
    parts.append(f"## Experimental Setup\n\n{_json_block(setup_json(paper.setup))}")
    return "\n\n".join(parts)


def format_results_turn(results: Iterable[ExperimentResult] | list[Any]) -> str:
    """The user turn between the two parts: ``## Experimental_results`` and the results as a JSON list."""
    items = list(results)
    rows = results_json(items) if all(isinstance(r, ExperimentResult) for r in items) else items
    return f"{RESULTS_HEADING}\n\n{_json_block(rows)}"


def format_part2(paper: GeneratedPaper) -> str:
    """The second assistant turn: the final LaTeX block (experiments, discussion, conclusion)."""
    latex = _check_text(paper.experiments_latex, "paper.experiments_latex")
    if _CLEARPAGE.search(latex or ""):
        raise ValueError("paper.experiments_latex holds \\clearpage, where generation stops")
    return f"```latex\n{latex}\n```"


def format_training_messages(topic: str, bibtex: str, outline: PaperOutline, paper: GeneratedPaper) -> list[Message]:
    """The 5-turn training record: system, user (topic + references), assistant (part 1), user
    (``## Experimental_results`` + JSON), assistant (part 2).

    Texts are written stripped. Raises ``ValueError`` (with the field named) for what the format cannot hold
    without being misread: a missing part, ```` ``` ```` inside a text, a line that reads as one of the
    protocol's headings, unbalanced braces in the title, ``\\end{abstract}`` in the abstract, a score that is
    not an integer in 0..10, or ``\\clearpage`` in part 2. :func:`parse_training_messages` reads back the same
    fields (outline method excepted: the record does not carry it)."""
    return [
        *build_generation_messages(topic, bibtex),
        {"role": "assistant", "content": format_part1(outline, paper)},
        {"role": "user", "content": format_results_turn(paper.results)},
        {"role": "assistant", "content": format_part2(paper)},
    ]


__all__ = [
    "DEFAULT_SAMPLING",
    "RESULTS_HEADING",
    "SYSTEM_PROMPT",
    "USER_INSTRUCTION",
    "build_generation_messages",
    "default_sampling",
    "format_part1",
    "format_part2",
    "format_results_turn",
    "format_training_messages",
    "parse_generation",
    "parse_training_messages",
    "read_json_list",
    "results_json",
    "setup_json",
    "split_at_results",
]
