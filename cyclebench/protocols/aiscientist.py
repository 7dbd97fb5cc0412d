"""The AI Scientist reviewer (SakanaAI/AI-Scientist, ``ai_scientist/perform_review.py``, Apache-2.0).

The model gets a NeurIPS-style review form and the paper, and answers ``THOUGHT:`` (free notes) then
``REVIEW JSON:`` and a ```` ```json ```` block with the fields Summary, Strengths, Weaknesses, Originality,
Quality, Clarity, Significance (1-4), Questions, Limitations, Ethical Concerns, Soundness, Presentation,
Contribution (1-4), Overall (1-10), Confidence (1-5), Decision (Accept/Reject).

Options: ``few_shot`` example reviews supplied by the caller (no file reading here; :func:`decode_fewshot_review`
reads the text of the original ``fewshot_examples/*.json``), ``reflections`` (total rounds, 1 = no
reflection; :func:`reflection_prompt` is the prompt of a later round), and the decision rule:
``"threshold"`` (Overall >= ``threshold``, the rule of the AI Scientist paper's reviewer benchmark, default)
or ``"text"`` (the review's own Decision field). ``decision_rule`` on the parsed review records which.

:func:`parse_review_record` reads one row of the recorded benchmark CSVs (``review_iclr_bench/llm_reviews``):
all values are strings there, lists are Python ``repr`` strings (``"['a', "b's"]"``), scores may be written
``"4.0"``, and Ethical Concerns is ``"False"``, ``"True"`` or free text.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Iterable, Mapping, Sequence

from cyclebench.protocols.base import (
    ASPECT_RANGE,
    CONFIDENCE_RANGE,
    Message,
    ReviewProtocol,
    failed,
    paper_with_title,
    parse_score,
    problem,
    read_decision,
    status_for,
)
from cyclebench.records import ParsedReview

# --- Prompts, as the original sends them (the base/neg sentences are joined without a space there too).
_SYSTEM_BASE = (
    "You are an AI researcher who is reviewing a paper that was submitted to a prestigious ML venue."
    "Be critical and cautious in your decision."
)
SYSTEM_PROMPTS = {
    "neg": _SYSTEM_BASE + "If a paper is bad or you are unsure, give it bad scores and reject it.",
    "pos": _SYSTEM_BASE + "If a paper is good or you are unsure, give it good scores and accept it.",
    "base": _SYSTEM_BASE,
}

_TEMPLATE_INSTRUCTIONS = """
Respond in the following format:

THOUGHT:
<THOUGHT>

REVIEW JSON:
```json
<JSON>
```

In <THOUGHT>, first briefly discuss your intuitions and reasoning for the evaluation.
Detail your high-level arguments, necessary choices and desired outcomes of the review.
Do not make generic comments here, but be specific to your current paper.
Treat this as the note-taking phase of your review.

In <JSON>, provide the review in JSON format with the following fields in the order:
- "Summary": A summary of the paper content and its contributions.
- "Strengths": A list of strengths of the paper.
- "Weaknesses": A list of weaknesses of the paper.
- "Originality": A rating from 1 to 4 (low, medium, high, very high).
- "Quality": A rating from 1 to 4 (low, medium, high, very high).
- "Clarity": A rating from 1 to 4 (low, medium, high, very high).
- "Significance": A rating from 1 to 4 (low, medium, high, very high).
- "Questions": A set of clarifying questions to be answered by the paper authors.
- "Limitations": A set of limitations and potential negative societal impacts of the work.
- "Ethical Concerns": A boolean value indicating whether there are ethical concerns.
- "Soundness": A rating from 1 to 4 (poor, fair, good, excellent).
- "Presentation": A rating from 1 to 4 (poor, fair, good, excellent).
- "Contribution": A rating from 1 to 4 (poor, fair, good, excellent).
- "Overall": A rating from 1 to 10 (very strong reject to award quality).
- "Confidence": A rating from 1 to 5 (low, medium, high, very high, absolute).
- "Decision": A decision that has to be one of the following: Accept, Reject.

