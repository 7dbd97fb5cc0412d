"""Best mode's literature search, opened for a run: a retriever, optionally a summariser model, a memo.

The DeepReviewer protocol names its literature turn's settings (``protocol.literature()``) and asks its
attached ``search`` for answers; this module opens that search (:func:`attach_literature`, called by
:func:`cyclebench.judge.open_judge`) and counts what happened per paper (:func:`literature_counts`).

Every question's search is remembered in ``CACHE/literature/searches.jsonl`` (keyed on the retriever's
fingerprint, the question and k), so a resumed or repeated run sends the model the same answers turn and
its response cache answers it again; a failed search is not remembered. Summaries go through the
summariser backend behind the response cache, like every model request.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cyclebench.backends import GenerationRequest, needs_training, open_backend, parse_model_args
from cyclebench.backends.base import recorded_model_args
from cyclebench.protocols.deepreviewer import SearchAnswer
from cyclebench.retrieval.base import Passage, RetrievalError, Retriever

SUMMARY_SYSTEM = (
    "You answer a question about the research literature using only the numbered passages given. Cite them as "
    "[n]. If the passages do not answer the question, say so. Answer in at most 150 words."
)
SUMMARY_SAMPLING = {"temperature": 0.0, "max_tokens": 512}
MEMO_FILE = "searches.jsonl"


def summary_messages(question: str, passages: Sequence[str]) -> list[dict[str, str]]:
    shown = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, 1))
    return [{"role": "system", "content": SUMMARY_SYSTEM},
            {"role": "user", "content": f"Question: {question}\n\nPassages:\n{shown}\n\nAnswer:"}]


def _passage_row(p: Passage) -> dict[str, Any]:
    return {"doc_id": p.doc_id, "title": p.title, "text": p.text, "score": p.score, "source": p.source, "year": p.year}


def _passage(row: Any) -> Passage:
    """A memo row as a passage, its field types checked (``TypeError`` otherwise)."""
    if not isinstance(row, dict):
        raise TypeError("not an object")
    passage = Passage(**row)
    if not (isinstance(passage.doc_id, str) and isinstance(passage.title, str) and isinstance(passage.text, str)
            and isinstance(passage.source, str) and isinstance(passage.score, (int, float))
            and (passage.year is None or isinstance(passage.year, int))):
        raise TypeError("a field of the wrong type")
    return passage


class LiteratureSearch:
    """Questions -> one :class:`SearchAnswer` each (never raises on a failed search: the error is the answer's)."""

    def __init__(self, retriever: Retriever, top_k: int, *, summarizer: Any = None, summarizer_info: dict | None = None,
                 memo_dir: str | Path | None = None):
        self.retriever = retriever
        self.top_k = top_k
        self.summarizer = summarizer  # an OpenBackend, or None
        self.summarizer_info = summarizer_info
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._memo: dict[str, list[Passage]] = {}
        self._memo_path = Path(memo_dir) / MEMO_FILE if memo_dir is not None else None
        if self._memo_path is not None and self._memo_path.is_file():
            for line in self._memo_path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                    self._memo[row["key"]] = [_passage(p) for p in row["passages"]]
                except (json.JSONDecodeError, RecursionError, KeyError, TypeError, ValueError):
                    self.counts["memo_lines_unreadable"] += 1  # a line cut by a killed run (or edited): searched again

    def _key(self, question: str) -> str:
        payload = json.dumps({"retriever": self.retriever.fingerprint, "query": question, "k": self.top_k}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def _search(self, question: str) -> list[Passage]:
        key = self._key(question)
        if key in self._memo:
            self.counts["memo_hits"] += 1
            return self._memo[key]
        passages = self.retriever.search(question, self.top_k)[: self.top_k]
        self.counts["searches"] += 1
        self._memo[key] = passages
        if self._memo_path is not None:
            self._memo_path.parent.mkdir(parents=True, exist_ok=True)
            with self._memo_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "passages": [_passage_row(p) for p in passages]}, ensure_ascii=False) + "\n")
        return passages

    def __call__(self, questions: Sequence[str]) -> list[SearchAnswer]:
        found: list[tuple[str, tuple[str, ...], str | None]] = []
        for question in questions:
            try:
                passages = tuple(p.as_text() for p in self._search(question))
                found.append((question, passages, None))
            except RetrievalError as exc:
                self.errors[exc.reason] += 1
                found.append((question, (), exc.reason))
        answers: list[str | None] = [None] * len(found)
        if self.summarizer is not None:
            asked = [(i, GenerationRequest(f"summary:{hashlib.sha256(q.encode()).hexdigest()[:16]}",
                                           tuple(summary_messages(q, ps)), dict(SUMMARY_SAMPLING)))
                     for i, (q, ps, _err) in enumerate(found) if ps]
            if asked:
                responses = self.summarizer.cached.generate([r for _, r in asked])
                for (i, _r), response in zip(asked, responses):
                    if response.error is None and response.text and response.text.strip():
                        answers[i] = response.text.strip()
                    else:
                        self.counts["summaries_failed"] += 1
        return [SearchAnswer(q, ps, answers[i], err) for i, (q, ps, err) in enumerate(found)]

    def describe(self) -> dict[str, Any]:
        return {"retriever": self.retriever.describe(), "top_k": self.top_k, "summarizer": self.summarizer_info,
                "counts": dict(sorted(self.counts.items())), "errors": dict(sorted(self.errors.items()))}

    def close(self) -> None:
        if self.summarizer is not None:
            self.summarizer.close()


