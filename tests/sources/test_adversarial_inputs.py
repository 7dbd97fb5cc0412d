"""Issue 11, item 3: inputs are confined and bounded. Each attack is one paper's reasoned reject.

A papers folder, a LaTeX project, an e-print archive and a metadata ``source`` are user input. Links out of
the input folders, FIFOs, link cycles, unreadable files, invalid bytes, ``\\input`` fan-out bombs and
hostile or corrupt archives must each reject that one paper with a reason while the build goes on and its
counts reconcile (papers in = rows out + rejects), never put a foreign file into a row, hang or crash.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import shutil
import signal
import stat
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.builders import research14k
from cyclebench.builders.paper_extract import extract_text_paper
from cyclebench.builders.research14k import Research14KConfig
from cyclebench.fileio import sha256_path
from cyclebench.records import RecordError
from cyclebench.sources import confined
from cyclebench.sources.confined import SourceLimits
from cyclebench.sources.latex import load_latex_source
from cyclebench.sources.text import PapersDirectory, decode_text_file

FX = Path(__file__).resolve().parents[1] / "fixtures" / "research14k"
GOOD = FX / "papers" / "r14-good"
MD_PAPER = FX / "papers" / "r14-md.md"
SECRET = "SECRET-TOKEN-4f1c9e"
KIB, MIB = 1024, 1024 * 1024
# Small bounds, so each breach below costs kilobytes; the good fixture paper is well inside them.
LIMITS = dict(max_file_bytes=4 * MIB, max_member_bytes=512 * KIB, max_total_bytes=2 * MIB, max_members=50,
              max_expanded_bytes=1 * MIB, max_includes=100, max_include_depth=8)
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is POSIX only")


class Hung(BaseException):
    """Not an OSError (as TimeoutError is): no reader may catch a hang and count it as a reject."""


@contextlib.contextmanager
def _deadline(seconds: int):
    """A hang (a FIFO opened for reading blocks forever) fails the test after ``seconds`` instead."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def fail(_signum, _frame):
        raise Hung(f"hung for {seconds} s: an input blocked the reader")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def no_hang():
    with _deadline(60):
        yield


# ---------------------------------------------------------------------------------------------
# Makers


def _tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> Path:
    """A tar of (name, bytes) files and ready-made TarInfo entries (links, devices), in order."""
    with tarfile.open(path, mode) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return path


def _good_members() -> list[tarfile.TarInfo | tuple[str, bytes]]:
    return [(p.relative_to(GOOD).as_posix(), p.read_bytes()) for p in sorted(GOOD.rglob("*")) if p.is_file()]


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _doc(body: str) -> str:
    return "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"