For the "Decision" field, don't use Weak Accept, Borderline Accept, Borderline Reject, or Strong Reject. Instead, only use Accept or Reject.
This JSON will be automatically parsed, so ensure the format is precise.
"""

_ASPECT_SCALE = "  4: excellent\n  3: good\n  2: fair\n  1: poor\n"
NEURIPS_FORM = (
    """
## Review Form
Below is a description of the questions you will be asked on the review form for each paper and some guidelines on what to consider when answering these questions.
When writing your review, please keep in mind that after decisions have been made, reviews and meta-reviews of accepted papers and opted-in rejected papers will be made public.

1. Summary: Briefly summarize the paper and its contributions. This is not the place to critique the paper; the authors should generally agree with a well-written summary.
  - Strengths and Weaknesses: Please provide a thorough assessment of the strengths and weaknesses of the paper, touching on each of the following dimensions:
  - Originality: Are the tasks or methods new? Is the work a novel combination of well-known techniques? (This can be valuable!) Is it clear how this work differs from previous contributions? Is related work adequately cited
  - Quality: Is the submission technically sound? Are claims well supported (e.g., by theoretical analysis or experimental results)? Are the methods used appropriate? Is this a complete piece of work or work in progress? Are the authors careful and honest about evaluating both the strengths and weaknesses of their work
  - Clarity: Is the submission clearly written? Is it well organized? (If not, please make constructive suggestions for improving its clarity.) Does it adequately inform the reader? (Note that a superbly written paper provides enough information for an expert reader to reproduce its results.)
  - Significance: Are the results important? Are others (researchers or practitioners) likely to use the ideas or build on them? Does the submission address a difficult task in a better way than previous work? Does it advance the state of the art in a demonstrable way? Does it provide unique data, unique conclusions about existing data, or a unique theoretical or experimental approach?

2. Questions: Please list up and carefully describe any questions and suggestions for the authors. Think of the things where a response from the author can change your opinion, clarify a confusion or address a limitation. This can be very important for a productive rebuttal and discussion phase with the authors.

3. Limitations: Have the authors adequately addressed the limitations and potential negative societal impact of their work? If not, please include constructive suggestions for improvement.
In general, authors should be rewarded rather than punished for being up front about the limitations of their work and any potential negative societal impact. You are encouraged to think through whether any critical points are missing and provide these as feedback for the authors.

4. Ethical concerns: If there are ethical issues with this paper, please flag the paper for an ethics review. For guidance on when this is appropriate, please review the NeurIPS ethics guidelines.

5. Soundness: Please assign the paper a numerical rating on the following scale to indicate the soundness of the technical claims, experimental and research methodology and on whether the central claims of the paper are adequately supported with evidence.
"""
    + _ASPECT_SCALE
    + """
6. Presentation: Please assign the paper a numerical rating on the following scale to indicate the quality of the presentation. This should take into account the writing style and clarity, as well as contextualization relative to prior work.
"""
    + _ASPECT_SCALE
    + """
7. Contribution: Please assign the paper a numerical rating on the following scale to indicate the quality of the overall contribution this paper makes to the research area being studied. Are the questions being asked important? Does the paper bring a significant originality of ideas and/or execution? Are the results valuable to share with the broader NeurIPS community.
"""
    + _ASPECT_SCALE
    + """
8. Overall: Please provide an "overall score" for this submission. Choices:
  10: Award quality: Technically flawless paper with groundbreaking impact on one or more areas of AI, with exceptionally strong evaluation, reproducibility, and resources, and no unaddressed ethical considerations.
  9: Very Strong Accept: Technically flawless paper with groundbreaking impact on at least one area of AI and excellent impact on multiple areas of AI, with flawless evaluation, resources, and reproducibility, and no unaddressed ethical considerations.
  8: Strong Accept: Technically strong paper with, with novel ideas, excellent impact on at least one area of AI or high-to-excellent impact on multiple areas of AI, with excellent evaluation, resources, and reproducibility, and no unaddressed ethical considerations.
  7: Accept: Technically solid paper, with high impact on at least one sub-area of AI or moderate-to-high impact on more than one area of AI, with good-to-excellent evaluation, resources, reproducibility, and no unaddressed ethical considerations.
  6: Weak Accept: Technically solid, moderate-to-high impact paper, with no major concerns with respect to evaluation, resources, reproducibility, ethical considerations.
  5: Borderline accept: Technically solid paper where reasons to accept outweigh reasons to reject, e.g., limited evaluation. Please use sparingly.
  4: Borderline reject: Technically solid paper where reasons to reject, e.g., limited evaluation, outweigh reasons to accept, e.g., good evaluation. Please use sparingly.
  3: Reject: For instance, a paper with technical flaws, weak evaluation, inadequate reproducibility and incompletely addressed ethical considerations.
  2: Strong Reject: For instance, a paper with major technical flaws, and/or poor evaluation, limited impact, poor reproducibility and mostly unaddressed ethical considerations.
  1: Very Strong Reject: For instance, a paper with trivial results or unaddressed ethical considerations