def open_retriever(settings: Mapping[str, Any], cache_dir: str | Path | None) -> Retriever:
    if settings["retriever"] == "bm25":
        from cyclebench.retrieval.bm25 import open_bm25

        return open_bm25(settings["index"], Path(cache_dir) / "bm25" if cache_dir is not None else None)
    from cyclebench.retrieval.semantic_scholar import KEY_ENV, SemanticScholarRetriever
    from cyclebench.sources.fetch_abstracts import S2_URL

    return SemanticScholarRetriever(settings.get("s2_url") or S2_URL, key_env=settings.get("s2_key_env") or KEY_ENV)


def open_literature(settings: Mapping[str, Any], cache_dir: str | Path | None) -> LiteratureSearch:
    """The search a protocol's literature settings describe; the summariser backend is opened behind the
    response cache under ``cache_dir``."""
    retriever = open_retriever(settings, cache_dir)
    summarizer, info = None, None
    if settings.get("summarizer"):
        name = settings["summarizer"]
        if needs_training(name, None):
            raise ValueError(f"summarizer={name} is a baseline that writes no text; give a generative backend")
        # summarizer_args: the backend's model args, ';'-separated (',' separates the protocol args).
        args = parse_model_args((settings.get("summarizer_args") or "").replace(";", ","))
        summarizer = open_backend(name, args, cache_dir)
        info = {"backend": name, "model_args": recorded_model_args(args), "fingerprint": summarizer.model.fingerprint,
                "sampling": dict(SUMMARY_SAMPLING)}
    memo = Path(cache_dir) / "literature" if cache_dir is not None else None
    return LiteratureSearch(retriever, int(settings["top_k"]), summarizer=summarizer, summarizer_info=info, memo_dir=memo)


def attach_literature(protocol: Any, cache_dir: str | Path | None) -> LiteratureSearch | None:
    """Open and attach the literature search of a protocol that has one (DeepReviewer Best mode with a
    retriever); None for every other protocol."""
    settings = getattr(protocol, "literature", None)
    settings = settings() if callable(settings) else None
    if settings is None:
        return None
    search = open_literature(settings, cache_dir)
    protocol.search = search
    return search


LITERATURE_DEFINITION = (
    "Best mode's literature turn per paper: 'answered' when the first answer's \\boxed_questions were read, "
    "passages retrieved and the answers turn sent (the second answer is the review); 'fell_back' (the first "
    "answer is the review) with its reason: no_questions, retrieval_failed (a search failed and none found "
    "anything), nothing_retrieved, second_turn_failed (the model gave no second answer); first_turn_failed "
    "when the model gave no first answer. answered + fell_back + first_turn_failed = n_papers."
)


def literature_counts(notes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts over the papers' notes (one mapping per paper, ``{}`` where no turn was noted)."""
    status: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    n_questions = with_passages = n_passages = summarized = 0
    for note in notes:
        lit = note.get("literature")
        if not isinstance(lit, Mapping):
            status["first_turn_failed"] += 1
            continue
        reason = lit.get("reason")
        if lit.get("status") == "answered" and note.get("follow_up_error"):
            reason = "second_turn_failed"
        if reason is None:
            status["answered"] += 1
        else:
            status["fell_back"] += 1
            reasons[reason] += 1
        n_questions += len(lit.get("questions", ()))
        with_passages += sum(1 for n in lit.get("retrieved", ()) if n)
        n_passages += sum(lit.get("retrieved", ()))
        summarized += lit.get("summarized", 0)
        problems.update(str(p).split(": ", 1)[0] for p in lit.get("question_problems", ()))
        errors.update(e for e in lit.get("errors", ()) if e)
    return {"n_papers": len(notes), "answered": status["answered"], "fell_back": status["fell_back"],
            "first_turn_failed": status["first_turn_failed"], "fell_back_reasons": dict(sorted(reasons.items())),
            "questions": n_questions, "questions_with_passages": with_passages, "passages": n_passages,
            "summarized": summarized, "question_problems": dict(sorted(problems.items())),
            "retrieval_errors": dict(sorted(errors.items()))}
