"""Cross-dataset decontamination: planted duplicates across small datasets built here, cutoff dates, the
atomic removal step, the CLI, and the corpus Review-5K build against a DeepReview build of the same corpus."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cyclebench.builders import decontaminate
from cyclebench.builders.decontaminate import (
    OverlapConfig,
    SplitRef,
    abstract_from_text,
    check_overlap,
    jaccard,
    normalise_arxiv,
    normalise_text,
    parse_split_arg,
    removals_by_folder,
    remove_contaminated,
    shingles,
)
from cyclebench.hub.load import dataset_files
from cyclebench.hub.writer import HubFolderWriter, card_front_matter

# ---------------------------------------------------------------------------------------------
# Abstracts: real-sounding, same field, different papers.

ABSTRACT_A = (
    "We study how large language models can act as reviewers of machine learning papers. We collect a corpus "
    "of submissions with their public reviews and train a model that writes several reviews per paper, each "
    "with scores for soundness, presentation and contribution, followed by a meta review and a decision. "
    "On held-out papers the model's mean rating correlates with the human mean better than prompting a "
    "general chat model, and its decisions agree with the area chairs more often than a single human "
    "reviewer does. We release the data, the training recipe and an evaluation harness so that others can "
    "reproduce the numbers and test new reviewers."
)
ABSTRACT_B = (
    "Diffusion models solve inverse problems by guiding the sampling trajectory with the gradient of a data "
    "consistency term, which often pushes samples off the data manifold. We instead replace the noise of each "
    "denoising step with a combination of Gaussian noise vectors chosen to align with the measurement, and "
    "derive the optimal weights in closed form. The resulting sampler needs no extra training, adds negligible "
    "cost, and improves image quality on inpainting, deblurring and super-resolution benchmarks, especially "
    "when only a small number of sampling steps is allowed."
)
ABSTRACT_C = (
    "Tabular data remains difficult for deep networks, which are often outperformed by gradient boosted trees. "
    "We propose a retrieval augmented transformer that attends over the most similar training rows and learns "
    "how to combine their labels with the features of the query row. Across forty public benchmarks the method "
    "matches or exceeds tuned tree ensembles while training in minutes on a single graphics card, and an "
    "ablation shows that most of the gain comes from the learned combination rather than from retrieval alone."
)
# Same topic as A, different paper: shares vocabulary but not sentences.
ABSTRACT_A_UNRELATED = (
    "Peer review of machine learning papers is noisy: two committees often disagree about which submissions "
    "to accept. We model each reviewer's score as a noisy estimate of a latent paper quality and fit the model "
    "to public review data from several conferences. The fitted model predicts how often a second committee "
    "would reverse a decision, and suggests that adding a fourth reviewer per paper reduces reversals more "
    "than calibrating individual reviewers. We discuss what this means for automated reviewing tools."
)


def lightly_edited(text: str) -> str:
    """Four words changed, as a re-submission with a touched-up abstract would have."""
    return (text.replace("collect", "gather").replace("better than", "more closely than")
            .replace("release", "publish").replace("harness", "suite"))


def _write_dataset(folder: Path, configs: dict[str, dict[str, list[dict[str, Any]]]], schemas: dict[str, pa.Schema]) -> Path:
    splits = {name: list(by_split) for name, by_split in configs.items()}
    writer = HubFolderWriter(folder, schemas, splits, max_rows_per_shard=2)
    with writer:
        for name, by_split in configs.items():
            for split, rows in by_split.items():
                writer.add_many(name, split, rows)
        shards = writer.finish_shards()
        writer.write_text("manifest.json", json.dumps({"dataset": folder.name, "shards": shards}, indent=2) + "\n")
        writer.write_text("rejects.jsonl", "")
        writer.write_text("README.md", card_front_matter(schemas, writer.split_rows(), shards, license_id="cc-by-4.0",
                                                         pretty_name=folder.name, tags=[]) + "\n# test dataset\n")
        writer.commit()
    return folder


def review5k_like(folder: Path, train: list[dict], test: list[dict]) -> Path:
    default = pa.schema([pa.field(n, t) for n, t in (("id", pa.string()), ("title", pa.string()), ("abstract", pa.string()),
                                                     ("year", pa.int64()), ("num_reviews", pa.int64()))])
    reviews = pa.schema([pa.field("paper_id", pa.string()), pa.field("rating", pa.int64())])
    rows = {"train": train, "test": test}
    return _write_dataset(folder, {
        "default": {s: [{**r, "num_reviews": 2} for r in rs] for s, rs in rows.items()},
        "reviews": {s: [{"paper_id": r["id"], "rating": k} for r in rs for k in (3, 6)] for s, rs in rows.items()},
    }, {"default": default, "reviews": reviews})


_MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])


def deepreview_like(folder: Path, splits: dict[str, list[dict]]) -> Path:
    """Like the original DeepReview files: no abstract column, the paper is inside ``inputs``."""
    schema = pa.schema([pa.field("id", pa.string()), pa.field("title", pa.string()), pa.field("inputs", pa.list_(_MESSAGE)),
                        pa.field("outputs", pa.string()), pa.field("mode", pa.string()), pa.field("cdate", pa.int64()),
                        pa.field("odate", pa.int64()), pa.field("pdate", pa.int64())])
    rows = {
        split: [
            {"id": p["id"], "title": p["title"], "mode": mode, "outputs": "\\boxed_review{...}",
             "cdate": p.get("cdate"), "odate": p.get("odate"), "pdate": p.get("pdate"),
             "inputs": [{"role": "system", "content": "You are an expert academic reviewer."},
                        {"role": "user", "content": f"# {p['title']}\n\n## Abstract\n\n{p['abstract']}\n\n## 1 Introduction\n\nBody text."}]}
            for p in papers for mode in ("fast", "standard", "best")
        ]
        for split, papers in splits.items()
    }
    return _write_dataset(folder, {"default": rows}, {"default": schema})


def research_like(folder: Path, train: list[dict], test: list[dict]) -> Path:
    schema = pa.schema([pa.field("paperId", pa.string()), pa.field("title", pa.string()), pa.field("abstract", pa.string()),
                        pa.field("arxiv", pa.string()), pa.field("year", pa.int64()), pa.field("messages", pa.string())])
    fill = {"messages": "[]", "arxiv": None, "year": 2023}
    return _write_dataset(folder, {"default": {"train": [{**fill, **r} for r in train], "test": [{**fill, **r} for r in test]}},
                          {"default": schema})


MS_2024_10 = 1_727_740_800_000  # 2024-10-01
MS_2025_10 = 1_759_276_800_000  # 2025-10-01


@pytest.fixture()
def planted(tmp_path):
    r5k = review5k_like(
        tmp_path / "review5k",
        train=[
            {"id": "P1sameid", "title": "Learning to review papers", "abstract": ABSTRACT_A, "year": 2024},
            {"id": "P2orig", "title": "Noise combination sampling", "abstract": ABSTRACT_B, "year": 2024},
            {"id": "P5title", "title": "Attention Is All You Need!", "abstract": "Short.", "year": 2024},
        ],
        test=[{"id": "R5test", "title": "Retrieval for tables", "abstract": ABSTRACT_C, "year": 2024}],
    )
    research = research_like(
        tmp_path / "research14k",
        train=[{"paperId": "S2-aaa", "title": "Automated reviewing at scale", "abstract": ABSTRACT_A, "arxiv": "arXiv:2301.01234"},
               {"paperId": "S2-ccc", "title": "Tabular retrieval transformers", "abstract": ABSTRACT_C, "arxiv": "2402.00001"}],
        test=[{"paperId": "S2-bbb", "title": "A different title", "abstract": "Too short to compare.",
               "arxiv": "https://arxiv.org/abs/2301.01234v3", "year": 2023}],
    )
    deepreview = deepreview_like(tmp_path / "deepreview", {
        "train": [{"id": "DRtrain1", "title": "Something else entirely", "abstract": ABSTRACT_B}],
        "test_2025": [
            {"id": "P1sameid", "title": "A new title for an old paper", "abstract": "Completely rewritten abstract " * 8,
             "odate": MS_2024_10},
            {"id": "T2retitled", "title": "Sampling with combined noise", "abstract": ABSTRACT_B, "cdate": MS_2025_10},
            {"id": "T3edited", "title": "LLM reviewers, revisited", "abstract": lightly_edited(ABSTRACT_A),
             "cdate": MS_2025_10, "pdate": MS_2025_10 + 1},
            {"id": "T5sametitle", "title": "attention is   all you need", "abstract": ABSTRACT_A_UNRELATED + " Extra words.",
             "cdate": MS_2025_10},
            {"id": "T6unrelated", "title": "How noisy is peer review?", "abstract": ABSTRACT_A_UNRELATED},
        ],
    })
    return {"review5k": r5k, "research14k": research, "deepreview": deepreview}


# ---------------------------------------------------------------------------------------------
# Pure pieces


def test_normalisation_and_arxiv_ids():
    assert normalise_text("  Attention Is All You Need! ") == normalise_text("attention is\tall you need") == "attention is all you need"
    assert normalise_text("ＢＥＲＴ: Pre‑training") == "bert pre training"  # NFKC folds full-width letters
    assert normalise_arxiv("arXiv:2301.01234v2") == normalise_arxiv("https://arxiv.org/abs/2301.01234") == "2301.01234"
    assert normalise_arxiv("hep-th/9901001v1") == "hep-th/9901001"
    assert normalise_arxiv("not an id") is None and normalise_arxiv(None) is None


def test_lightly_edited_abstract_is_near_and_unrelated_is_far():
    k = OverlapConfig().shingle_words
    edited = jaccard(shingles(ABSTRACT_A, k), shingles(lightly_edited(ABSTRACT_A), k))
    unrelated = jaccard(shingles(ABSTRACT_A, k), shingles(ABSTRACT_A_UNRELATED, k))
    assert edited >= OverlapConfig().jaccard_threshold and unrelated < 0.1
    assert lightly_edited(ABSTRACT_A) != ABSTRACT_A


def test_threshold_separates_real_abstracts(corpus):
    """The documented choice of 0.7, on the real corpus: distinct papers stay far below it, and every
    abstract with three words changed stays above it."""
    from cyclebench.sources.openreview import iter_raw_notes, parse_submission

    config = OverlapConfig()
    abstracts = [parse_submission(r.note).submission.abstract for r in iter_raw_notes(corpus / "openreview" / "iclr2026_v2.jsonl")]
    grams = [shingles(a, config.shingle_words) for a in abstracts]
    closest = max(jaccard(grams[i], grams[j]) for i in range(len(grams)) for j in range(i + 1, len(grams)))
    assert closest < config.jaccard_threshold / 4
    for text in abstracts:
        words = text.split()
        if len(words) < 60:
            continue
        for position in (len(words) // 4, len(words) // 2, 3 * len(words) // 4):
            words[position] = "changed"
        assert jaccard(shingles(text, 3), shingles(" ".join(words), 3)) >= config.jaccard_threshold


def test_abstract_from_paper_text():
    text = "# Title\n\n## Abstract\n\nFirst line of the abstract.\nSecond line.\n\n## 1 Introduction\n\nBody."
    assert abstract_from_text(text) == "First line of the abstract.\nSecond line."
    assert abstract_from_text("Title\nAbstract: One sentence here.\n1 Introduction\nBody") == "One sentence here."
    assert abstract_from_text("No heading at all.") is None


def test_config_is_validated():
    with pytest.raises(ValueError):
        OverlapConfig(lsh_threshold=0.9, jaccard_threshold=0.8)
    with pytest.raises(ValueError):
        OverlapConfig(methods=("id", "smell"))


# ---------------------------------------------------------------------------------------------
# Planted duplicates


def _refs(planted) -> tuple[list[SplitRef], list[SplitRef]]:
    tests = [*parse_split_arg(str(planted["deepreview"]), "test"), *parse_split_arg(str(planted["research14k"]), "test"),
             *parse_split_arg(str(planted["review5k"]), "test")]
    trains = [ref for d in planted.values() for ref in parse_split_arg(str(d), "train")]
    return tests, trains


def test_planted_duplicates_are_found_by_the_right_method(planted):
    tests, trains = _refs(planted)
    report = check_overlap(tests, trains, cutoff_date="2025-06-01")
    dr_test = f"{planted['deepreview']}:test_2025"
    found = {key: item["reason"] for key, item in report["contaminated"][dr_test]["items"].items()}
    assert found == {
        "P1sameid": "overlap:id",  # same OpenReview id, new title and abstract
        "T2retitled": "overlap:abstract",  # retitled copy with the same abstract (in two train splits)
        "T3edited": "overlap:abstract",  # a few words of the abstract changed
        "T5sametitle": "overlap:title",  # same title up to case, punctuation and spacing
    }
    assert "T6unrelated" not in found  # same topic, different paper
    t2 = report["contaminated"][dr_test]["items"]["T2retitled"]["matches"]
    assert {m["train"].rsplit("/", 1)[-1] for m in t2} == {"review5k:train", "deepreview:train"}
    t3 = report["contaminated"][dr_test]["items"]["T3edited"]["matches"]
    assert all(0.7 <= m["jaccard"] < 1.0 for m in t3) and {m["train_key"] for m in t3} == {"P1sameid", "S2-aaa"}
    research_test = f"{planted['research14k']}:test"
    assert report["contaminated"][research_test]["by_reason"] == {"overlap:arxiv": 1}
    assert report["contaminated"][f"{planted['review5k']}:test"]["by_reason"] == {"overlap:abstract": 1}
    # Per test/train pair counts by method.
    pair = next(p for p in report["pairs"] if p["test"] == dr_test and p["train"] == f"{planted['review5k']}:train")
    assert pair["pairs_by_method"] == {"id": 1, "arxiv": 0, "title": 1, "abstract": 2}
    assert pair["test_papers_matched"] == 4
    # Abstracts of the DeepReview-like rows were read from the paper inside `inputs`; DeepReview rows repeat
    # per mode but count once.
    summary = next(s for s in report["tests"] if s["split"] == dr_test)
    assert summary["kind"] == "deepreview-13k" and summary["rows"] == 15 and summary["papers"] == 5
    assert summary["abstract_sources"] == {"inputs": 5}
    r5k_train = next(s for s in report["trains"] if s["split"].endswith("review5k:train"))
    assert r5k_train["skipped"] == {"abstract_too_short": 1}


def test_methods_can_be_chosen(planted):
    tests, trains = _refs(planted)
    report = check_overlap(tests, trains, OverlapConfig(methods=("id", "title")))
    dr_test = f"{planted['deepreview']}:test_2025"
    assert report["contaminated"][dr_test]["by_reason"] == {"overlap:id": 1, "overlap:title": 1}
    assert all(set(p["pairs_by_method"]) == {"id", "title"} for p in report["pairs"])


def test_cutoff_date_reports_papers_public_before_it(planted):
    tests, trains = _refs(planted)
    report = check_overlap(tests, trains, cutoff_date="2025-06-01")
    seen = report["cutoff"]["possibly_seen"]
    dr = seen[f"{planted['deepreview']}:test_2025"]
    assert dr["items"] == {"P1sameid": {"public_date": "2024-10-01", "field": "odate"}}
    assert dr["undated"] == 1 and dr["of"] == 5  # T6 has no date column value
    research = seen[f"{planted['research14k']}:test"]["items"]
    assert research == {"S2-bbb": {"public_date": "2023-01-01", "field": "arxiv_id"}}
    # Review-5K rows carry only the venue year: public from 1 January of the year before (2024 -> 2023).
    assert seen[f"{planted['review5k']}:test"]["items"] == {"R5test": {"public_date": "2023-01-01", "field": "year"}}
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        check_overlap(tests, trains, cutoff_date="June 2025")


def test_removal_rewrites_the_test_split_atomically_with_a_note(planted):
    tests, trains = _refs(planted)
    folder = planted["review5k"]
    train_bytes = {p.name: p.read_bytes() for p in (folder / "data").glob("train-*")}
    report = check_overlap(tests, trains)
    removals = removals_by_folder(report, tests)
    note = remove_contaminated(folder, removals[folder.resolve()], against=[t.label for t in trains], config=OverlapConfig())
    assert note["papers_removed"] == {"test": {"overlap:abstract": 1}}
    assert note["rows_removed"] == {"default": {"test": 1}, "reviews": {"test": 2}}  # every config's rows of the paper
    assert note["rows_left"] == {"default": {"test": 0}, "reviews": {"test": 0}}
    assert {p.name: p.read_bytes() for p in (folder / "data").glob("train-*")} == train_bytes
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["decontamination"][0]["papers_removed"] == note["papers_removed"]
    for rel, info in manifest["shards"].items():
        assert pq.ParquetFile(folder / rel).metadata.num_rows == info["rows"]
    rejects = [json.loads(line) for line in (folder / "rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"detail": f"split test; in {planted['research14k']}:train", "reason": "overlap:abstract",
                        "record_id": "R5test", "stage": "decontamination"}]
    card = (folder / "README.md").read_text()
    assert "## Decontamination" in card and "num_examples: 0" in card
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no scratch left behind

    dr = planted["deepreview"]
    remove_contaminated(dr, removals[dr.resolve()], against=[], config=OverlapConfig())
    left = [r["id"] for path in sorted((dr / "data").glob("test_2025-*")) for r in pq.read_table(path).to_pylist()]
    assert sorted(left) == ["T6unrelated"] * 3  # all three mode rows of each contaminated paper went


def test_removal_needs_a_cyclebench_build(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    pq.write_table(pa.table({"id": ["a"], "title": ["t"]}), plain / "test.parquet")
    with pytest.raises(ValueError, match="built by cyclebench"):
        remove_contaminated(plain, {"test": {}}, against=[], config=OverlapConfig())


def _cli(argv: list[str]) -> int:
    from cyclebench.cli import check_overlap as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def test_cli_reports_removes_and_fails_on_overlap(planted, tmp_path, capsys):
    report_path = tmp_path / "reports" / "overlap.json"
    argv = ["--test", f"{planted['deepreview']}:test_2025", "--train", str(planted["review5k"]), str(planted["research14k"]),
            "--report", str(report_path), "--cutoff-date", "2025-06-01", "--jaccard-threshold", "0.75"]
    assert _cli([*argv, "--fail-on-overlap"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["contaminated"][f"{planted['deepreview']}:test_2025"]["papers"] == 4
    assert summary["possibly_seen_before_cutoff"] == {f"{planted['deepreview']}:test_2025": 1}
    assert json.loads(report_path.read_text())["definitions"]["config"]["num_perm"] == 128
    assert _cli([*argv, "--remove"]) == 0
    after = json.loads(report_path.read_text())
    assert after["removed"][str(planted["deepreview"].resolve())]["papers_removed"]["test_2025"] == {
        "overlap:abstract": 2, "overlap:id": 1, "overlap:title": 1}
    assert _cli([*argv, "--fail-on-overlap"]) == 0  # clean now
    with pytest.raises(ValueError, match="no split"):
        _cli(["--test", f"{planted['deepreview']}:nosuch", "--train", str(planted["review5k"]), "--report", str(report_path)])


# ---------------------------------------------------------------------------------------------
# The real corpus: Review-5K and DeepReview-13K built from the same snapshot


def _split_ids(folder: Path, split: str) -> set[str]:
    files = dataset_files(folder)[split]
    return {r["id"] for path in files for r in pq.read_table(path, columns=["id"]).to_pylist()}


@pytest.fixture(scope="module")
def corpus_builds(corpus, tmp_path_factory):
    from cyclebench.builders import deepreview13k, review5k

    root = tmp_path_factory.mktemp("overlap")
    snapshot = corpus / "openreview" / "iclr2026_v2.jsonl"
    # seed 1 for Review-5K: with the same seed, DeepReview's 10% test would sit inside Review-5K's 15.7% test.
    r5k = review5k.build(snapshot, None, root / "r5k", review5k.Review5KConfig(require_text=False, seed=1), progress=False).out
    dr = deepreview13k.build(snapshot, None, root / "dr", deepreview13k.DeepReview13KConfig(require_text=False),
                             workers=1, progress=False).out
    return r5k, dr


def test_corpus_every_cross_split_paper_is_reported(corpus_builds):
    r5k, dr = corpus_builds
    tests = [*parse_split_arg(str(r5k), "test"), *parse_split_arg(str(dr), "test")]
    trains = [*parse_split_arg(str(r5k), "train"), *parse_split_arg(str(dr), "train")]
    report = check_overlap(tests, trains)
    for test in tests:
        for train in trains:
            expected = _split_ids(test.path, test.split) & _split_ids(train.path, train.split)
            pair = next(p for p in report["pairs"] if p["test"] == test.label and p["train"] == train.label)
            matched = {m["test_key"] for m in pair["matches"]}
            assert expected <= matched, (test.label, train.label, expected - matched)
            for m in pair["matches"]:
                if m["test_key"] in expected:  # same paper: found by id, title and abstract at once
                    assert m["methods"] == ["id", "title", "abstract"] and m["jaccard"] == 1.0
    dr_test = f"{dr}:test_2026"
    cross = _split_ids(dr, "test_2026") & _split_ids(r5k, "train")
    assert cross and report["contaminated"][dr_test]["papers"] >= len(cross)


def test_corpus_builder_step_removes_and_records(corpus_builds, tmp_path):
    import shutil

    from cyclebench.cli.build_deepreview13k import decontaminate_build

    r5k, dr = corpus_builds
    copy = tmp_path / "dr"
    shutil.copytree(dr, copy)
    expected = _split_ids(copy, "test_2026") & _split_ids(r5k, "train")
    removed = decontaminate_build(copy, [str(r5k)])
    assert sum(removed["test_2026"].values()) >= len(expected) > 0
    assert _split_ids(copy, "test_2026").isdisjoint(_split_ids(r5k, "train"))
    report = json.loads((copy / "decontamination.json").read_text())
    assert report["contaminated"][f"{copy}:test_2026"]["papers"] == sum(removed["test_2026"].values())
    from datasets import load_dataset

    assert load_dataset(str(copy))["test_2026"].num_rows == 3 * len(_split_ids(copy, "test_2026"))


def test_cutoff_dates_corpus_builds_by_their_notes_and_says_which_date(review5k_build, aiscientist_build, tmp_path,
                                                                      capsys):
    """ICLR 2026 papers were made public in autumn 2025: with the notes' dates in Review-5K none is "possibly
    seen" by a 2025-06 cutoff (the year fallback dated all of them 2025-01-01). The AI Scientist table has no
    note dates: its papers are dated by the venue year, and the summary says so."""
    tests = [*parse_split_arg(str(review5k_build), "test"), *parse_split_arg(str(aiscientist_build), "test")]
    report = check_overlap(tests, [], cutoff_date="2025-06-01")
    r5k, ais = (report["cutoff"]["possibly_seen"][ref.label] for ref in tests)
    assert r5k["papers"] == 0 and r5k["undated"] == 0
    assert set(r5k["all_by_date_field"]) <= {"odate", "cdate", "pdate"}
    assert sum(r5k["all_by_date_field"].values()) == r5k["of"] > 0
    assert ais["all_by_date_field"] == {"year": ais["of"]} and ais["papers"] == ais["of"]
    assert all(item["field"] == "year" and item["public_date"] == "2021-01-01" for item in ais["items"].values())

    assert _cli(["--test", f"{review5k_build}:test", f"{aiscientist_build}:test", "--train", str(review5k_build),
                 "--report", str(tmp_path / "overlap.json"), "--cutoff-date", "2025-06-01"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dated_by"] == {ref.label: report["cutoff"]["possibly_seen"][ref.label]["all_by_date_field"]
                                   for ref in tests}