9. Confidence:  Please provide a "confidence score" for your assessment of this submission to indicate how confident you are in your evaluation. Choices:
  5: You are absolutely certain about your assessment. You are very familiar with the related work and checked the math/other details carefully.
  4: You are confident in your assessment, but not absolutely certain. It is unlikely, but not impossible, that you did not understand some parts of the submission or that you are unfamiliar with some pieces of related work.
  3: You are fairly confident in your assessment. It is possible that you did not understand some parts of the submission or that you are unfamiliar with some pieces of related work. Math/other details were not carefully checked.
  2: You are willing to defend your assessment, but it is quite likely that you did not understand the central parts of the submission or that you are unfamiliar with some pieces of related work. Math/other details were not carefully checked.
  1: Your assessment is an educated guess. The submission is not in your area or the submission was difficult to understand. Math/other details were not carefully checked.
"""
    + _TEMPLATE_INSTRUCTIONS
)

_FEWSHOT_INTRO = """
Below are some sample reviews, copied from previous machine learning conferences.
Note that while each review is formatted differently according to each reviewer's style, the reviews are well-structured and therefore easy to navigate.
"""

_REFLECTION_PROMPT = """Round {current_round}/{num_reflections}.
In your thoughts, first carefully consider the accuracy and soundness of the review you just created.
Include any other factors that you think are important in evaluating the paper.
Ensure the review is clear and concise, and the JSON is in the correct format.
Do not make things overly complicated.
In the next attempt, try and refine and improve your review.
Stick to the spirit of the original review unless there are glaring issues.

Respond in the same format as before:
THOUGHT:
<THOUGHT>

REVIEW JSON:
```json
<JSON>
```