def _fanout(folder: Path, levels: int, fan: int, pad: int) -> Path:
    """main inputs f0 ``fan`` times, f_i inputs f_{i+1} ``fan`` times: a few files, fan**levels pastes."""
    folder.mkdir(parents=True)
    (folder / "main.tex").write_text(_doc("\\input{f0}\n" * fan))
    for i in range(levels):
        nxt = "" if i == levels - 1 else f"\\input{{f{i + 1}}}\n" * fan
        (folder / f"f{i}.tex").write_text("word " * (pad // 5) + "\n" + nxt)
    return folder


def _copy_good(dest: Path) -> Path:
    shutil.copytree(GOOD, dest)
    return dest


# ---------------------------------------------------------------------------------------------
# One Research-14K build over a papers folder full of attacks


# paperId -> the reason it must be rejected with (None: it must be kept).
EXPECTED = {
    "good": None,
    "linked-in": None,  # a link that stays inside the papers folder is read
    "src-abs-in": None,  # an absolute metadata source inside a --papers folder is read
    "link-out": "outside_input",
    "link-etc": "outside_input",
    "member-out": "outside_input",
    "src-dotdot": "outside_input",
    "src-usr": "outside_input",
    "src-abs-out": "outside_input",
    "fifo": "not_a_regular_file",
    "fifo-tex": "not_a_regular_file",
    "loop": "symlink_loop",
    "loop-tex": "symlink_loop",
    "locked": "unreadable",
    "badutf8": "text_not_utf8",
    "fakepdf": "pdf_unreadable",
    "fakegz": "corrupt_archive",
    "trunc": "corrupt_archive",
    "dotdot-tar": "archive_unsafe_member",
    "abs-tar": "archive_unsafe_member",
    "symlink-tar": "archive_unsafe_member",
    "device-tar": "archive_unsafe_member",
    "many-tar": "archive_too_many_members",
    "bomb-tar": "archive_too_large",
    "bomb-gz": "archive_too_large",
    "bigmember-tar": "archive_member_too_large",
    "fanout": "latex_too_large",
    "deep": "include_too_deep",
    "manyinc": "too_many_includes",
    "bigfile": "file_too_large",
    "badmeta": "metadata_invalid",
}


def _make_attacks(base: Path) -> tuple[Path, Path]:
    """The papers folder and the metadata of EXPECTED; a secret paper and a stray x.md lie outside."""
    papers = base / "in" / "papers"
    papers.mkdir(parents=True)
    outside = base / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text(MD_PAPER.read_text().replace("Tabular data fill", f"{SECRET} Tabular data fill"))
    (base / "x.md").write_text(secret.read_text())  # what "../../x.md" from papers/ or meta/ reaches

    _copy_good(papers / "good")
    _copy_good(papers / "abs-in-copy")  # src-abs-in's own source: one source under two paperIds is duplicate_source
    shutil.copy(MD_PAPER, papers / ".linked-target.md")
    (papers / "linked-in.md").symlink_to(".linked-target.md")
    (papers / "link-out.md").symlink_to(secret)
    (papers / "link-etc.md").symlink_to("/etc/passwd")
    (_copy_good(papers / "member-out") / "refs.bib").unlink()
    (papers / "member-out" / "refs.bib").symlink_to(secret)
    os.mkfifo(papers / "fifo.md")
    (_copy_good(papers / "fifo-tex") / "sections" / "intro.tex").unlink()
    os.mkfifo(papers / "fifo-tex" / "sections" / "intro.tex")
    (papers / "loop.md").symlink_to("loop.md")
    (_copy_good(papers / "loop-tex") / "sections" / "intro.tex").unlink()
    (papers / "loop-tex" / "sections" / "intro.tex").symlink_to("intro.tex")
    shutil.copy(MD_PAPER, papers / "locked.md")
    (papers / "badutf8.md").write_bytes(MD_PAPER.read_bytes().replace(b"Tabular data", b"Tabular \xff\xfe\x80 data"))
    (papers / "fakepdf.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage that is no PDF\n" * 50)
    (papers / "fakegz.gz").write_bytes(_doc("plain text dressed as a gzip").encode())
    good_tgz = _tar(base / "good.tar.gz", _good_members()).read_bytes()
    (papers / "trunc.tar.gz").write_bytes(good_tgz[: len(good_tgz) // 2])
    _tar(papers / "dotdot-tar.tar.gz", _good_members() + [("../evil.tex", b"x")])
    _tar(papers / "abs-tar.tar.gz", _good_members() + [("/tmp/evil.tex", b"x")])
    _tar(papers / "symlink-tar.tar.gz", _good_members() + [_special("passwd.tex", tarfile.SYMTYPE, "/etc/passwd")])
    _tar(papers / "device-tar.tar.gz", _good_members() + [_special("dev.tex", tarfile.CHRTYPE)])
    _tar(papers / "many-tar.tar.gz", _good_members() + [(f"m{i}.tex", b"%\n") for i in range(60)])
    _tar(papers / "bomb-tar.tar.gz", _good_members() + [("blob.bin", bytes(8 * MIB))])
    (papers / "bomb-gz.gz").write_bytes(gzip.compress(bytes(8 * MIB)))
    _tar(papers / "bigmember-tar.tar.gz", _good_members() + [("big.tex", b"% x\n" * (200 * KIB))])
    _fanout(papers / "fanout", levels=6, fan=10, pad=16 * KIB)
    (papers / "deep").mkdir()
    (papers / "deep" / "main.tex").write_text(_doc("\\input{d0}"))
    for i in range(12):
        (papers / "deep" / f"d{i}.tex").write_text(f"level {i}\n\\input{{d{i + 1}}}\n")
    (papers / "manyinc").mkdir()
    (papers / "manyinc" / "main.tex").write_text(_doc("\\input{small}\n" * 150))
    (papers / "manyinc" / "small.tex").write_text("small\n")
    with open(papers / "bigfile.md", "wb") as fh:  # sparse: 5 MiB on paper, nothing on disk
        fh.truncate(5 * MIB)

    meta = base / "in" / "meta" / "meta.jsonl"
    meta.parent.mkdir()
    sources = {"src-dotdot": "../../x.md", "src-usr": "/usr", "src-abs-out": str(secret),
               "src-abs-in": str(papers / "abs-in-copy")}
    lines = [json.dumps({"paperId": pid, "venue": "ICLR", "year": 2023,
                         **({"source": sources[pid]} if pid in sources else {})})
             for pid in EXPECTED if pid != "badmeta"]
    meta.write_bytes(("\n".join(lines) + "\n").encode() + b'{"paperId": "badmeta", "venue": "\xff"}\n')
    return papers, meta


def _parquet_text(out: Path) -> str:
    return "\n".join(json.dumps(pq.read_table(p).to_pylist()) for p in sorted(out.rglob("*.parquet")))


@pytest.fixture(scope="module")
def attack_build(tmp_path_factory):
    if not hasattr(os, "mkfifo"):
        pytest.skip("os.mkfifo is POSIX only")
    base = tmp_path_factory.mktemp("attacks")
    papers, meta = _make_attacks(base)
    locked = papers / "locked.md"
    locked.chmod(0)
    real_open = confined._open_fd

    def open_denied(path: str) -> int:
        # root reads a chmod-000 file anyway: simulate what any other user gets
        if os.path.basename(path) == "locked.md":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path)

    with pytest.MonkeyPatch.context() as mp, _deadline(120):
        if os.access(locked, os.R_OK):
            mp.setattr(confined, "_open_fd", open_denied)
        report = research14k.build(meta, papers, base / "out", Research14KConfig(**LIMITS), workers=1, progress=False)
    locked.chmod(0o644)
    rejects = [json.loads(line) for line in (report.out / "rejects.jsonl").read_text().splitlines()]
    return report, {r["record_id"]: r for r in rejects}, base


def test_counts_reconcile_and_every_attack_is_its_reasoned_reject(attack_build):
    report, rejects, _base = attack_build
    counts = report.manifest["counts"]
    assert counts["papers_in"] == len(EXPECTED)
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == counts["papers_in"]
    kept = {pid for pid, reason in EXPECTED.items() if reason is None}
    assert counts["papers_kept"] == len(kept) and not kept & set(rejects)
    got = {pid: rejects[pid]["reason"] for pid in EXPECTED if pid != "badmeta" and pid not in kept}
    assert got == {pid: r for pid, r in EXPECTED.items() if r is not None and pid != "badmeta"}
    assert rejects["line 31"]["reason"] == "metadata_invalid" and "not UTF-8" in rejects["line 31"]["detail"]
    assert all(r["detail"] for r in rejects.values())


def test_no_foreign_file_reaches_a_row(attack_build):
    report, rejects, _base = attack_build
    shards = _parquet_text(report.out)
    assert "linked-in" in shards  # the rows are there, and the inside link was read
    assert SECRET not in shards and "root:x:0:0" not in shards
    assert SECRET not in (report.out / "rejects.jsonl").read_text()  # details name paths, never content
    assert "outside the input folder" in rejects["link-out"]["detail"]


def test_nothing_the_user_gave_is_touched(attack_build):
    _report, _rejects, base = attack_build
    papers = base / "in" / "papers"
    assert stat.S_ISFIFO(os.lstat(papers / "fifo.md").st_mode) and (papers / "link-out.md").is_symlink()
    assert (base / "outside" / "secret.md").is_file() and (papers / "good" / "main.tex").is_file()
    assert not (base / "evil.tex").exists() and not Path("/tmp/evil.tex").exists()


# ---------------------------------------------------------------------------------------------
# The same rules through the other readers


def test_review5k_papers_folder_link_to_a_system_file(tmp_path):
    from cyclebench.builders import review5k
    from cyclebench.cli.build import sample_dir

    sample = sample_dir()
    papers = tmp_path / "papers"
    shutil.copytree(sample / "papers", papers)
    victim = sorted(papers.glob("*.md"))[0]
    victim.unlink()
    secret = tmp_path / "outside.md"
    secret.write_text(f"# Title\n\n## Abstract\n\n{SECRET} is a system file.\n")
    victim.symlink_to(secret)
    report = review5k.build(sample / "openreview.jsonl", papers, tmp_path / "out", review5k.Review5KConfig(),
                            progress=False)
    counts = report.manifest["counts"]
    assert counts["papers_kept"] + sum(counts["papers_rejected"].values()) == counts["papers_in"] == 40
    rejects = [json.loads(x) for x in (report.out / "rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects if r["record_id"] == victim.stem] == ["outside_input"]
    assert SECRET not in _parquet_text(report.out)


@needs_fifo
def test_papers_directory_rejects_links_out_fifos_and_loops(tmp_path):
    shutil.copy(MD_PAPER, tmp_path / "ok.md")
    (tmp_path / "passwd.md").symlink_to("/etc/passwd")
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(tmp_path / "pipe.pdf")
    d = PapersDirectory(tmp_path)
    assert d.read("ok") is not None
    for pid, reason in (("passwd", "outside_input"), ("loop", "symlink_loop"), ("pipe", "not_a_regular_file")):
        with pytest.raises(RecordError) as e:
            d.read(pid)
        assert e.value.reason == reason, pid


def test_folder_where_a_file_is_expected(tmp_path):
    (tmp_path / "paper.md").mkdir()
    with pytest.raises(RecordError) as e:
        extract_text_paper(tmp_path / "paper.md", "markdown", roots=(tmp_path,))
    assert e.value.reason == "not_a_regular_file"


def test_text_decoding_strips_boms_and_rejects_invalid_utf8():
    assert decode_text_file(b"\xef\xbb\xbf# Title") == "# Title"
    assert decode_text_file("# Titel \u00e4".encode("utf-16")) == "# Titel \u00e4"
    assert decode_text_file(b"\xff\xfe\x00\x00" + "# T".encode("utf-32-le")) == "# T"
    for bad in (b"# Title \xff\xfe\xfd", b"\xfe\xff\x00"):
        with pytest.raises(RecordError) as e:
            decode_text_file(bad)
        assert e.value.reason == "text_not_utf8"


def test_confined_hash_is_the_plain_hash_for_ordinary_sources():
    """Rows record source_sha256: moving the hashing behind the confinement must not change it."""
    assert confined.sha256_source(GOOD, (GOOD.parent,)) == sha256_path(GOOD)
    assert confined.sha256_source(MD_PAPER, (MD_PAPER.parent,)) == sha256_path(MD_PAPER)


def test_limits_are_validated_config_fields():
    assert Research14KConfig().source_limits() == SourceLimits()
    assert Research14KConfig(max_includes=7).source_limits().max_includes == 7
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="max_members"):
            Research14KConfig(max_members=bad)


# ---------------------------------------------------------------------------------------------
# LaTeX expansion with the default bounds, and over random include graphs


def test_input_fanout_bomb_with_default_limits_is_latex_too_large(tmp_path):
    # 7 files of 64 KiB on disk; pasted out in full they would be 10**7 * 64 KiB.
    folder = _fanout(tmp_path / "bomb", levels=7, fan=10, pad=64 * KIB)
    with pytest.raises(RecordError) as e:
        load_latex_source(folder)
    assert e.value.reason == "latex_too_large"


def test_include_cycles_are_dropped_and_noted_not_followed(tmp_path):
    (tmp_path / "main.tex").write_text(_doc("\\input{a}"))
    (tmp_path / "a.tex").write_text("A \\input{b}")
    (tmp_path / "b.tex").write_text("B \\input{a} \\input{b}")
    src = load_latex_source(tmp_path)
    assert src.text.count("A ") == 1 and src.text.count("B ") == 1
    assert src.missing_includes == ("a (include cycle)", "b (include cycle)")


GRAPH_LIMITS = SourceLimits(max_expanded_bytes=4000, max_includes=25, max_include_depth=4)


def _model(graph: list[tuple[int, list[int]]], limits: SourceLimits) -> str | None:
    """What the bounds must say about an include graph (file i: pad size, targets): a reason or None."""
    used = {"bytes": 0, "includes": 0}

    def visit(i: int, stack: tuple[int, ...]) -> None:
        used["bytes"] += len(_graph_file(graph, i).encode())
        if used["bytes"] > limits.max_expanded_bytes:
            raise RecordError("latex_too_large")
        for j in graph[i][1]:
            if j in stack:
                continue
            if len(stack) > limits.max_include_depth:
                raise RecordError("include_too_deep")
            used["includes"] += 1
            if used["includes"] > limits.max_includes:
                raise RecordError("too_many_includes")
            visit(j, stack + (j,))

    try:
        visit(0, (0,))
    except RecordError as exc:
        return exc.reason
    return None


def _graph_file(graph: list[tuple[int, list[int]]], i: int) -> str:
    pad, targets = graph[i]
    body = f"marker{i} " + "x" * pad + "\n" + "".join(f"\\input{{f{j}}}\n" for j in targets)
    return _doc(body) if i == 0 else body


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.lists(
    st.tuples(st.integers(0, 400), st.lists(st.integers(0, n - 1), max_size=5)), min_size=n, max_size=n)))
def test_random_include_graphs_stay_within_bounds(tmp_path_factory, graph):
    folder = tmp_path_factory.mktemp("graph")
    for i in range(len(graph)):
        (folder / f"f{i}.tex").write_text(_graph_file(graph, i))
    expected = _model(graph, GRAPH_LIMITS)
    try:
        src = load_latex_source(folder, GRAPH_LIMITS)
    except RecordError as exc:
        assert exc.reason == expected
        return
    assert expected is None
    assert len(src.text.encode()) <= GRAPH_LIMITS.max_expanded_bytes + 2 * GRAPH_LIMITS.max_includes
    reachable, todo = {0}, [0]
    while todo:
        for j in graph[todo.pop()][1]:
            if j not in reachable:
                reachable.add(j)
                todo.append(j)
    assert all(f"marker{i} " in src.text for i in reachable)


# ---------------------------------------------------------------------------------------------
# Archives over random member lists


_NAMES = ["sec/a.tex", "../up.tex", "/abs.tex", "a/../../b.tex", "fig.png", "./ok.tex", "C:/win.tex", "refs.bib"]
_KINDS = ["file", "dir", "symlink-in", "symlink-out", "hardlink-out", "fifo", "chr"]


def _unsafe_name(name: str) -> bool:
    return name.startswith("/") or name.startswith("C:") or name in ("../up.tex", "a/../../b.tex")


def _member(name: str, kind: str) -> tarfile.TarInfo | tuple[str, bytes]:
    if kind == "file":
        return (name, b"% a member\n")
    types = {"dir": tarfile.DIRTYPE, "symlink-in": tarfile.SYMTYPE, "symlink-out": tarfile.SYMTYPE,
             "hardlink-out": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}
    # An in-archive link from a member one folder down points up one level; "./ok.tex" is at the top.
    inside = "main.tex" if "/" not in name.removeprefix("./") else "../main.tex"
    target = {"symlink-in": inside, "symlink-out": "../../etc/passwd",
              "hardlink-out": "/etc/passwd"}.get(kind, "")
    return _special(name, types[kind], target)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_KINDS)), max_size=6),
       st.sampled_from(["w:gz", "w:bz2", "w:xz", "w"]))
