"""Research-14K extraction throughput: sections per second (LaTeX) and pages per second (PDF), each as a
ratio against the bare extractor call on the same files, plus the whole build on 1 and 2 workers.

Definitions (all timed in this one run, best of ``--repeat``):

* LaTeX, bare: what any LaTeX-to-text path must pay: ``load_latex_source`` (read the files, find the main
  file, strip comments, resolve includes) and pylatexenc's ``LatexNodes2Text().latex_to_text`` on the
  resolved text. It yields one undivided text, no sections.
* LaTeX, extraction: ``cyclebench.builders.paper_extract.extract_latex``: the same loading, the structural compile
  check, ``parse_latex`` (sections, captions, math kept, acknowledgements and appendix handled), the ``.bib``
  parsed with bibtexparser and the cited keys collected.
* LaTeX, row stage: ``PaperToRow`` on the paper: extraction, references with abstracts, part split, the
  offline outline and the 5-turn messages (what one worker does per paper in a build).
* PDF, bare: PyMuPDF ``page.get_text()`` for every page (plain text, no layout analysis). Also timed:
  ``extract_pdf_text`` alone (pymupdf4llm markdown, what the extraction starts with), to show where the
  time goes.
* PDF, extraction: ``extract_text_paper(path, "pdf")``: ``extract_pdf_text`` (pymupdf4llm markdown, the
  extractor the builders use), ``clean-v1``, headings to sections, captions, the reference list.
* Sections per second count the sections the extraction finds (the bare path finds none; the same number is
  used for both, so the ratio is a time ratio). Pages per second count PDF pages.

    python benchmarks/bench_extract.py --repeat 3 --build-copies 32 --write benchmarks/RESULTS_extract.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / ".." / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures" / "research14k" / "papers"


def latex_files() -> list[Path]:
    files = [FIXTURES / "r14-good", FIXTURES / "r14-bbl", FIXTURES / "r14-inline.tex"]
    corpus_paper = CORPUS / "papers" / "latex" / "iclr2021_calibration"
    return ([corpus_paper.resolve()] if corpus_paper.is_dir() else []) + files


def pdf_files() -> list[Path]:
    folder = CORPUS / "papers" / "pdf"
    return sorted(folder.resolve().glob("*.pdf")) if folder.is_dir() else []


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_latex(repeat: int) -> dict:
    from pylatexenc.latex2text import LatexNodes2Text

    from cyclebench.builders.outline import OutlineFromSections
    from cyclebench.builders.paper_extract import extract_latex
    from cyclebench.builders.research14k import ExtractStage, PaperJob, PaperMeta, PaperToRow, Research14KConfig
    from cyclebench.sources.latex import load_latex_source

    files = latex_files()
    converter = LatexNodes2Text(math_mode="verbatim")

    def bare() -> None:
        for f in files:
            converter.latex_to_text(load_latex_source(f).text)

    sections = sum(len(extract_latex(f).sections) for f in files)
    stage = PaperToRow(ExtractStage(Research14KConfig()), OutlineFromSections())
    jobs = [PaperJob(PaperMeta(f.name, "bench", 2024), "latex", str(f), f.name) for f in files]
    outcomes = [stage(j) for j in jobs]
    assert all(o.row is not None for o in outcomes), [o.reject for o in outcomes]
    t_bare = best(bare, repeat)
    t_extract = best(lambda: [extract_latex(f) for f in files], repeat)
    t_row = best(lambda: [stage(j) for j in jobs], repeat)
    return {"files": [f.name for f in files], "sections": sections, "bare_s": t_bare, "extract_s": t_extract, "row_s": t_row}


def bench_pdf(repeat: int) -> dict:
    import pymupdf

    from cyclebench.builders.paper_extract import extract_text_paper
    from cyclebench.sources.text import extract_pdf_text

    files = pdf_files()
    if not files:
        return {}

    def bare() -> None:
        for f in files:
            with pymupdf.open(str(f)) as doc:
                for page in doc:
                    page.get_text()

    pages = 0
    for f in files:
        with pymupdf.open(str(f)) as doc:
            pages += doc.page_count
    sections = sum(len(extract_text_paper(f, "pdf").sections) for f in files)
    t_bare = best(bare, repeat)
    t_markdown = best(lambda: [extract_pdf_text(f) for f in files], repeat)
    t_extract = best(lambda: [extract_text_paper(f, "pdf") for f in files], repeat)
    return {"files": [f.name for f in files], "pages": pages, "sections": sections, "bare_s": t_bare,
            "markdown_s": t_markdown, "extract_s": t_extract}


def bench_build(copies: int) -> dict:
    """The whole builder on the LaTeX papers copied ``copies`` times: 1 worker, 2 workers, datatrove."""
    from cyclebench.builders.executor import DatatroveOptions
    from cyclebench.builders.research14k import Research14KConfig, build

    tmp = Path(tempfile.mkdtemp(prefix="bench-r14-"))
    try:
        papers = tmp / "papers"
        papers.mkdir()
        rows = []
        for i in range(copies):
            for f in latex_files():
                pid = f"{f.name.removesuffix('.tex')}-{i}"
                if f.is_dir():
                    shutil.copytree(f, papers / pid)
                else:
                    shutil.copy(f, papers / f"{pid}.tex")
                rows.append({"paperId": pid, "venue": "bench", "year": 2023 + i % 2})
        meta = tmp / "meta.jsonl"
        meta.write_text("".join(json.dumps(r) + "\n" for r in rows))
        out: dict = {"papers": len(rows)}
        for name, kwargs in (("workers=1", {"workers": 1}), ("workers=2", {"workers": 2}),
                             ("datatrove tasks=4 workers=2", {"engine": "datatrove",
                                                              "datatrove": DatatroveOptions(tasks=4, workers=2)})):
            if name.startswith("datatrove"):
                try:
                    import datatrove  # noqa: F401
                except ImportError:
                    continue
            start = time.perf_counter()
            report = build(meta, papers, tmp / name.replace(" ", "_"), Research14KConfig(), progress=False, **kwargs)
            out[name] = time.perf_counter() - start
            out.setdefault("kept", report.manifest["counts"]["papers_kept"])
            digest = {k: v["sha256"] for k, v in report.manifest["shards"].items()}
            out.setdefault("shards", digest)
            out[f"{name} identical"] = digest == out["shards"]
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(latex: dict, pdf: dict, build_result: dict, repeat: int) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (f"## {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()} (1-min load average at the end: {load:.1f})")
    lines = [title, ""]
    n = latex["sections"]
    lines += [
        f"LaTeX: {len(latex['files'])} sources ({', '.join(latex['files'])}), {n} sections; best of {repeat}.",
        "",
        "| LaTeX path | seconds | sections/s | time / bare |",
        "|---|---|---|---|",
        f"| bare: `load_latex_source` + pylatexenc `LatexNodes2Text` | {latex['bare_s']:.3f} | {n / latex['bare_s']:.0f} | 1.00x |",
        f"| extraction: `extract_latex` (check, sections, captions, .bib, cites) | {latex['extract_s']:.3f} | {n / latex['extract_s']:.0f} | **{latex['extract_s'] / latex['bare_s']:.2f}x** |",
        f"| row stage: `PaperToRow` (+ references, outline, messages) | {latex['row_s']:.3f} | {n / latex['row_s']:.0f} | **{latex['row_s'] / latex['bare_s']:.2f}x** |",
        "",
    ]
    if pdf:
        p = pdf["pages"]
        lines += [
            f"PDF: {len(pdf['files'])} corpus PDFs, {p} pages, {pdf['sections']} sections found; best of {repeat}.",
            "",
            "| PDF path | seconds | pages/s | time / bare |",
            "|---|---|---|---|",
            f"| bare: PyMuPDF `page.get_text()` | {pdf['bare_s']:.3f} | {p / pdf['bare_s']:.0f} | 1.00x |",
            f"| `extract_pdf_text` alone (pymupdf4llm markdown, the builders' PDF extractor) | {pdf['markdown_s']:.3f} | {p / pdf['markdown_s']:.1f} | {pdf['markdown_s'] / pdf['bare_s']:.1f}x |",
            f"| extraction: `extract_text_paper(pdf)` (pymupdf4llm, clean-v1, sections, references) | {pdf['extract_s']:.3f} | {p / pdf['extract_s']:.1f} | **{pdf['extract_s'] / pdf['bare_s']:.1f}x** |",
            "",
        ]
    if build_result:
        b = build_result
        one = b["workers=1"]
        intro = (f"Whole build (`research14k.build`, offline outline): {b['papers']} LaTeX papers (the sources above, "
                 f"copied), {b['kept']} rows.")
        lines += [intro, "", "| engine | seconds | papers/s | speed-up | shards identical to 1 worker |", "|---|---|---|---|---|"]
        for name in ("workers=1", "workers=2", "datatrove tasks=4 workers=2"):
            if name in b:
                lines.append(f"| {name} | {b[name]:.2f} | {b['papers'] / b[name]:.1f} | {one / b[name]:.2f}x | {b[name + ' identical']} |")
        lines.append("")
    return "\n".join(lines)


HEADER = """# Research-14K extraction: sections/s (LaTeX) and pages/s (PDF)

