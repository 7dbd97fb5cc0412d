"""``--undecided keep`` on the real ICLR 2026 snapshot, with counts checked against the raw notes.

The corpus snapshot's submission notes carry the final decisions (``venueid``), but its replies are from
2025-11-22, when ICLR 2026 was in review. ``in_review`` turns it back into what a user fetching then got:
accepted and rejected notes say ``Submission`` / "Submitted to ICLR 2026"; withdrawn and desk-rejected ones
are left as they are. The expected counts are taken from the raw JSON here, without the package's reader.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from cyclebench.builders import deepreview13k, review5k
from cyclebench.builders.base import EmptyBuildError
from cyclebench.hub.columns import Review5K
from cyclebench.hub.load import read_rows

SNAPSHOT = "openreview/iclr2026_v2.jsonl"
OUT_OF_REVIEW = ("Withdrawn_Submission", "Desk_Rejected_Submission")


def in_review(src: Path, dst: Path) -> Path:
    """The snapshot as it read while ICLR 2026 was in review: no decision on any live paper."""
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            note = json.loads(line)
            if not note["content"]["venueid"]["value"].endswith(OUT_OF_REVIEW):
                note["content"]["venueid"]["value"] = "ICLR.cc/2026/Conference/Submission"
                note["content"]["venue"]["value"] = "Submitted to ICLR 2026"
                note.pop("pdate", None)
            out.write(json.dumps(note) + "\n")
    return dst


def raw_expectations(path: Path, min_reviews: int = 2) -> dict[str, dict[str, int]]:
    """Per raw note: its fate read straight from the JSON (venueid tail; distinct reviewers of its
    Official_Review replies that have a rating)."""
    fate: dict[str, dict[str, int]] = {"live": {}, "withdrawn": {}, "desk_rejected": {}, "too_few": {}}
    for line in open(path, encoding="utf-8"):
        note = json.loads(line)
        tail = note["content"]["venueid"]["value"].rsplit("/", 1)[-1]
        reviewers: dict[str, set[str]] = defaultdict(set)
        for reply in note["details"]["directReplies"]:
            if any(i.endswith("/-/Official_Review") for i in reply["invitations"]) and "rating" in reply["content"]:
                reviewers[reply["signatures"][0]].add(reply["id"])
        n = len(reviewers)
        if tail == "Withdrawn_Submission":
            fate["withdrawn"][note["id"]] = n
        elif tail == "Desk_Rejected_Submission":
            fate["desk_rejected"][note["id"]] = n
        elif n < min_reviews:
            fate["too_few"][note["id"]] = n
        else:
            fate["live"][note["id"]] = n
    return fate


def default_rows(out: Path) -> list[dict]:
    splits = [s for s in ("train", "test", "test_2026") if any(out.glob(f"**/{s}-*.parquet"))]
    return list(read_rows(str(out), "default", splits, None))


@pytest.fixture(scope="module")
def snapshots(corpus, tmp_path_factory):
    final = corpus / SNAPSHOT
    return final, in_review(final, tmp_path_factory.mktemp("iclr2026") / "in_review.jsonl")


def test_in_review_snapshot_keeps_every_live_paper_with_null_decision(snapshots, tmp_path):
    _, live_snapshot = snapshots
    fate = raw_expectations(live_snapshot)
    config = review5k.Review5KConfig(undecided="keep", require_text=False)
    report = review5k.build(live_snapshot, None, tmp_path / "keep", config, progress=False)
    counts = report.manifest["counts"]
    rows = default_rows(report.out)

    assert {r[Review5K.ID] for r in rows} == set(fate["live"])
    assert {r[Review5K.ID]: r[Review5K.NUM_REVIEWS] for r in rows} == fate["live"]
    assert all(r[Review5K.DECISION] is None for r in rows)
    assert counts["papers_in"] == sum(len(v) for v in fate.values()) == 300
    assert counts["papers_kept"] == counts["papers_undecided_kept"] == len(fate["live"])
    assert counts["papers_rejected"] == {
        k: v for k, v in {"withdrawn": len(fate["withdrawn"]), "desk_rejected": len(fate["desk_rejected"]),
                          "too_few_reviews": len(fate["too_few"])}.items() if v}
    assert counts["sft_rows_skipped"] == {"no_paper_text": len(fate["live"])}
    card = (report.out / "README.md").read_text()
    assert f"of which undecided (null `decision`, no\n`sft` row): {len(fate['live'])}" in card


def test_in_review_snapshot_with_undecided_drop_keeps_nothing_and_says_why(snapshots, tmp_path):
    _, live_snapshot = snapshots
    with pytest.raises(EmptyBuildError, match="undecided .*pass --undecided keep"):
        review5k.build(live_snapshot, None, tmp_path / "drop", review5k.Review5KConfig(require_text=False),
                       progress=False)
    assert not (tmp_path / "drop").exists()


def test_final_snapshot_undecided_keep_equals_drop_and_reconciles(snapshots, tmp_path):
    """With the decisions out there is nothing undecided: keep and drop write the same rows."""
    final, _ = snapshots
    fate = raw_expectations(final)
    built = {}
    for policy in ("keep", "drop"):
        config = review5k.Review5KConfig(undecided=policy, require_text=False)
        built[policy] = review5k.build(final, None, tmp_path / policy, config, progress=False)
    keep, drop = built["keep"], built["drop"]
    assert keep.manifest["counts"]["papers_undecided_kept"] == 0
    assert [r[Review5K.ID] for r in default_rows(keep.out)] == [r[Review5K.ID] for r in default_rows(drop.out)]
    assert {r[Review5K.ID] for r in default_rows(keep.out)} == set(fate["live"])
    for rel, info in keep.manifest["shards"].items():
        assert info["sha256"] == drop.manifest["shards"][rel]["sha256"], rel


def test_review5k_dates_are_the_submission_notes(snapshots, tmp_path):
    final, _ = snapshots
    notes = {json.loads(line)["id"]: json.loads(line) for line in open(final, encoding="utf-8")}
    report = review5k.build(final, None, tmp_path / "dated", review5k.Review5KConfig(require_text=False),
                            progress=False)
    rows = default_rows(report.out)
    assert rows
    for row in rows:
        note = notes[row[Review5K.ID]]
        for column in Review5K.DATES:
            assert row[column] == note.get(column), (row[Review5K.ID], column)
    # Accepted notes have pdate, rejected ones none: both kinds are in the build.
    assert any(r[Review5K.PDATE] is not None for r in rows) and any(r[Review5K.PDATE] is None for r in rows)


def test_deepreview_in_review_snapshot_keeps_live_papers_without_decision(snapshots, tmp_path):
    from cyclebench.protocols import get_protocol

    _, live_snapshot = snapshots
    fate = raw_expectations(live_snapshot)
    config = deepreview13k.DeepReview13KConfig(undecided="keep", require_text=False, modes=("fast",))
    report = deepreview13k.build(live_snapshot, None, tmp_path / "dr", config, workers=1, progress=False)
    counts = report.manifest["counts"]
    rows = default_rows(report.out)
    # DeepReview-13K also rejects reviews with no text; on this snapshot there are none.
    assert counts["reviews_rejected"] == {}
    assert {r["id"] for r in rows} == set(fate["live"])
    assert counts["papers_kept"] == counts["papers_undecided_kept"] == len(fate["live"])
    assert all(r["decision"] is None for r in rows)
    parsed = get_protocol("deepreviewer", mode="fast").parse(rows[0]["outputs"])
    assert parsed.decision is None and parsed.rating == pytest.approx(rows[0]["rating_mean"], abs=0.01)


def test_deepreview_undecided_keep_builds_with_a_model_chain(snapshots, tmp_path):
    """A model chain (the ``fake`` backend) builds undecided papers: the prompt says there is no decision yet,
    the rows have a null decision and outputs that parse back to no decision and the human mean."""
    from cyclebench.backends import build_backend
    from cyclebench.builders.reasoning_chain import NO_DECISION_YET, ChainByModel
    from cyclebench.protocols import get_protocol
    from tests.builders.test_deepreview13k_chain import _model_answer

    _, live_snapshot = snapshots
    fate = raw_expectations(live_snapshot)
    chosen = sorted(fate["live"])[:3]
    small = tmp_path / "three_live.jsonl"
    with open(live_snapshot, encoding="utf-8") as f, open(small, "w", encoding="utf-8") as out:
        out.writelines(line for line in f if json.loads(line)["id"] in chosen)
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"request_id": pid, "text": _model_answer(fate["live"][pid])}) + "\n"
                               for pid in chosen), encoding="utf-8")
    backend = build_backend("fake", {"responses": str(answers)})
    seen: list[str] = []
    generate = backend.generate

    def recording(requests):  # the prompts the model chain sent
        seen.extend(m["content"] for r in requests for m in r.messages if m["role"] == "user")
        return generate(requests)

    backend.generate = recording  # type: ignore[method-assign]
    config = deepreview13k.DeepReview13KConfig(undecided="keep", require_text=False, modes=("fast", "best"))
    report = deepreview13k.build(small, None, tmp_path / "m", config, chain=ChainByModel(backend), progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_in"] == counts["papers_kept"] == counts["papers_undecided_kept"] == 3
    assert len(seen) == 3 and all(f"# Decision: {NO_DECISION_YET}" in prompt for prompt in seen)
    assert not any("# Decision: Accept" in p or "# Decision: Reject" in p for p in seen)
    rows = default_rows(report.out)
    assert sorted({r["id"] for r in rows}) == chosen and len(rows) == 6
    for row in rows:
        assert row["decision"] is None and row["chain_method"] == "model:fake"
        parsed = get_protocol("deepreviewer", mode=row["mode"], reviewers=fate["live"][row["id"]]).parse(row["outputs"])
        assert parsed.decision is None and parsed.rating == pytest.approx(row["rating_mean"], abs=0.01)
        assert "Decision" not in row["outputs"].rsplit("\\boxed_review", 1)[-1]


def test_undecided_paper_with_text_gets_no_sft_row_with_a_reason(snapshots, tmp_path):
    """The sft target states Accept or Reject; an undecided paper has neither, so it gets no sft row."""
    _, live_snapshot = snapshots
    live = sorted(raw_expectations(live_snapshot)["live"])
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / f"{live[0]}.md").write_text("# A paper\n\n## Abstract\n\nText of the paper.\n\n## Method\n\nMore.\n")
    config = review5k.Review5KConfig(undecided="keep", require_text=False)
    report = review5k.build(live_snapshot, papers, tmp_path / "out", config, progress=False)
    counts = report.manifest["counts"]
    assert counts["sft_rows_skipped"] == {"no_decision": 1, "no_paper_text": len(live) - 1}
    assert sum(counts["splits"]["sft"].values()) == 0
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    assert {"record_id": live[0], "stage": "sft", "reason": "no_decision"}.items() <= next(
        r for r in rejects if r["record_id"] == live[0]).items()