def test_random_archives_are_read_in_memory_or_rejected_as_unsafe(tmp_path_factory, members, mode):
    folder = tmp_path_factory.mktemp("tar")
    arc = _tar(folder / "p.tar", [("main.tex", _doc("\\section{S} body").encode())] + [_member(n, k) for n, k in members],
               mode)
    unsafe = any(_unsafe_name(n) or k in ("symlink-out", "hardlink-out", "fifo", "chr") for n, k in members)
    try:
        src = load_latex_source(arc)
    except RecordError as exc:
        assert unsafe and exc.reason == "archive_unsafe_member", exc
    else:
        assert not unsafe and src.main_file == "main.tex" and "body" in src.text
    assert sorted(p.name for p in folder.iterdir()) == ["p.tar"]  # nothing extracted beside it


def test_corrupt_and_fake_compression(tmp_path):
    good = _tar(tmp_path / "good.tar.gz", _good_members()).read_bytes()
    cases = {
        "fake.gz": b"\\documentclass{article} not gzip at all",
        "trunc.tgz": good[:-40],
        "garbage.tar.gz": b"\x1f\x8b\x08\x00" + bytes((i * 73 + 41) % 256 for i in range(300)),
        "fake.tar.bz2.tgz": b"BZh9" + b"\x00" * 100,
        "fake-xz.tgz": b"\xfd7zXZ\x00" + b"\x01" * 100,
        "empty.tgz": b"",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RecordError) as e:
            load_latex_source(tmp_path / name)
        assert e.value.reason == "corrupt_archive", name


