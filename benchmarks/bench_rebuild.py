"""Rebuild from scratch on the corpus: each dataset's build command timed, sized and scaled per 1,000 papers.

Runs the README's "Rebuild from scratch" build commands (the CLI, in subprocesses) on the real corpus:

* PDF to text: ``sources.text.extract_pdf_text`` on the corpus's 5 real ICLR 2025 PDFs, per paper;
* Review-5K and DeepReview-13K from the 300 real ICLR 2026 notes. The corpus has no text for those ids, so
  each gets one of the corpus's 150 real PDF-to-markdown texts (copied, cycled); a second Review-5K build
  gives 5 of them the corpus's real PDFs, so the PDF folder ``fetch openreview --pdfs`` writes is read as is;
* Research-14K from e-prints ``<id>.tar.gz`` made of the corpus's one real LaTeX paper (main.tex +
  references.bib), copied under N ids (arXiv e-prints are not in the corpus);
* the Research-14K metadata step (no command writes it) run on the ICLR 2026 notes.

Fetching cannot be measured here (no network): its lower bound is computed from the default request
intervals in ``cyclebench.sources`` (requests per paper x interval).

    python benchmarks/bench_rebuild.py --write benchmarks/RESULTS_rebuild.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus"
SNAPSHOT = CORPUS / "openreview" / "iclr2026_v2.jsonl"
LATEX = CORPUS / "papers" / "latex" / "iclr2021_calibration"
CLI = [sys.executable, "-m", "cyclebench"]


def metadata_rows(snapshot: Path):  # type: ignore[no-untyped-def]
    """Research-14K ``--metadata`` rows of a snapshot's accepted papers: the README's stopgap, same logic."""
    from cyclebench.sources.openreview import iter_raw_notes, parse_submission

    for raw in iter_raw_notes(snapshot):
        paper = parse_submission(raw.note).submission if raw.note is not None else None
        if paper is not None and paper.decision.label == "accept":
            authors = raw.note["content"].get("authors", [])
            authors = authors.get("value", []) if isinstance(authors, dict) else authors
            yield {"paperId": paper.id, "title": paper.title, "authors": authors, "venue": "ICLR", "year": paper.year}


def du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(CLI + args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: cyclebench {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return wall


def kept(out: Path) -> tuple[int, int, dict]:
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    rejected = counts.get("papers_rejected", {})
    return counts["papers_kept"], sum(rejected.values()), rejected


def pdf_to_text() -> tuple[list[str], float]:
    import pymupdf

    from cyclebench.sources.text import extract_pdf_text

    lines, total, pages = [], 0.0, 0
    for pdf in sorted((CORPUS / "papers" / "pdf").glob("*.pdf")):
        with pymupdf.open(pdf) as doc:
            n = doc.page_count
        start = time.perf_counter()
        text, source = extract_pdf_text(pdf)
        wall = time.perf_counter() - start
        total, pages = total + wall, pages + n
        lines.append(f"  - `{pdf.name}`: {n} pages, {pdf.stat().st_size / 1e6:.2f} MB -> {len(text):,} chars "
                     f"({source}) in {wall:.2f} s")
    per = total / len(lines)
    lines.insert(0, f"- **PDF to text** (`extract_pdf_text`, the builders' PDF reader): {per:.2f} s per paper "
                    f"(mean of {len(lines)} real PDFs, {total / pages:.2f} s per page) = "
                    f"**{per * 1000 / 3600:.2f} h per 1,000 papers** on one core")
    return lines, per


def row(name: str, n_in: int, n_out: int, wall: float, startup: float, size: int, note: str,
        per_out: float | None = None) -> str:
    per_in = (wall - startup) / n_in * 1000
    per_out = size / max(n_out, 1) * 1000 if per_out is None else per_out
    shown = f"{per_in:.0f} s" if per_in < 120 else f"{per_in / 60:.1f} min"
    return (f"| {name} | {n_in} | {n_out} | {wall:.1f} s | {shown} | {size / 1e6:.1f} MB | "
            f"{per_out / 1e6:.0f} MB | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20, help="Research-14K: e-prints made of the LaTeX paper")
    parser.add_argument("--write", type=Path, default=None, help="append the results to this Markdown file")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    import pyarrow.parquet as pq

    from cyclebench.cli.fetch import cited_works
    from cyclebench.sources.fetch_abstracts import (
        OPENALEX_POLICY,
        S2_POLICY_ANON,
        S2_POLICY_KEYED,
    )
    from cyclebench.sources.fetch_arxiv import ARXIV_POLICY
    from cyclebench.sources.fetch_pdfs import OPENREVIEW_PDF_POLICY

    lines, _ = pdf_to_text()
    table = ["| dataset | papers in | papers out | wall | per 1,000 papers in | output | per 1,000 papers out | inputs |",
             "|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        startup = min(timed(["build", "review-5k", "--help"]) for _ in range(3))
        ids = [json.loads(line)["id"] for line in SNAPSHOT.read_text().splitlines()]
        texts = sorted((CORPUS / "papers" / "markdown" / "iclr2022").glob("*.txt"))
        md = tmp / "papers-md"
        md.mkdir()
        for i, paper_id in enumerate(ids):
            shutil.copyfile(texts[i % len(texts)], md / f"{paper_id}.md")

        out = tmp / "review5k"
        wall = timed(["build", "review-5k", "--openreview", str(SNAPSHOT), "--papers", str(md), "--out", str(out)])
        n_out, n_rej, reasons = kept(out)
        table.append(row("Review-5K", len(ids), n_out, wall, startup, du(out), "ICLR 2026 notes + markdown texts"))
        first = sorted(pid for shard in sorted((out / "data").glob("*.parquet"))
                       for pid in pq.read_table(shard, columns=["id"]).column(0).to_pylist())
        pdfs = sorted((CORPUS / "papers" / "pdf").glob("*.pdf"))
        chosen = set(first[: len(pdfs)])
        sub = tmp / "sub.jsonl"
        sub.write_text("".join(line + "\n" for line in SNAPSHOT.read_text().splitlines()
                               if json.loads(line)["id"] in chosen))
        pdf_dir = tmp / "pdfs"
        pdf_dir.mkdir()
        for paper_id, pdf in zip(sorted(chosen), pdfs):
            shutil.copyfile(pdf, pdf_dir / f"{paper_id}.pdf")
        out_pdf = tmp / "review5k-pdf"
        wall = timed(["build", "review-5k", "--openreview", str(sub), "--papers", str(pdf_dir), "--out", str(out_pdf)])
        sources = json.loads((out_pdf / "manifest.json").read_text())["counts"].get("text_sources")
        table.append(row("Review-5K, PDFs", len(chosen), kept(out_pdf)[0], wall, startup, du(out_pdf),
                         f"{len(chosen)} of those notes + the 5 real PDFs as `<id>.pdf` ({sources})"))

        out_dr = tmp / "deepreview13k"
        wall = timed(["build", "deepreview-13k", "--openreview", str(SNAPSHOT), "--papers", str(md), "--out", str(out_dr)])
        dr_out, dr_rej, dr_reasons = kept(out_dr)
        table.append(row("DeepReview-13K", len(ids), dr_out, wall, startup, du(out_dr),
                         "ICLR 2026 notes + markdown texts, offline chain, 3 modes"))

        latex = tmp / "latex"
        latex.mkdir()
        meta = tmp / "meta.jsonl"
        with open(meta, "w") as handle:
            for i in range(args.copies):
                paper_id = f"calibration{i:03d}"
                with tarfile.open(latex / f"{paper_id}.tar.gz", "w:gz") as archive:
                    archive.add(LATEX / "main.tex", arcname="main.tex")
                    archive.add(LATEX / "references.bib", arcname="references.bib")
                handle.write(json.dumps({"paperId": paper_id, "venue": "ICLR", "year": 2021, "arxiv": "2010.10994"}) + "\n")
        out_r = tmp / "research14k"
        wall = timed(["build", "research-14k", "--papers", str(latex), "--metadata", str(meta), "--out", str(out_r)])
        r_out, r_rej, r_reasons = kept(out_r)
        # Identical copies compress together, so the size per paper comes from a build of one copy.
        one = tmp / "meta1.jsonl"
        one.write_text(meta.read_text().splitlines()[0] + "\n")
        timed(["build", "research-14k", "--papers", str(latex), "--metadata", str(one), "--out", str(tmp / "r1")])
        single = du(tmp / "r1")
        table.append(row("Research-14K", args.copies, r_out, wall, startup, du(out_r),
                         f"{args.copies} e-prints `<id>.tar.gz` of the one real LaTeX paper, no `--abstracts`; "
                         f"size per paper from a 1-paper build ({single / 1e6:.2f} MB, card and manifest included)",
                         per_out=single * 1000))
        works = list(cited_works(latex / "calibration000.tar.gz"))
        to_fetch = sum(not w.has_abstract and w.work_id is not None for w in works)
        eprint_mb = (latex / "calibration000.tar.gz").stat().st_size / 1e6

    accepted = list(metadata_rows(SNAPSHOT))
    with_authors = sum(bool(r["authors"]) for r in accepted)
    lines.append(f"- build start-up (`cyclebench build review-5k --help`, best of 3): {startup:.1f} s, left out of "
                 "the per-1,000 figures, which are scaled linearly from the papers in the row (not measured at 1,000)")
    lines += ["", *table, ""]
    lines.append(f"- Review-5K: {len(ids)} notes -> {n_out} papers, {n_rej} rejected ({reasons}); the 5-paper PDF build "
                 f"includes extracting the 5 PDFs")
    lines.append(f"- DeepReview-13K: {len(ids)} notes -> {dr_out} papers, {dr_rej} rejected ({dr_reasons})")
    lines.append(f"- Research-14K: {args.copies} e-prints ({eprint_mb:.2f} MB each) -> {r_out} papers, {r_rej} rejected "
                 f"({r_reasons}); a paper with PDF input instead adds the PDF-to-text time above")
    lines.append(f"- Research-14K metadata stopgap on the ICLR 2026 notes: {len(accepted)} accepted papers, "
                 f"{with_authors} with authors")
    s2k, s2a, oa = S2_POLICY_KEYED.min_interval, S2_POLICY_ANON.min_interval, OPENALEX_POLICY.min_interval
    pdf_i, arx = OPENREVIEW_PDF_POLICY.min_interval, ARXIV_POLICY.min_interval
    lines += ["", ("Fetching per 1,000 papers, **computed, not measured** (no network here): requests per paper x "
                   "the default interval, a lower bound (server time, retries and 429 waits come on top):"), ""]
    lines.append("- `fetch openreview` notes: not paced by cyclebench; openreview-py pages of up to 1,000 notes "
                 "(with replies), so a few requests per 1,000 papers")
    pdf_mb = sum(p.stat().st_size for p in pdfs) / len(pdfs) / 1e6
    lines.append(f"- `fetch openreview --pdfs`: 1 request per paper x {pdf_i:g} s = **{1000 * pdf_i / 60:.0f} min**; "
                 f"the corpus PDFs average {pdf_mb:.2f} MB, so ~{pdf_mb:.1f} GB per 1,000 papers on disk")
    lines.append(f"- `fetch arxiv`: 2 requests per paper (API search + e-print) x {arx:g} s = "
                 f"**{2000 * arx / 3600:.2f} h** ({1000 * arx / 3600:.2f} h when the metadata gives the arXiv id); "
                 f"the e-print of the corpus paper is {eprint_mb:.2f} MB")
    lines.append(f"- `fetch abstracts`: 1 Semantic Scholar request per distinct cited work x {s2k:g} s with a key / "
                 f"{s2a:g} s without (+{oa:g} s per OpenAlex fallback); the corpus paper's bibliography has "
                 f"{len(works)} entries, {to_fetch} to fetch: if no work were shared between papers, "
                 f"**{to_fetch * 1000 * s2k / 3600:.1f} h with a key, {to_fetch * 1000 * s2a / 3600:.1f} h without**; "
                 "works cited by several papers are fetched once, which divides this by how often they are shared")
    report = "\n".join(lines)
    print(report)
    if args.write:
        header = (f"\n## {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}\n\n")
        if not args.write.exists():
            what = __doc__.split("\n\n", 1)[1].split("\n    python ")[0].strip()
            header = "# Rebuild from scratch: build times and sizes on the corpus\n\n" + what + "\n" + header
        with open(args.write, "a") as handle:
            handle.write(header + report + "\n")


if __name__ == "__main__":
    main()
