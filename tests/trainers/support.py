"""Helpers of the trainer tests (no tests here; the fixtures are in conftest.py): small datasets in the shapes
the trainers read, and a minimal paper generator for the Iterative SimPO loop."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from tests.tiny_models import _WORDS

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "trainers" / "recipes"


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def research14k_rows(n: int, seed: int = 0) -> list[dict]:
    """Research-14K-shaped rows: 5-turn messages (system, references, part 1, results, part 2)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "paperId": f"p{i}", "title": f"Paper {i}", "abstract": words(rng, 12), "venue": "ICLR", "year": 2024,
            "messages": [
                {"role": "system", "content": "You are a researcher. Write a paper."},
                {"role": "user", "content": "@article{a, title={" + words(rng, 6) + "}}"},
                {"role": "assistant", "content": "## Motivation\n" + words(rng, 20)},
                {"role": "user", "content": "## Experimental_results\n" + words(rng, 8)},
                {"role": "assistant", "content": "\\section{Experiments}\n" + words(rng, 20)},
            ],
        })
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def deepreview_rows(n: int, seed: int = 0, *, modes: int = 1) -> list[dict]:
    """DeepReview-13K rows as the original CSV stores them (messages as JSON text)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        for mode in range(modes):
            rows.append({
                "id": f"d{i}", "title": f"Paper {i}", "decision": "Accept" if i % 2 else "Reject",
                "rating": json.dumps(["6: marginally above the acceptance threshold", "5: marginally below"]),
                "reviewer_comments": "[]",
                "inputs": json.dumps([{"role": "system", "content": f"You are an expert academic reviewer. mode {mode}"},
                                      {"role": "user", "content": "# Paper\n" + words(rng, 30)}]),
                "outputs": json.dumps([{"role": "assistant",
                                        "content": "\\boxed_review{\n## Summary:\n" + words(rng, 15) + "\n}"}]),
            })
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


class WordsGenerator:
    """A paper generator for tests: a topic prompt; any non-blank output is a readable paper."""

    name = "test-words"

    def __init__(self):
        self.sampling = {"temperature": 1.0, "top_p": 1.0}

    def build_prompt(self, record):
        if not record.get("topic"):
            raise ValueError("no topic")
        return [{"role": "system", "content": "Write a paper."}, {"role": "user", "content": f"Topic: {record['topic']}"}]

    def to_paper_text(self, output):
        return output if output.strip() else None


def review_examples(n: int, seed: int):
    """Review examples whose rating rises with a few 'good' words, for training a CPU baseline judge."""
    from cyclebench.records import ReviewExample

    rng = random.Random(seed)
    good = {"strong", "thorough", "accept", "improve", "clarity", "novelty"}
    out = []
    for i in range(n):
        text = [rng.choice(_WORDS) for _ in range(40)]
        score = sum(w in good for w in text)
        out.append(ReviewExample(f"e{i}", f"t{i}", " ".join(text), (float(min(10, 2 + score)),), score > 2,
                                 soundness=(2.0 + (score > 2),)))
    return out
