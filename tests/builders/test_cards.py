"""Every builder's corpus build: the card's Hub metadata, ``load_dataset`` on every config the card lists, the
absent configs explained, citations, and one decision vocabulary with no column named like a review aspect.

The builds are the session's shared ones (``tests/conftest.py``, ``tests/builders/conftest.py``): Review-5K
with texts (the embedded sample) and without (the corpus, no ``sft``), the AI Scientist benchmark,
DeepReview-13K and Research-14K."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cyclebench.builders import (
    aiscientist_iclr2022,
    deepreview13k,
    research14k,
    review5k,
)

from cyclebench.hub.card import HUB_TASKS, size_category
from cyclebench.hub.columns import ACCEPTANCE_TYPE, DECISIONS
from cyclebench.hub.load import read_card

# fixture -> (the builder's schemas, BibTeX keys the card must cite: original work, data source)
BUILDS = {
    "review5k_sample_build": (review5k.SCHEMAS, ("weng2025cycleresearcher", "openreview")),
    "review5k_build": (review5k.SCHEMAS, ("weng2025cycleresearcher", "openreview")),
    "aiscientist_build": ({"default": aiscientist_iclr2022.SCHEMA}, ("lu2024aiscientist", "sakana2024aiscientistrepo")),
    "deepreview13k_corpus_build": (deepreview13k.SCHEMAS, ("zhu2025deepreview", "openreview")),
    "research14k_corpus_build": (research14k.SCHEMAS, ("weng2025cycleresearcher", "arxiv")),
}
# Review aspects (REFERENCE 1.1): a column of one of these names must hold that score, so never a paper-level
# column of another meaning (the poster / oral type was ``presentation`` before; it is ``acceptance_type``).
ASPECTS = ("soundness", "presentation", "contribution")


def _folder(request: pytest.FixtureRequest, name: str) -> Path:
    build = request.getfixturevalue(name)
    return Path(getattr(build, "out", build))


def _hub_size_categories() -> list[str]:
    import datasets

    path = Path(datasets.__file__).parent / "utils" / "resources" / "size_categories.json"
    return json.loads(path.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDS))
def test_card_has_the_hub_metadata(request, name):
    folder = _folder(request, name)
    front, body = read_card(folder)
    assert front is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    assert front["pretty_name"].strip() and front["language"] == ["en"]
    if front["license"] == "other":
        assert front["license_name"] and front["license_link"].startswith("https://")
    else:
        assert front["license"] == "cc-by-4.0" and "license_name" not in front
    default_rows = sum(s["rows"] for s in manifest["shards"].values() if s["config"] == "default")
    assert front["size_categories"] == [size_category(default_rows)]
    assert front["size_categories"][0] in _hub_size_categories()
    assert front["task_categories"] and set(front["task_categories"]) <= set(HUB_TASKS)
    allowed_ids = set().union(*(HUB_TASKS[c] for c in front["task_categories"]))
    assert set(front.get("task_ids", [])) <= allowed_ids
    assert front["source_datasets"] == ["original"] and "cyclebench" in front["tags"]
    # Citations: the original work and the data source, as BibTeX in the body.
    _, keys = BUILDS[name]
    cited = re.findall(r"^@\w+\{([^,]+),", body, flags=re.MULTILINE)
    assert set(keys) <= set(cited), cited
    assert body.count("```bibtex") == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BUILDS))
def test_load_dataset_on_every_listed_config(request, name):
    from datasets import load_dataset

    folder = _folder(request, name)
    front, body = read_card(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    schemas, _ = BUILDS[name]
    listed = [c["config_name"] for c in front["configs"]]
    rows = {(s["config"], s["split"]): 0 for s in manifest["shards"].values()}
    for s in manifest["shards"].values():
        rows[(s["config"], s["split"])] += s["rows"]
    assert listed and set(listed) <= set(schemas)
    for config in listed:
        ds = load_dataset(str(folder), config)
        assert set(ds) == {split for (c, split) in rows if c == config}
        for split, part in ds.items():
            assert part.num_rows == rows[(config, split)] > 0
            assert part.column_names == schemas[config].names
        # The card's example loads only what the card lists.
        assert (f'"{config}")' in body) if config != "default" else ('load_dataset("<this repo or folder>")' in body)
    for config in set(schemas) - set(listed):
        assert not any(c == config for c, _ in rows), f"{config} has rows but the card does not list it"
        assert f'load_dataset("<this repo or folder>", "{config}")' not in body
        assert f"- `{config}`:" in body  # the card says why it is absent
        with pytest.raises(ValueError, match=config):
            load_dataset(str(folder), config)


def test_a_build_without_texts_has_no_sft_config_and_says_why(review5k_build):
    front, body = read_card(review5k_build)
    assert [c["config_name"] for c in front["configs"]] == ["default", "reviews"]
    assert not (review5k_build / "sft").exists()
    assert "- `sft`: an `sft` row is the paper text plus its reviews and decision; this build has no paper text" in body
    assert front["license"] == "cc-by-4.0"  # notes only: no paper text, no mixed license


def test_a_build_with_texts_lists_sft_under_a_named_mixed_license(review5k_sample_build):
    front, body = read_card(review5k_sample_build)
    assert [c["config_name"] for c in front["configs"]] == ["default", "reviews", "sft"]
    assert (front["license"], front["license_name"]) == ("other", "openreview-notes-cc-by-4.0-and-paper-texts")
    assert "not in this build" not in body


def _column(folder: Path, config: str, column: str) -> list:
    return [v for path in sorted((folder / ("data" if config == "default" else config)).glob("*.parquet"))
            for v in pq.read_table(path, columns=[column]).column(column).to_pylist()]


@pytest.mark.parametrize("name,configs", [
    ("review5k_sample_build", ("default", "reviews", "sft")),
    ("review5k_build", ("default", "reviews")),
    ("aiscientist_build", ("default",)),
    ("deepreview13k_corpus_build", ("default",)),
])
def test_one_decision_vocabulary(request, name, configs):
    folder = _folder(request, name)
    for config in configs:
        values = set(_column(folder, config, "decision"))
        assert values - {None} <= set(DECISIONS) and values & set(DECISIONS), (config, values)
    schemas, _ = BUILDS[name]
    assert not set(schemas["default"].names) & set(ASPECTS)  # paper level: no aspect-named column
    if ACCEPTANCE_TYPE in schemas["default"].names:
        decisions = _column(folder, "default", "decision")
        types = _column(folder, "default", ACCEPTANCE_TYPE)
        assert {t for d, t in zip(decisions, types, strict=True) if d != "Accept"} <= {None}
        assert {t for d, t in zip(decisions, types, strict=True) if d == "Accept"} <= {
            "oral", "spotlight", "poster", "notable-top-5%", "notable-top-25%", None}


def test_aiscientist_decisions_keep_the_tables_words(aiscientist_build, corpus):
    """``decision`` + ``acceptance_type`` say what the table's cell says, and ``decision_raw`` keeps the cell."""
    table = {}
    for line in (corpus / "reviews" / "iclr2022_ratings.tsv").read_text().splitlines()[1:]:
        cells = line.split("\t")
        table[cells[0]] = cells[-1]
    ids = _column(aiscientist_build, "default", "paper_id")
    rows = zip(ids, _column(aiscientist_build, "default", "decision"), _column(aiscientist_build, "default", "acceptance_type"),
               _column(aiscientist_build, "default", "decision_raw"), strict=True)
    for paper_id, decision, kind, raw in rows:
        assert raw == table[paper_id]
        assert (decision, kind) == (("Reject", None) if raw == "Reject" else ("Accept", raw[len("Accept ("):-1].lower()))


