"""Review-5K build throughput and memory, as ratios against a bare ``json.loads`` of the same bytes.

Replicates the corpus's 300 real ICLR 2026 submissions (with their reviews) to N papers under new ids,
then in one run times (a) ``json.loads`` of every line (the floor any build must pay) and (b) the full
build (parse, filter, rows, zstd parquet shards, manifest). Peak memory is read per size in a fresh
process, to show it stays flat as the input grows (the build streams). Optionally attaches the corpus's
real markdown texts to every paper (--with-texts) to show the cost of text cleaning.

    python benchmarks/bench_build.py --papers 5000 --write benchmarks/RESULTS_build.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus"


def replicate(out: Path, n_papers: int) -> int:
    """Write ``n_papers`` submissions made from the corpus's 300 with fresh ids; returns bytes written."""
    source = (CORPUS / "openreview" / "iclr2026_v2.jsonl").read_text().splitlines()
    with open(out, "w") as handle:
        for i in range(n_papers):
            note = json.loads(source[i % len(source)])
            copy = i // len(source)
            if copy:
                new_id = f"{note['id']}c{copy}"
                for reply in note["details"]["directReplies"]:
                    reply["forum"] = new_id
                    if reply.get("replyto") == note["id"]:
                        reply["replyto"] = new_id
                note["id"] = note["forum"] = new_id
            handle.write(json.dumps(note, ensure_ascii=True, separators=(",", ":")) + "\n")
    return out.stat().st_size


def texts_folder(folder: Path, raw: Path) -> None:
    """Give every paper one of the corpus's real markdown texts (symlinks, cycled)."""
    texts = sorted((CORPUS / "papers" / "markdown" / "iclr2022").glob("*.txt"))
    folder.mkdir()
    with open(raw) as handle:
        for i, line in enumerate(handle):
            paper_id = json.loads(line)["id"]
            (folder / f"{paper_id}.md").symlink_to(texts[i % len(texts)].resolve())


def bare_parse(raw: Path) -> float:
    start = time.perf_counter()
    with open(raw, "rb") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - start


def build_once(raw: Path, papers: Path | None, out: Path) -> float:
    sys.path.insert(0, str(ROOT))
    from cyclebench.builders import review5k

    config = review5k.Review5KConfig(require_text=papers is not None)
    start = time.perf_counter()
    review5k.build(raw, papers, out, config, progress=False)
    return time.perf_counter() - start


def peak_rss_mb(raw: Path, papers: Path | None) -> float:
    """Peak RSS of a fresh process that imports the builder and builds ``raw``."""
    code = (
        "import resource,sys,tempfile,pathlib;sys.path.insert(0,%r);"
        "from builders import review5k;"
        "import datasets, pyarrow;"
        "base=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "d=pathlib.Path(tempfile.mkdtemp())/'o';"
        "review5k.build(%r,%s,d,review5k.Review5KConfig(require_text=%r),progress=False);"
        "print(base/1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"
    ) % (str(ROOT), str(raw), repr(str(papers)) if papers else "None", papers is not None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-texts", action="store_true")
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        raw = tmp / "raw.jsonl"
        size = replicate(raw, args.papers)
        papers = None
        if args.with_texts:
            papers = tmp / "papers"
            texts_folder(papers, raw)
        parse_t = min(bare_parse(raw) for _ in range(args.repeats))
        build_t = min(build_once(raw, papers, tmp / f"out{i}") for i in range(args.repeats))
        lines.append(f"- input: {args.papers} papers, {size / 1e6:.1f} MB of raw JSONL"
                     + (" + one real markdown text per paper" if papers else " (reviews only, no texts)"))
        lines.append(f"- bare `json.loads` of every line: {parse_t:.3f} s (best of {args.repeats})")
        lines.append(f"- full build: {build_t:.3f} s (best of {args.repeats}) = "
                     f"{args.papers / build_t:,.0f} papers/s")
        lines.append(f"- **build / bare parse = {build_t / parse_t:.2f}x** (goal: at most 5x)")
        mem = []
        for n in (args.papers // 4, args.papers // 2, args.papers, args.papers * 2):
            sized = tmp / f"raw{n}.jsonl"
            replicate(sized, n)
            sized_papers = None
            if papers is not None:
                sized_papers = tmp / f"papers{n}"
                texts_folder(sized_papers, sized)
            base, peak = peak_rss_mb(sized, sized_papers)
            mem.append((n, sized.stat().st_size / 1e6, base, peak))
        lines.append("- peak RSS of a fresh process (after imports -> after the build):")
        lines += [f"  - {n:>6} papers ({mb:6.1f} MB input): {base:6.0f} MB -> {peak:6.0f} MB (+{peak - base:.0f} MB)"
                  for n, mb, base, peak in mem]
    report = "\n".join(lines)
    print(report)
    if args.write:
        header = (f"\n## {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}" + (" - with texts" if args.with_texts else "") + "\n\n")
        with open(args.write, "a") as handle:
            handle.write(header + report + "\n")


if __name__ == "__main__":
    main()