`python benchmarks/bench_extract.py --repeat 3 --build-copies 32 --write benchmarks/RESULTS_extract.md`. Each
path is timed against the bare extractor call on the same files in the same run (definitions in the script's
docstring): LaTeX bare = `load_latex_source` + pylatexenc `LatexNodes2Text` on the resolved text; PDF bare =
PyMuPDF `page.get_text()` on every page.

Reading:

- LaTeX: the whole extraction (compile check, sections, captions, `.bib`, cited keys) and even the whole row
  stage (references with abstracts, outline, 5-turn messages) take *less* time than the bare pylatexenc call,
  because `parse_latex` lifts math out before pylatexenc sees the prose, and pylatexenc is slowest on math.
  The LaTeX path costs no more than getting plain text out at all.
- PDF: the extraction is ~30x the bare `get_text()`, and `extract_pdf_text` alone (pymupdf4llm's layout-aware
  markdown, which keeps headings, tables and the reference list apart) accounts for nearly all of it; cleaning,
  headings, captions and references add a few percent. A faster PDF path means a cheaper extractor (the
  builders fall back to plain PyMuPDF only when pymupdf4llm fails), not faster code around it; PDFs are
  fallbacks here, and the build scales out over processes or datatrove tasks instead.
- Workers: every engine wrote byte-identical shards. The speed-up column needs an idle machine to mean
  anything: the load average in each heading says how many other jobs shared the 2 cores during the run.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build-copies", type=int, default=32, help="copies of the LaTeX sources for the whole-build timing (0: skip)")
    parser.add_argument("--write", type=Path, help="prepend the figures to this markdown file")
    args = parser.parse_args(argv)
    latex = bench_latex(args.repeat)
    pdf = bench_pdf(args.repeat)
    build_result = bench_build(args.build_copies) if args.build_copies else {}
    text = report(latex, pdf, build_result, args.repeat)
    print(text)
    if args.write:
        old = args.write.read_text() if args.write.exists() else HEADER
        body = old[len(HEADER):] if old.startswith(HEADER) else ""
        args.write.write_text(HEADER + text + "\n" + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