def test_kept_withdrawn_and_desk_rejected_papers_have_a_null_decision_and_their_flags(corpus, tmp_path):
    """Review-5K's vocabulary has no third word: such a paper's outcome is in ``withdrawn`` / ``desk_rejected``
    and ``decision_raw``, and the task leaves it out of the decision figures as before (``accepted=None``)."""
    from cyclebench.tasks import review5k_examples

    config = review5k.Review5KConfig(require_text=False, withdrawn="keep", desk_rejected="keep", min_reviews=0)
    report = review5k.build(corpus / "openreview" / "iclr2026_v2.jsonl", None, tmp_path / "out", config, progress=False)
    rows = [r for p in sorted((report.out / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    odd = [r for r in rows if r["withdrawn"] or r["desk_rejected"]]
    assert odd and all(r["decision"] is None and r["decision_raw"] for r in odd)
    assert {r["decision"] for r in rows} == {"Accept", "Reject", None}
    examples, _ = review5k_examples(rows, abstract_fallback=True)
    by_id = {e.paper_id: e.accepted for e in examples}
    assert all(by_id[r["id"]] is None for r in odd if r["id"] in by_id)
    assert sum(v is True for v in by_id.values()) == sum(r["decision"] == "Accept" for r in rows if r["id"] in by_id)


# Red-team round (issue 16): decision words of other years and venues, in any case, map to the same
# ``decision`` / ``acceptance_type`` whichever builder reads them (Review-5K's reading of OpenReview's words).
ODD_DECISIONS = ["Accept (Spotlight)", "ACCEPT (ORAL)", "accept", "Accept (Talk)", "Accept: poster", "Reject",
                 "REJECT", "rejected", "Withdrawn", "Desk rejected", "Reject (desk)", "Invite to Workshop Track",
                 "Not accepted", "Conditional Accept", "Accept (Oral) - withdrawn by the authors", "", "N/A"]


def _review5k_words(raw: str) -> tuple[str | None, str | None]:
    from cyclebench.sources.openreview import decision_from_text

    decision = decision_from_text(raw, "test")
    return review5k.decision_value(decision.label), decision.presentation


def test_decision_words_of_other_years_map_alike_in_every_builder(tmp_path):
    from cyclebench.sources.westlake import deepreview_example

    table = ["paper_id\t0\t1\tdecision"]
    for i, raw in enumerate(ODD_DECISIONS):
        table.append(f"p{i}\t6\t8\t{raw}")
        (tmp_path / f"p{i}.md").write_text(f"# Paper {i}\n\n## Introduction\n\n" + "Words of a paper. " * 40)
    (tmp_path / "ratings.tsv").write_text("\n".join(table) + "\n")
    rows = {r["paper_id"]: r for r in (aiscientist_iclr2022.paper_row(e, raw) for e, raw in
                                       aiscientist_iclr2022.iter_papers(tmp_path / "ratings.tsv", tmp_path))}
    assert len(rows) == len(ODD_DECISIONS)
    for i, raw in enumerate(ODD_DECISIONS):
        decision, kind = _review5k_words(raw)
        assert (rows[f"p{i}"]["decision"], rows[f"p{i}"]["acceptance_type"]) == (decision, kind), raw
        assert rows[f"p{i}"]["decision_raw"] == raw.strip()
        example, _why = deepreview_example({"id": f"p{i}", "title": "t", "decision": raw, "rating": [6, 8],
                                      "inputs": [{"role": "user", "content": "Words of a paper. " * 40}]})
        assert example is not None and example.accepted == {"Accept": True, "Reject": False}.get(decision), raw
    assert _review5k_words("Not accepted") == ("Reject", None)
    assert _review5k_words("Invite to Workshop Track") == ("Reject", None)
    assert _review5k_words("ACCEPT (ORAL)") == ("Accept", "oral")
