"""The research outline behind a paper: motivation, main idea, scores, experimental setup and results.

A Research-14K record teaches the generator to write, before the paper, the outline that led to it
(REFERENCE 1.3). The published dataset had an LLM (Mistral-Large-2) extract it; here the stage has two
implementations with one output (``ResearchOutline``: a ``PaperOutline`` plus the setup and results):

``OutlineFromSections`` (method ``from-sections-v1``): deterministic and offline, read off the paper's
own text, so it is exactly reproducible and needs no model. What it takes, and from where:

* motivation: the Introduction (the first section when none is so named) up to its first contribution
  sentence ("In this paper we propose ..."), cut at a sentence end by 1,200 characters; when that is
  shorter than a third of 500 characters, its leading paragraphs up to 500; without an introduction,
  the first three sentences of the abstract;
* main idea: up to three sentences of the abstract (then the introduction) that state a contribution
  ("we propose ...", "this paper introduces ...", "our method ..."), at most 1,000 characters; without
  such a sentence, the abstract's second to fourth sentences;
* experimental setup: one ``{name, description}`` per subsection of the experiments part (name = the
  heading, description = its first prose paragraph cut at a sentence end by 600 characters), or per
  experiments section when it has no subsections;
* experimental results: one entry per table or figure placed in the experiments part: a table's rows
  (``| a | b |`` lines) or ``Figure N`` for an image, with the caption as description;
* interestingness, feasibility, novelty: not judged. They are ``None`` unless a fixed prior is
  configured (``scores=(i, f, n)``, then the method reads ``from-sections-v1+fixed-scores``): a text
  cannot say how novel it is, and a made-up number would teach the generator to always say it.

``OutlineByModel`` (method ``model:<backend>/<model>``): asks a model through ``cyclebench.backends``
with the prompt below, parses its answer with ``parse_outline_answer`` (every missing or malformed
part named), and leaves nothing to guess: an answer that does not parse is a counted reject.

The model prompt (``outline_messages``): the system turn says what to extract and gives the exact
answer format; the user turn holds the title, the abstract and the paper's sections (cut at
``max_paper_chars`` characters, 60,000 by default, so long papers fit a 32K-token context)::

    ## Motivation
    <why the problem matters and what existing work leaves open>
    ## Main Idea
    <the core idea of the method>
    ## Interestingness
    <integer 1-10>
    ## Feasibility
    <integer 1-10>
    ## Novelty
    <integer 1-10>
    ## Experimental Setup
    ```json
    [{"name": "...", "description": "..."}]
    ```
    ## Experimental_results
    ```json
    [{"name": "...", "result": {"table": "...", "description": "..."}}]
    ```

Sampling: temperature 0 (the outline is an extraction, not a creative turn), max 4,096 new tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cyclebench.builders.paper_extract import ExtractedPaper, PaperFigure, PaperSection
from cyclebench.records import ExperimentResult, ExperimentSpec, PaperOutline

OFFLINE_METHOD = "from-sections-v1"

# ---------------------------------------------------------------------------------------------
# The paper's two parts


_EXPERIMENT_RE = re.compile(
    r"\b(?:experiments?|experimental|evaluations?|empirical|results|case stud(?:y|ies)|numerical|"
    r"benchmarks?|benchmarking|simulations?|ablations?)\b",
    re.IGNORECASE,
)
_CLOSING_RE = re.compile(
    r"\b(?:conclusions?|concluding|discussion|summary|limitations?|future work|outlook)\b", re.IGNORECASE
)
_STATEMENT_RE = re.compile(
    r"\b(?:ethics|reproducibility|broader impacts?|impact statement|author contributions?|funding|disclosure)\b",
    re.IGNORECASE,
)
_NOT_EXPERIMENT_RE = re.compile(r"\b(?:theor\w*|related|background|preliminar\w*)\b", re.IGNORECASE)

SplitRule = Literal["experiments", "conclusion-only"]


@dataclass(frozen=True, slots=True)
class PaperParts:
    """Which sections go to part 1 (intro, related work, method) and part 2 (experiments onwards).

    Indices point into ``ExtractedPaper.sections``; appendix and statement sections (ethics,
    reproducibility, broader impact, ...) are in neither part.
    """

    part1: tuple[int, ...]
    part2: tuple[int, ...]
    experiments: tuple[int, ...]  # the part-2 sections before the first closing (conclusion) section
    rule: SplitRule
    dropped_statements: int = 0


def split_parts(sections: Sequence[PaperSection]) -> PaperParts | None:
    """Split at the first top-level experiments section (not the first section); without one, at the
    first top-level closing section (conclusion, discussion, ...). None when neither exists."""
    body = [i for i, s in enumerate(sections) if not s.appendix]
    headed = [i for i in body if sections[i].heading]
    if not headed:
        return None
    top = min(sections[i].level for i in headed)
    tops = [i for i in headed if sections[i].level == top]
    statements = _statement_sections(sections, body)

    def first(pattern: re.Pattern[str], exclude: re.Pattern[str] | None = None) -> int | None:
        for i in tops[1:]:
            heading = sections[i].heading
            if i not in statements and pattern.search(heading) and not (exclude and exclude.search(heading)):
                return i
        return None

    split = first(_EXPERIMENT_RE, _NOT_EXPERIMENT_RE)
    rule: SplitRule = "experiments"
    if split is None:
        split = first(_CLOSING_RE)
        rule = "conclusion-only"
    if split is None:
        return None
    part1 = tuple(i for i in body if i < split and i not in statements)
    part2 = tuple(i for i in body if i >= split and i not in statements)
    experiments: tuple[int, ...] = ()
    if rule == "experiments":
        closing = next((i for i in tops if i > split and _CLOSING_RE.search(sections[i].heading)
                        and not _EXPERIMENT_RE.search(sections[i].heading)), None)
        experiments = tuple(i for i in part2 if closing is None or i < closing)
    return PaperParts(part1, part2, experiments, rule, len(statements))


def _statement_sections(sections: Sequence[PaperSection], body: list[int]) -> set[int]:
    """Statement sections (ethics, reproducibility, ...) and everything nested under them."""
    out: set[int] = set()
    level: int | None = None
    for i in body:
        s = sections[i]
        if s.heading and level is not None and s.level <= level:
            level = None
        if s.heading and level is None and _STATEMENT_RE.search(s.heading):
            level = s.level
        if level is not None:
            out.add(i)
    return out


# ---------------------------------------------------------------------------------------------
# Text helpers


_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "Fig.", "Figs.", "Eq.", "Eqs.", "Sec.", "Secs.", "vs.", "cf.",
                  "resp.", "approx.", "Tab.", "Ref.", "Refs.", "No.", "Dr.", "Prof.", "etc.)")


def sentences(text: str) -> list[str]:
    """Sentences of a prose paragraph (split after . ! ? before a capital, bracket or math; common
    abbreviations such as "e.g." and "et al." do not end a sentence)."""
    flat = re.sub(r"\s+", " ", text).strip()
    if not flat:
        return []
    pieces = re.split(r"(?<=[.!?])\s+(?=[A-Z\[($\\])", flat)
    out: list[str] = []
    for piece in pieces:
        if out and out[-1].endswith(_ABBREVIATIONS):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def _cut(text: str, limit: int) -> str:
    """Whole sentences up to ``limit`` characters (at least one sentence)."""
    out: list[str] = []
    total = 0
    for s in sentences(text):
        if out and total + len(s) + 1 > limit:
            break
        out.append(s)
        total += len(s) + 1
    return " ".join(out)


def prose_paragraphs(text: str) -> list[str]:
    """Paragraphs that are prose: not display math, code, floats, table rows or list items."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        p = para.strip()
        if not p or p.startswith(("$$", "```", "| ", "- ")) or re.match(r"^(?:Figure|Table|Algorithm) \d+[:.]", p):
            continue
        if len(re.sub(r"\$[^$]*\$", "", p)) < 40:
            continue
        out.append(re.sub(r"\s*\n\s*", " ", p))
    return out


