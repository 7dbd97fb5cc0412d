"""Scale-out: the executor engines keep input order, and 1 worker, 2 workers and datatrove tasks
write byte-identical Research-14K shards."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cyclebench.builders.executor import DatatroveOptions, _blocks, run_datatrove, run_ordered, run_stage
from cyclebench.builders.research14k import Research14KConfig, build

from .test_research14k import FX, prepare_papers


def square(x: int) -> int:
    return x * x


class Tagged:
    """A stage object holding state, to check it travels to the workers intact."""

    def __init__(self, tag: str):
        self.tag = tag

    def __call__(self, x: int) -> tuple[str, int, int]:
        return self.tag, x, os.getpid()


def test_run_ordered_keeps_input_order_on_two_processes():
    assert list(run_ordered(square, range(50), workers=2, chunksize=3)) == [x * x for x in range(50)]
    out = list(run_ordered(Tagged("t"), range(20), workers=2, chunksize=2))
    assert [x for _t, x, _pid in out] == list(range(20)) and {t for t, _x, _pid in out} == {"t"}
    assert len({pid for _t, _x, pid in out}) >= 1 and os.getpid() not in {pid for *_r, pid in out}
    assert list(run_ordered(square, [], workers=2)) == []


def test_blocks_cover_items_contiguously():
    assert _blocks(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert _blocks(2, 2) == [(0, 1), (1, 2)]


def test_run_stage_rejects_unknown_engine():
    with pytest.raises(ValueError, match="unknown engine"):
        list(run_stage(square, [1], engine="spark"))  # type: ignore[arg-type]


def _shard_bytes(out: Path) -> dict[str, bytes]:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> Path:
    return prepare_papers(tmp_path_factory.mktemp("r14-scale"))


def _build(papers: Path, out: Path, **kwargs) -> Path:
    config = Research14KConfig(outline_scores=(7, 6, 8), max_rows_per_shard=2)  # several shards per split
    return build(FX / "metadata.jsonl", papers, out, config, abstracts=FX / "abstracts.jsonl", progress=False, **kwargs).out


def test_one_and_two_workers_write_byte_identical_folders(papers, tmp_path):
    one = _shard_bytes(_build(papers, tmp_path / "one", workers=1))
    two = _shard_bytes(_build(papers, tmp_path / "two", workers=2))
    assert sorted(one) == sorted(two)
    assert [k for k in one if k.endswith(".parquet")] == ["data/test-00000-of-00001.parquet",
                                                          "data/train-00000-of-00002.parquet",
                                                          "data/train-00001-of-00002.parquet"]
    assert one == two  # shards, rejects.jsonl, manifest.json and README.md, byte for byte


def test_datatrove_engine_local_executor_matches_and_resumes(papers, tmp_path):
    pytest.importorskip("datatrove", reason='the datatrove engine is optional: pip install "cyclebench[scale]"')
    reference = _shard_bytes(_build(papers, tmp_path / "ref", workers=1))
    work = tmp_path / "work"
    options = DatatroveOptions(tasks=3, workers=2, work_dir=work)
    out = _shard_bytes(_build(papers, tmp_path / "dt", engine="datatrove", datatrove=options))
    assert out == reference
    (run_dir,) = list(work.iterdir())
    assert sorted(p.name for p in (run_dir / "logs" / "completions").iterdir()) == ["00000", "00001", "00002"]
    # A rerun finds every task complete and only reads the outputs back.
    stamp = {p.name: p.stat().st_mtime_ns for p in (run_dir / "outputs").iterdir()}
    again = _shard_bytes(_build(papers, tmp_path / "dt2", engine="datatrove", datatrove=options))
    assert again == reference
    assert {p.name: p.stat().st_mtime_ns for p in (run_dir / "outputs").iterdir()} == stamp


def test_run_datatrove_in_process_and_empty():
    pytest.importorskip("datatrove", reason='the datatrove engine is optional: pip install "cyclebench[scale]"')
    assert list(run_datatrove(square, range(5), DatatroveOptions(tasks=2, workers=1))) == [0, 1, 4, 9, 16]
    assert list(run_datatrove(square, [], DatatroveOptions(tasks=4, workers=1))) == []
    with pytest.raises(ValueError, match="unknown datatrove executor"):
        list(run_datatrove(square, [1], DatatroveOptions(executor="spark")))  # type: ignore[arg-type]


def test_manifest_does_not_depend_on_workers(papers, tmp_path):
    manifest = json.loads((_build(papers, tmp_path / "m", workers=2) / "manifest.json").read_text())
    assert "workers" not in json.dumps(manifest["config"]) and manifest["counts"]["papers_kept"] == 5


def test_cli_datatrove_engine_with_work_dir(papers, tmp_path, capsys):
    pytest.importorskip("datatrove", reason='the datatrove engine is optional: pip install "cyclebench[scale]"')
    import argparse

    from cyclebench.cli.build_research14k import add_research14k_arguments, run_research14k

    parser = argparse.ArgumentParser()
    add_research14k_arguments(parser.add_subparsers(dest="dataset"))
    args = parser.parse_args(["research-14k", "--papers", str(papers), "--metadata", str(FX / "metadata.jsonl"),
                              "--out", str(tmp_path / "out"), "--engine", "datatrove", "--workers", "1",
                              "--datatrove-tasks", "2", "--work-dir", str(tmp_path / "work")])
    assert run_research14k(args) == 0
    assert json.loads(capsys.readouterr().out)["papers_kept"] == 5
    (run_dir,) = list((tmp_path / "work").iterdir())
    assert run_dir.name.endswith("-t2") and len(list((run_dir / "outputs").glob("*.pkl"))) == 2