def test_single_gzip_bomb_with_default_limits_stops_at_the_bound(tmp_path):
    # not zeros: a gzip of zeros reads as an empty tar (latex_no_main_file), also a reject
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(b"%" * (21 * MIB), compresslevel=1))
    with pytest.raises(RecordError) as e:
        load_latex_source(tmp_path / "bomb.gz")
    assert e.value.reason == "archive_too_large"


def test_a_link_member_inside_the_archive_reads_its_target(tmp_path):
    arc = _tar(tmp_path / "p.tar.gz", [("main.tex", _doc("\\input{alias}").encode()), ("real.tex", b"REAL TEXT"),
                                       _special("alias.tex", tarfile.SYMTYPE, "real.tex")])
    assert "REAL TEXT" in load_latex_source(arc).text


# ---------------------------------------------------------------------------------------------
# The other input files of a build


def test_abstracts_file_with_invalid_bytes_is_a_counted_reject(tmp_path):
    from cyclebench.builders.bibtex import AbstractIndex, read_abstract_rows

    good = json.dumps({"key": "a2020", "abstract": "An abstract."}).encode()
    (tmp_path / "cited.jsonl").write_bytes(b"\xef\xbb\xbf" + good + b"\n" + good.replace(b"An", b"\xffAn") + b"\n")
    (tmp_path / "cited.csv").write_bytes(b"key,abstract\na2020,An abstract.\nb2021,\xff broken\n")
    for name in ("cited.jsonl", "cited.csv"):
        index = AbstractIndex.from_rows(read_abstract_rows(tmp_path / name))
        assert (index.rows, dict(index.rejected)) == (2, {"invalid_row": 1}), name


def test_a_bound_that_is_not_positive_is_one_line_and_exit_2(tmp_path, capsys):
    from cyclebench.cli import main

    (tmp_path / "papers").mkdir()
    (tmp_path / "meta.jsonl").write_text("")
    code = main(["build", "research-14k", "--papers", str(tmp_path / "papers"), "--metadata", str(tmp_path / "meta.jsonl"),
                 "--out", str(tmp_path / "out"), "--max-members", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "max_members must be a positive integer" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