_CONTRIBUTION_RE = re.compile(
    r"\b(?:we|this (?:paper|work|article|study)|our (?:method|approach|framework|model|work|algorithm|analysis))\b"
    r"[^.]{0,80}?\b(?:propose|introduce|present|develop|design|formulate|derive|show|demonstrate|study|"
    r"investigate|provide|establish|prove|extend|generali[sz]e)\w*",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Outlines


@dataclass(frozen=True, slots=True)
class ResearchOutline:
    """The outline turn of a record: ``PaperOutline`` plus the experiments it plans and their results."""

    outline: PaperOutline
    setup: tuple[ExperimentSpec, ...]
    results: tuple[ExperimentResult, ...]


@dataclass(frozen=True)
class OutlineFromSections:
    """Deterministic, offline outline read off the paper's own sections (see the module docstring)."""

    scores: tuple[int, int, int] | None = None
    motivation_min_chars: int = 500
    motivation_max_chars: int = 1200
    main_idea_max_chars: int = 1000
    setup_max_chars: int = 600

    def __post_init__(self) -> None:
        if self.scores is not None and (
            len(self.scores) != 3 or not all(isinstance(x, int) and 1 <= x <= 10 for x in self.scores)
        ):
            raise ValueError(f"scores must be three integers in 1..10 (interestingness, feasibility, novelty), got {self.scores}")

    @property
    def method(self) -> str:
        return OFFLINE_METHOD + ("+fixed-scores" if self.scores else "")

    def outline(self, paper: ExtractedPaper, parts: PaperParts, abstract: str) -> ResearchOutline:
        sections = paper.sections
        intro = next((sections[i] for i in parts.part1 if re.search(r"introduction", sections[i].heading, re.IGNORECASE)), None)
        if intro is None and parts.part1:
            intro = sections[parts.part1[0]]
        intro_paras = prose_paragraphs(intro.text) if intro else []
        motivation = self._motivation(intro_paras, abstract)
        main_idea = self._main_idea(abstract, intro_paras)
        i, f, n = self.scores if self.scores else (None, None, None)
        outline = PaperOutline(motivation=motivation, main_idea=main_idea, interestingness=i, feasibility=f,
                               novelty=n, method=self.method)
        return ResearchOutline(outline, self._setup(sections, parts), experiment_results(paper.figures, parts))

    def _motivation(self, paras: list[str], abstract: str) -> str:
        """The introduction up to its first contribution sentence ("In this paper we propose ..."), which
        belongs to the main idea; when that leaves too little, whole leading paragraphs."""
        before: list[str] = []
        for s in (s for p in paras for s in sentences(p)):
            if _CONTRIBUTION_RE.search(s):
                break
            before.append(s)
        text = " ".join(before)
        if len(text) < self.motivation_min_chars // 3:
            taken: list[str] = []
            for p in paras:
                taken.append(p)
                if sum(len(t) for t in taken) >= self.motivation_min_chars:
                    break
            text = " ".join(taken)
        if not text:
            return " ".join(sentences(abstract)[:3])
        return _cut(text, self.motivation_max_chars)

    def _main_idea(self, abstract: str, intro_paras: list[str]) -> str:
        picked: list[str] = []
        for s in sentences(abstract) + [s for p in intro_paras for s in sentences(p)]:
            if _CONTRIBUTION_RE.search(s) and s not in picked:
                picked.append(s)
            if len(picked) == 3:
                break
        if not picked:
            picked = sentences(abstract)[1:4] or sentences(abstract)[:1]
        return _cut(" ".join(picked), self.main_idea_max_chars)

    def _setup(self, sections: Sequence[PaperSection], parts: PaperParts) -> tuple[ExperimentSpec, ...]:
        span = list(parts.experiments)
        if not span:
            return ()
        top = min(sections[i].level for i in span if sections[i].heading) if any(sections[i].heading for i in span) else 1
        subs = [i for i in span if sections[i].heading and sections[i].level == top + 1]
        chosen = subs or [i for i in span if sections[i].heading and sections[i].level == top]
        out = []
        for i in chosen:
            desc = self._first_paragraph(sections, i, span)
            if desc:
                out.append(ExperimentSpec(name=sections[i].heading, description=_cut(desc, self.setup_max_chars)))
        return tuple(out)

    @staticmethod
    def _first_paragraph(sections: Sequence[PaperSection], i: int, span: list[int]) -> str:
        """The first prose paragraph of section ``i``, else of its first subsection with one."""
        paras = prose_paragraphs(sections[i].text)
        if paras:
            return paras[0]
        for j in span:
            if j > i and sections[j].level > sections[i].level:
                paras = prose_paragraphs(sections[j].text)
                if paras:
                    return paras[0]
            elif j > i:
                break
        return ""


def experiment_results(figures: Sequence[PaperFigure], parts: PaperParts) -> tuple[ExperimentResult, ...]:
    """Tables (with their rows) and figures placed in the experiments part, in paper order."""
    span = set(parts.experiments)
    out = []
    for fig in (f for f in figures if f.section in span):  # document order
        name = f"{'Table' if fig.kind == 'table' else 'Figure'} {fig.number}".strip()
        if fig.kind == "table":
            out.append(ExperimentResult(name=name, kind="table", content=fig.content, description=fig.caption))
        else:
            out.append(ExperimentResult(name=name, kind="image", content=name, description=fig.caption))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The model outline


OUTLINE_SYSTEM_PROMPT = """\
You read a published research paper and write down the research outline behind it, as its authors \
would have written it before running their experiments: why the problem matters, the core idea, how \
interesting, feasible and novel the idea is (integers from 1 to 10), the experiments that test it, and \
what those experiments found. Use only what the paper says. Answer in exactly this format and nothing else:

## Motivation
<why the problem matters and what existing work leaves open>
## Main Idea
<the core idea of the method>
## Interestingness
<integer 1-10>
## Feasibility
<integer 1-10>
## Novelty
<integer 1-10>
## Experimental Setup
```json
[{"name": "<experiment>", "description": "<data, models, baselines, metrics>"}]
```
## Experimental_results
```json
[{"name": "<experiment>", "result": {"table": "<the numbers, as a markdown table>", "description": "<what they show>"}}]
```
For a result shown as a plot, write {"image": "<what the plot shows>", "description": "..."} instead of "table"."""

OUTLINE_SAMPLING: dict[str, Any] = {"temperature": 0.0, "max_tokens": 4096}


def paper_markdown(paper: ExtractedPaper, title: str, abstract: str, max_chars: int) -> str:
    """Title, abstract and body sections as markdown, cut at ``max_chars`` (the appendix is left out)."""
    out = [f"# {title}", "## Abstract", abstract]
    for s in paper.sections:
        if s.appendix:
            continue
        if s.heading:
            out.append("#" * min(6, s.level + 1) + " " + f"{s.number} {s.heading}".strip())
        out.append(s.text)
    text = "\n\n".join(x for x in out if x)
    if len(text) > max_chars:
        text = text[:max_chars].rsplit("\n", 1)[0] + "\n\n[... paper cut here ...]"
    return text


def outline_messages(paper: ExtractedPaper, title: str, abstract: str, max_chars: int = 60_000) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": OUTLINE_SYSTEM_PROMPT},
        {"role": "user", "content": paper_markdown(paper, title, abstract, max_chars)},
    ]


