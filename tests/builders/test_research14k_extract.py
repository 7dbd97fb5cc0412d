"""A paper's source to sections, captions and bibliography: LaTeX checks, LaTeX, markdown/text headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from cyclebench.builders.paper_extract import (
    check_latex_structure,
    extract_latex,
    extract_text_paper,
    find_headings,
    mask_verbatim,
    split_text_sections,
)
from cyclebench.records import RecordError

FX = Path(__file__).resolve().parents[1] / "fixtures" / "research14k"
PAPERS = FX / "papers"


def doc(body: str) -> str:
    return "\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n"


@pytest.mark.parametrize(
    ("tex", "reason", "where"),
    [
        ("\\documentclass{article}\n\\begin{document}\nText", "latex_missing_end_document", "never closed"),
        (doc("\\textbf{open"), "latex_unbalanced_braces", "never closed (the first at line 3)"),
        (doc("close}"), "latex_unbalanced_braces", "line 3"),
        (doc("\\begin{itemize}\n\\item a\n\\end{enumerate}"), "latex_unbalanced_environment", "closes \\begin{itemize} of line 3"),
        (doc("\\begin{table}\n\\begin{tabular}{l}a\\end{tabular}"), "latex_unbalanced_environment", "\\begin{table} of line 3"),
        (doc("\\end{figure}"), "latex_unbalanced_environment", "no open environment"),
        ("\\documentclass{article}\nno body", "latex_no_document", ""),
    ],
)
def test_structure_check_names_what_does_not_compile(tex, reason, where):
    with pytest.raises(RecordError) as err:
        check_latex_structure(tex, "main.tex")
    assert err.value.reason == reason and where in err.value.detail


def test_structure_check_passes_escapes_and_verbatim():
    tex = doc(
        "Sets $\\{x\\}$ and \\verb|}{| and \\verb+\\end{document}+.\n"
        "\\begin{verbatim}\nif (x) { \\end{itemize}\n\\end{verbatim}\n"
        "\\begin{itemize}\\item {nested {groups}}\\end{itemize}"
    )
    check_latex_structure(tex)
    masked = mask_verbatim("a \\verb|{x}| b\n\\begin{verbatim}\n{\n\\end{verbatim}")
    assert masked.count("\n") == 3 and "{x}" not in masked and "\\end{verbatim}" in masked


def test_end_document_inside_verb_does_not_hide_a_truncated_source():
    with pytest.raises(RecordError) as err:
        extract_latex(PAPERS / "r14-noend.tex")
    assert err.value.reason == "latex_missing_end_document"


def test_latex_project_to_sections_captions_and_bib():
    paper = extract_latex(PAPERS / "r14-good")
    assert paper.title == "Sparse Probes for Calibrated Retrieval"
    assert paper.abstract.startswith("Retrieval models are often over-confident")
    heads = [(s.number, s.heading, s.appendix) for s in paper.sections]
    assert heads == [
        ("1", "Introduction", False), ("2", "Related Work", False), ("3", "Method", False), ("3.1", "The probe", False),
        ("4", "Experiments", False), ("4.1", "Datasets and Baselines", False), ("4.2", "Main Results", False),
        ("5", "Conclusion", False), ("A", "Proof of Proposition 1", True),
    ]
    text = "\n".join(s.text for s in paper.sections)
    assert "HIDDEN" not in text and "SparseProbe" in text  # comments, \iffalse, comment env, acknowledgements gone
    assert {"acknowledgements", "bibliography", "appendix_flagged", "bib_failed_blocks:1"} <= set(paper.notes)
    table, figure = paper.figures
    assert (table.kind, table.number, table.label, table.section) == ("table", "1", "tab:main", 6)
    assert table.content.splitlines()[1] == "| Temperature scaling | 4.1 | 5.3 |"
    assert (figure.kind, figure.label, figure.caption) == ("figure", "fig:rel", "Reliability diagrams before and after the probe.")
    assert paper.cited == ("karpukhin2020dense", "guo2017calibration", "missing2020ghost", "platt1999", "lewis2020rag",
                           "kwiatkowski2019nq")
    assert paper.bib is not None and paper.bib.source == "bib" and len(paper.bib.entries) == 6
    assert paper.source_kind == "latex" and len(paper.source_sha256) == 64


def test_bbl_and_inline_bibliography_fallbacks(tmp_path):
    bbl = extract_latex(PAPERS / "r14-bbl")
    assert bbl.bib.source == "bbl" and set(bbl.bib.entries) == {"devlin2019", "vaswani2017"}
    inline = extract_latex(PAPERS / "r14-inline.tex")
    assert inline.bib.source == "thebibliography" and set(inline.bib.entries) == {"goyal2017", "kingma2015"}
    without = extract_latex(PAPERS / "r14-bbl", bbl_fallback=False)
    assert without.bib is None


def test_empty_sources_are_rejected(tmp_path):
    (tmp_path / "empty.tex").write_bytes(b"")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "main.tex").write_bytes(b"")
    for path in (tmp_path / "empty.tex", tmp_path / "folder"):
        with pytest.raises(RecordError) as err:
            extract_latex(path)
        assert err.value.reason == "source_empty"


def test_markdown_paper_sections_figures_and_reference_list():
    paper = extract_text_paper(PAPERS / "r14-md.md", "markdown")
    assert paper.title == "Contrastive Pretraining for Tabular Anomaly Detection"
    assert paper.abstract.startswith("Anomaly detectors for tabular data") and "\n" not in paper.abstract
    assert [(s.number, s.heading, s.level) for s in paper.sections] == [
        ("1", "Introduction", 1), ("2", "Related Work", 1), ("3", "Method", 1), ("3.1", "Encoder", 2),
        ("3.2", "Objective", 2), ("4", "Experiments", 1), ("4.1", "Setup", 2), ("4.2", "Results", 2),
        ("5", "Conclusion", 1),
    ]
    assert "acknowledgements" in paper.notes and "HIDDEN" not in " ".join(s.text for s in paper.sections)
    (table,) = paper.figures
    assert (table.kind, table.number, table.section) == ("table", "1", 7)
    assert table.content.splitlines()[2] == "| Isolation Forest | 0.81 |"
    assert paper.bib.source == "text-list" and paper.cited == ("ref1", "ref2")


def test_numbered_headings_must_continue_the_numbering():
    lines = [
        "ABSTRACT", "", "Some abstract.", "", "1 INTRODUCTION", "", "Text.", "",
        "2 layers of the network are frozen in this sentence.",  # a sentence, not a heading
        "", "2", "RELATED WORK", "", "Text.", "",  # the number on its own line (a PDF extractor's habit)
        "", "7 WRN", "", "a table row that would skip the numbering", "",
        "3.1 A SUBSECTION WITHOUT ITS PARENT", "", "3 METHOD", "", "3.1 Sparse probe", "", "Text.",
    ]
    heads = [(h.number, h.heading) for h in find_headings(lines)]
    assert heads == [("", "ABSTRACT"), ("1", "INTRODUCTION"), ("2", "RELATED WORK"), ("3", "METHOD"), ("3.1", "Sparse probe")]


def test_text_without_abstract_heading_takes_the_lead_as_abstract():
    title, abstract, sections, _notes = split_text_sections("# T\n\nLead paragraph\nwrapped.\n\n1 INTRODUCTION\n\nBody.\n")
    assert (title, abstract) == ("T", "Lead paragraph wrapped.")
    assert [(s.number, s.text) for s in sections] == [("1", "Body.")]


def test_citations_shown_in_verbatim_are_not_cited(tmp_path):
    source = tmp_path / "p.tex"
    source.write_text(doc("\\section{Intro}\nSee~\\citep{real2020}.\n\\begin{verbatim}\n\\cite{shown2020}\n\\end{verbatim}\n"
                          "Also \\verb|\\cite{inline2020}|.\n\\section{Experiments}\nDone."))
    assert extract_latex(source).cited == ("real2020",)