If there is nothing to improve, simply repeat the previous JSON EXACTLY after the thought and include "I am done" at the end of the thoughts but before the JSON.
ONLY INCLUDE "I am done" IF YOU ARE MAKING NO MORE CHANGES."""

DONE_MARKER = "I am done"


def reflection_prompt(current_round: int, num_reflections: int) -> str:
    """The user turn of reflection round ``current_round`` (2..num_reflections).

    The original sends this template with its ``{current_round}/{num_reflections}`` placeholders unfilled;
    here they are filled.
    """
    if not 2 <= current_round <= num_reflections:
        raise ValueError(f"reflection round {current_round} is not in 2..{num_reflections}")
    return _REFLECTION_PROMPT.format(current_round=current_round, num_reflections=num_reflections)


def reflection_converged(output_text: str) -> bool:
    """True when a reflection answer says it made no more changes (the original stops there)."""
    return isinstance(output_text, str) and DONE_MARKER in output_text


def decode_fewshot_review(file_text: str) -> dict[str, Any]:
    """The review in the text of an original ``fewshot_examples/*.json`` file.

    Those files hold ``{"review": "<JSON string>"}``: the review is JSON encoded twice. A file whose
    ``review`` is already an object is accepted too. Raises ``ValueError`` when it is neither.
    """
    outer = json.loads(file_text)
    review = outer.get("review") if isinstance(outer, dict) else None
    if isinstance(review, str):
        review = json.loads(review)
    if not isinstance(review, dict):
        raise ValueError("not a few-shot review file: no 'review' object")
    return review


def _fewshot_block(examples: Sequence[tuple[str, str | Mapping[str, Any]]]) -> str:
    text = _FEWSHOT_INTRO
    for paper_text, review in examples:
        review_text = review if isinstance(review, str) else json.dumps(review, indent=4)
        text += f"""
Paper:

```
{paper_text}
```

Review:

```
{review_text}
```
"""
    return text


def build_aiscientist_messages(
    paper_text: str,
    title: str | None = None,
    *,
    few_shot: Sequence[tuple[str, str | Mapping[str, Any]]] = (),
    system_prompt: str = "neg",
) -> list[Message]:
    """System prompt (``"neg"``, ``"pos"`` or ``"base"``) + review form, few-shot examples and the paper.

    A few-shot review given as a string is inserted as it is (the original inserts the decoded JSON
    string of its example files, indented by 4); a mapping is written with ``json.dumps(indent=4)``.
    """
    if system_prompt not in SYSTEM_PROMPTS:
        raise ValueError(f"system_prompt must be one of {sorted(SYSTEM_PROMPTS)}, not {system_prompt!r}")
    user = NEURIPS_FORM
    if few_shot:
        user += _fewshot_block(few_shot)
    user += f"""
Here is the paper you are asked to review:
```
{paper_with_title(paper_text, title)}
```"""
    return [{"role": "system", "content": SYSTEM_PROMPTS[system_prompt]}, {"role": "user", "content": user}]


# ---------------------------------------------------------------------------------------------
# Reading the JSON

_MARKER = re.compile(r"REVIEW\s+JSON\s*:", re.IGNORECASE)
_JSON_FENCE = re.compile(r"```[ \t]*json[ \t]*\n?", re.IGNORECASE)
_ANY_FENCE = re.compile(r"```[^\n`]*\n?")
_FENCE_CLOSE = re.compile(r"```")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_STRING_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _json_object_span(text: str, start: int) -> tuple[int, int | None]:
    """Start of the first ``{`` at/after ``start`` and the end of its balanced object (None when unclosed)."""
    first = text.find("{", start)
    if first < 0:
        return -1, None
    depth = 0
    in_string = False
    escaped = False
    for i in range(first, len(text)):
        c = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return first, i + 1
    return first, None


def _outside_strings(text: str, fix) -> str:
    """Apply ``fix`` to the parts of ``text`` outside JSON string literals."""
    out, last = [], 0
    for m in _STRING_TOKEN.finditer(text):
        out.append(fix(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(fix(text[last:]))
    return "".join(out)


def loads_lenient(text: str) -> tuple[Any, str | None]:
    """``json.loads`` that forgives what models write: raw control characters in strings, trailing commas,
    Python literals (``True``/``False``/``None``) and Python-style single-quoted dicts. Returns
    ``(value, None)`` or ``(None, reason)``; never raises.
    """
    attempts = (
        lambda s: json.loads(s, strict=False),
        lambda s: json.loads(
            _outside_strings(
                s,
                lambda part: re.sub(
                    r"\bNone\b", "null", re.sub(r"\bFalse\b", "false", re.sub(r"\bTrue\b", "true", _TRAILING_COMMA.sub(r"\1", part)))
                ),
            ),
            strict=False,
        ),
        lambda s: ast.literal_eval(s) if len(s) < 1_000_000 else None,
    )
    error = "empty"
    for attempt in attempts:
        try:
            value = attempt(text)
        except Exception as exc:  # noqa: BLE001 - ast and json raise many kinds on model text
            error = f"{type(exc).__name__}: {exc}"
            continue
        if value is not None:
            return value, None
    return None, error


def extract_review_json(text: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The review object of an AI Scientist answer, and the problems met finding it.

    Looks after the last ``REVIEW JSON:`` marker (or in the whole text without one) for a ```` ```json ````
    fence (else any ```` ``` ```` fence, else none) and reads the first JSON object after it, skipping
    braces inside strings. An object that never closes (a truncated answer) fails with ``json_truncated``;
    a whole object whose fence is not closed is read, with ``json_fence_unclosed``.
    """
    problems: list[str] = []
    markers = list(_MARKER.finditer(text))
    start = markers[-1].end() if markers else 0
    if not markers:
        problems.append(problem("review_json_marker_missing"))
    fence = _JSON_FENCE.search(text, start) or _ANY_FENCE.search(text, start)
    body_start = fence.end() if fence is not None else start
    first, end = _json_object_span(text, body_start)
    if first < 0:
        where = "after the ``` fence" if fence is not None else "in the output"
        return None, problems + [problem("json_missing", f"no JSON object {where}")]
    if end is None:
        return None, problems + [problem("json_truncated", f"the JSON object is not closed ({len(text) - first} characters)")]
    if fence is not None and _FENCE_CLOSE.search(text, end) is None:
        problems.append(problem("json_fence_unclosed", "the ```json block is not closed"))
    value, error = loads_lenient(text[first:end])
    if error is not None:
        return None, problems + [problem("json_invalid", error[:120])]
    if not isinstance(value, dict):
        return None, problems + [problem("json_not_object", type(value).__name__)]
    return value, problems


# ---------------------------------------------------------------------------------------------
# From a review mapping to a ParsedReview

_KEYS = {
    "summary": "summary",
    "strengths": "strengths",
    "weaknesses": "weaknesses",
    "originality": "originality",
    "quality": "quality",
    "clarity": "clarity",
    "significance": "significance",
    "questions": "questions",
    "limitations": "limitations",
    "ethicalconcerns": "ethical_concerns",
    "soundness": "soundness",
    "presentation": "presentation",
    "contribution": "contribution",
    "overall": "overall",
    "confidence": "confidence",
    "decision": "decision",
}
OVERALL_RANGE = (1.0, 10.0)
_TEXT_FIELDS = ("summary", "strengths", "weaknesses", "questions", "limitations")
# Form scores kept in ``sections`` (ParsedReview has no field for them), as the number read.
_EXTRA_SCORES = ("originality", "quality", "clarity", "significance")


def _canonical(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            continue
        canon = _KEYS.get(re.sub(r"[\s_\-]+", "", key.lower()))
        if canon is not None and canon not in out:
            out[canon] = value
    return out


def _as_list(value: str) -> list[Any] | None:
    """A Python/JSON list written as a string (``"['a', 'b']"``), or None."""
    s = value.strip()
    if not (s.startswith("[") and s.endswith("]")) or len(s) > 1_000_000:
        return None
    for load in (lambda x: json.loads(x), ast.literal_eval):
        try:
            got = load(s)
        except Exception:  # noqa: BLE001
            continue
        if isinstance(got, list):
            return got
    return None


def _join_text(value: Any) -> str | None:
    """A form text: lists become one ``- item`` line per entry; a list written as a string is read first."""
    if value is None:
        return None
    if isinstance(value, str):
        items = _as_list(value)
        if items is None:
            return value.strip() or None
        value = items
    if isinstance(value, (list, tuple)):
        lines = [f"- {' '.join(str(v).split()) if not isinstance(v, str) else v.strip()}" for v in value if str(v).strip()]
        return "\n".join(lines) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _ethics_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    return text or None


def review_from_mapping(fields: Mapping[Any, Any], *, decision_rule: str = "threshold", threshold: float = 6.0) -> ParsedReview:
    """A :class:`ParsedReview` from an AI Scientist review object (JSON answer or CSV row). Never raises."""
    if decision_rule not in ("text", "threshold"):
        raise ValueError(f"decision_rule must be 'text' or 'threshold', not {decision_rule!r}")
    if not isinstance(fields, Mapping):
        return failed(problem("record_not_mapping", type(fields).__name__))
    got = _canonical(fields)
    if not got:
        return failed(problem("no_review_fields", "none of Summary, Overall, Decision ... present"))
    problems: list[str] = []

    def score(key: str, lo: float, hi: float, field: str | None = None) -> float | None:
        reading = parse_score(got.get(key), lo, hi, field=field or key)
        if reading.problem:
            problems.append(reading.problem)
        return reading.value

    rating = score("overall", *OVERALL_RANGE, field="rating")
    soundness = score("soundness", *ASPECT_RANGE)
    presentation = score("presentation", *ASPECT_RANGE)
    contribution = score("contribution", *ASPECT_RANGE)
    confidence = score("confidence", *CONFIDENCE_RANGE)

    sections: dict[str, str] = {}
    for key in _TEXT_FIELDS:
        text = _join_text(got.get(key))
        if text:
            sections[key] = text
    for key in _EXTRA_SCORES:
        value = score(key, *ASPECT_RANGE)
        if value is not None:
            sections[key] = f"{value:g}"
    ethics = _ethics_text(got.get("ethical_concerns"))
    if ethics:
        sections["ethical_concerns"] = ethics
    raw_decision = got.get("decision")
    if raw_decision is not None and str(raw_decision).strip():
        sections["decision_text"] = str(raw_decision).strip()

    decision = None
    if decision_rule == "text":
        reading = read_decision(raw_decision if raw_decision is None or isinstance(raw_decision, str) else str(raw_decision))
        decision = reading.decision
        if reading.problem:
            problems.append(reading.problem)
        rule = "text"
    else:
        rule = f"threshold>={threshold:g}"
        if rating is not None:
            decision = "accept" if rating >= threshold else "reject"
        else:
            problems.append(problem("decision_missing", "no Overall score to threshold"))
    return ParsedReview(
        status=status_for(rating, decision),
        problems=tuple(problems),
        rating=rating,
        soundness=soundness,
        presentation=presentation,
        contribution=contribution,
        confidence=confidence,
        decision=decision,
        decision_rule=rule if decision is not None else None,
        sections=sections,
    )


def parse_aiscientist_output(text: object, *, decision_rule: str = "threshold", threshold: float = 6.0) -> ParsedReview:
    """Read an AI Scientist review answer (THOUGHT + REVIEW JSON). Never raises on a string.

    The THOUGHT part is kept as ``sections["thought"]``. A truncated JSON block fails with
    ``json_truncated``; invalid JSON with ``json_invalid``.
    """
    if decision_rule not in ("text", "threshold"):
        raise ValueError(f"decision_rule must be 'text' or 'threshold', not {decision_rule!r}")
    if not isinstance(text, str) or not text.strip():
        return failed(problem("empty_output"))
    review, problems = extract_review_json(text)
    if review is None:
        return failed(*problems)
    parsed = review_from_mapping(review, decision_rule=decision_rule, threshold=threshold)
    sections = dict(parsed.sections)
    thought = _thought(text)
    if thought:
        sections["thought"] = thought
    return ParsedReview(
        status=parsed.status,
        problems=tuple(problems) + parsed.problems,
        reviewers=parsed.reviewers,
        rating=parsed.rating,
        soundness=parsed.soundness,
        presentation=parsed.presentation,
        contribution=parsed.contribution,
        confidence=parsed.confidence,
        decision=parsed.decision,
        decision_rule=parsed.decision_rule,
        meta_review=parsed.meta_review,
        sections=sections,
    )


_THOUGHT = re.compile(r"THOUGHT\s*:", re.IGNORECASE)


def _thought(text: str) -> str | None:
    m = _THOUGHT.search(text)
    if m is None:
        return None
    end = _MARKER.search(text, m.end())
    return text[m.end() : end.start() if end else m.end()].strip() or None


def parse_review_record(
    record: Mapping[Any, Any], *, decision_rule: str = "threshold", threshold: float = 6.0
) -> ParsedReview:
    """One row of a recorded AI Scientist review CSV (``csv.DictReader`` row: column -> string).

    ``paper_id`` is the caller's to keep. A missing, empty or non-numeric Overall gives ``rating=None``
    with a problem (``rating_missing`` / ``rating_unparseable``); under the default threshold rule that row
    has no decision either and comes back ``failed``. Never raises.
    """
    if not isinstance(record, Mapping):
        return failed(problem("record_not_mapping", type(record).__name__))
    # csv.DictReader puts surplus cells of a malformed row under the key None: they are not review fields.
    clean = {k: v for k, v in record.items() if isinstance(k, str)}
    parsed = review_from_mapping(clean, decision_rule=decision_rule, threshold=threshold)
    if None in record:
        extra = record[None]
        count = len(extra) if isinstance(extra, (list, tuple)) else 1
        return ParsedReview(
            status=parsed.status,
            problems=parsed.problems + (problem("record_extra_cells", f"{count} cells beyond the header"),),
            rating=parsed.rating,
            soundness=parsed.soundness,
            presentation=parsed.presentation,
            contribution=parsed.contribution,
            confidence=parsed.confidence,
            decision=parsed.decision,
            decision_rule=parsed.decision_rule,
            sections=parsed.sections,
        )
    return parsed


class AIScientistProtocol(ReviewProtocol):
    """The AI Scientist reviewer: review form + optional few-shot examples + paper; JSON answer.

    Sampling: temperature 0.1 (the setting of the recorded benchmark runs, ``temp_0_1`` in their file
    names; ``perform_review``'s own default is 0.75, and its ensembles always sample at 0.75) and
    max_tokens 4096 (the original's ``MAX_NUM_TOKENS``).
    """

    name = "aiscientist"
    default_sampling: Mapping[str, Any] = {"temperature": 0.1, "max_tokens": 4096}

    def __init__(
        self,
        *,
        few_shot: Iterable[tuple[str, str | Mapping[str, Any]]] = (),
        reflections: int = 1,
        decision_rule: str = "threshold",
        threshold: float = 6.0,
        system_prompt: str = "neg",
        sampling: Mapping[str, Any] | None = None,
    ):
        super().__init__(sampling=sampling)
        self.few_shot = tuple((str(p), r) for p, r in few_shot)
        if not isinstance(reflections, int) or isinstance(reflections, bool) or reflections < 1:
            raise ValueError(f"reflections must be an integer >= 1 (1 = no reflection), not {reflections!r}")
        if decision_rule not in ("text", "threshold"):
            raise ValueError(f"decision_rule must be 'text' or 'threshold', not {decision_rule!r}")
        if system_prompt not in SYSTEM_PROMPTS:
            raise ValueError(f"system_prompt must be one of {sorted(SYSTEM_PROMPTS)}, not {system_prompt!r}")
        self.reflections = reflections
        self.decision_rule = decision_rule
        self.threshold = float(threshold)
        self.system_prompt = system_prompt

    def options(self) -> dict[str, Any]:
        return {
            "few_shot": len(self.few_shot),
            "reflections": self.reflections,
            "decision_rule": self.decision_rule,
            "threshold": self.threshold,
            "system_prompt": self.system_prompt,
        }

    def build_messages(self, paper_text: str, title: str | None = None) -> list[Message]:
        return build_aiscientist_messages(paper_text, title, few_shot=self.few_shot, system_prompt=self.system_prompt)

    def build_reflection_messages(self, messages: Sequence[Message], previous_output: str, current_round: int) -> list[Message]:
        """The conversation for reflection round ``current_round`` (2..reflections): the messages so far,
        the previous answer, and the reflection prompt."""
        return [
            *messages,
            {"role": "assistant", "content": previous_output},
            {"role": "user", "content": reflection_prompt(current_round, self.reflections)},
        ]

    def follow_up(self, messages: Sequence[Message], answer: str, next_round: int) -> list[Message] | None:
        """Reflection: round ``next_round`` (up to ``reflections``) shows the judge its last answer and asks it
        to revise, until an answer says it is done. As in the original, only a reflection answer can end the
        rounds: the first answer always gets round 2."""
        if next_round > self.reflections or (next_round > 2 and reflection_converged(answer)):
            return None
        return self.build_reflection_messages(messages, answer, next_round)

    def parse(self, output_text: str) -> ParsedReview:
        return parse_aiscientist_output(output_text, decision_rule=self.decision_rule, threshold=self.threshold)

    def parse_record(self, record: Mapping[Any, Any]) -> ParsedReview:
        return parse_review_record(record, decision_rule=self.decision_rule, threshold=self.threshold)

    def render(self, review: ParsedReview) -> str:
        """The THOUGHT / REVIEW JSON answer; Overall keeps its decimals so a rating stays continuous."""
        form = {
            "Summary": review.sections.get("summary", ""),
            "Strengths": [],
            "Weaknesses": [],
            "Soundness": review.soundness,
            "Presentation": review.presentation,
            "Contribution": review.contribution,
            "Overall": None if review.rating is None else round(review.rating, 2),
            "Confidence": review.confidence,
            "Decision": None if review.decision is None else review.decision.capitalize(),
        }
        form = {k: v for k, v in form.items() if v is not None}
        return "THOUGHT:\n" + (review.meta_review or "") + "\n\nREVIEW JSON:\n```json\n" + json.dumps(form, indent=2) + "\n```\n"