@dataclass(frozen=True, slots=True)
class OutlineParse:
    outline: ResearchOutline | None
    problems: tuple[str, ...] = ()


_HEADINGS = ("Motivation", "Main Idea", "Interestingness", "Feasibility", "Novelty", "Experimental Setup",
             "Experimental_results")


def _blocks(text: str) -> dict[str, str]:
    """``## Heading`` -> the text under it, for the headings of the answer format."""
    pattern = re.compile(r"^\s*#{2,3}\s*(" + "|".join(re.escape(h) for h in _HEADINGS) + r")\s*:?\s*$",
                         re.MULTILINE | re.IGNORECASE)
    marks = list(pattern.finditer(text))
    out: dict[str, str] = {}
    canon = {h.lower(): h for h in _HEADINGS}
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        name = canon[m.group(1).lower()]
        out.setdefault(name, text[m.end() : end].strip())
    return out


def _json_list(block: str) -> Any:
    m = re.search(r"```(?:json)?\s*\n?(.*?)```", block, re.DOTALL)
    return json.loads(m.group(1) if m else block)


def parse_outline_answer(text: str, method: str) -> OutlineParse:
    """Read a model's outline answer; every part that is missing or malformed is named in ``problems``
    and then there is no outline (a partial outline would be a record the generator learns gaps from)."""
    problems: list[str] = []
    blocks = _blocks(text or "")
    for name in _HEADINGS:
        if not blocks.get(name):
            problems.append(f"{name}: missing")
    scores: dict[str, int] = {}
    for name in ("Interestingness", "Feasibility", "Novelty"):
        raw = blocks.get(name)
        if not raw:
            continue
        m = re.match(r"^\**\s*(\d{1,2})\b", raw)
        value = int(m.group(1)) if m else None
        if value is None or not 1 <= value <= 10:
            problems.append(f"{name}: not an integer in 1..10 ({raw[:20]!r})")
        else:
            scores[name] = value
    setup: list[ExperimentSpec] = []
    if blocks.get("Experimental Setup"):
        try:
            items = _json_list(blocks["Experimental Setup"])
            if not isinstance(items, list) or not items:
                raise TypeError("not a non-empty list")
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("description"), str):
                    raise TypeError("items need string name and description")
                setup.append(ExperimentSpec(item["name"], item["description"]))
        except (ValueError, TypeError) as exc:
            problems.append(f"Experimental Setup: {exc}")
    results: list[ExperimentResult] = []
    if blocks.get("Experimental_results"):
        try:
            items = _json_list(blocks["Experimental_results"])
            if not isinstance(items, list) or not items:
                raise TypeError("not a non-empty list")
            for item in items:
                result = item.get("result") if isinstance(item, dict) else None
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(result, dict):
                    raise TypeError("items need a string name and a result object")
                kind = "table" if "table" in result else "image" if "image" in result else None
                if kind is None:
                    raise ValueError("result needs a table or an image")
                results.append(ExperimentResult(item["name"], kind, str(result[kind]), str(result.get("description", ""))))
        except (ValueError, TypeError) as exc:
            problems.append(f"Experimental_results: {exc}")
    if problems:
        return OutlineParse(None, tuple(problems))
    outline = PaperOutline(
        motivation=blocks["Motivation"], main_idea=blocks["Main Idea"], interestingness=scores["Interestingness"],
        feasibility=scores["Feasibility"], novelty=scores["Novelty"], method=method,
    )
    return OutlineParse(ResearchOutline(outline, tuple(setup), tuple(results)))


class OutlineByModel:
    """Outlines from a model behind any ``cyclebench.backends`` backend (opened with ``open_backend`` and a
    cache folder, reruns are free and resumable)."""

    def __init__(self, backend: Any, *, max_paper_chars: int = 60_000, sampling: dict[str, Any] | None = None,
                 method: str | None = None):
        self.backend = backend
        self.max_paper_chars = max_paper_chars
        self.sampling = dict(OUTLINE_SAMPLING if sampling is None else sampling)
        inner = getattr(backend, "backend", backend)  # CachedBackend wraps the real one
        args = getattr(inner, "model_args", {}) or {}
        model = args.get("model") or args.get("pretrained") or ""
        self.method = method or f"model:{getattr(inner, 'name', 'backend')}" + (f"/{model}" if model else "")

    def outline_many(self, papers: Sequence[tuple[str, ExtractedPaper, str, str]]) -> list[OutlineParse]:
        """One ``OutlineParse`` per ``(paper_id, paper, title, abstract)``, in order."""
        from cyclebench.backends.base import GenerationRequest

        requests = [
            GenerationRequest(pid, tuple(outline_messages(p, title, abstract, self.max_paper_chars)), dict(self.sampling))
            for pid, p, title, abstract in papers
        ]
        responses = self.backend.generate(requests) if requests else []
        out = []
        for response in responses:
            if response.error or response.text is None:
                out.append(OutlineParse(None, (f"backend_error: {response.error}",)))
            else:
                out.append(parse_outline_answer(response.text, self.method))
        return out


__all__ = [
    "OFFLINE_METHOD",
    "OUTLINE_SYSTEM_PROMPT",
    "OutlineByModel",
    "OutlineFromSections",
    "OutlineParse",
    "PaperParts",
    "ResearchOutline",
    "experiment_results",
    "outline_messages",
    "parse_outline_answer",
    "sentences",
    "split_parts",
]
