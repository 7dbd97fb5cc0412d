"""LaTeX sources: loading every shape arXiv ships, and reading the real ICLR 2021 paper as text."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

import pytest

from cyclebench.records import RecordError
from cyclebench.sources.latex import (
    LatexDocument,
    drop_iffalse,
    latex_to_markdown,
    latex_to_text,
    load_latex_source,
    parse_latex,
    strip_comments,
)
from cyclebench.sources.text import PapersDirectory

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


@pytest.fixture(scope="module")
def paper_dir() -> Path:
    p = CORPUS / "papers" / "latex" / "iclr2021_calibration"
    if not p.is_dir():
        pytest.skip(f"real corpus not found at {p}")
    return p.resolve()


@pytest.fixture(scope="module")
def doc(paper_dir: Path) -> LatexDocument:
    return parse_latex(load_latex_source(paper_dir))


def _tar(path: Path, members: dict[str, str | bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            b = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(b)
            tf.addfile(info, io.BytesIO(b))
    return path


def _outside_math(md: str) -> str:
    md = re.sub(r"\$\$.*?\$\$", "", md, flags=re.DOTALL)
    return re.sub(r"\$[^$\n]*\$", "", md)


# ---------------------------------------------------------------------------------------------
# The real paper


def test_corpus_paper_title_abstract_sections(doc: LatexDocument) -> None:
    assert doc.title == "Calibration tests beyond classification"
    assert doc.main_file == "main.tex"
    assert doc.abstract.startswith("Most supervised machine learning tasks are subject to irreducible prediction errors.")
    assert "\\" not in _outside_math(doc.abstract)
    body = doc.body_sections
    assert [(s.number, s.heading) for s in body if s.level == 1] == [
        ("1", "Introduction"),
        ("2", "Calibration error: A general framework"),
        ("3", "Kernel calibration error"),
        ("4", "Alternative approaches"),
        ("5", "Experiments"),
        ("6", "Conclusion"),
    ]
    assert ("3.1", "Choice of kernel") in [(s.number, s.heading) for s in body]
    assert all(len(s.text) > 200 for s in body)
    # The appendix is kept apart, lettered.
    assert doc.appendix_sections[0].number == "A" and doc.appendix_sections[0].heading == "Experiments"
    assert all(s.appendix for s in doc.appendix_sections)


def test_corpus_paper_captions_bib_and_removed_parts(doc: LatexDocument) -> None:
    figs = [c for c in doc.captions if c.kind == "figure"]
    assert len(figs) >= 3
    first = figs[0]
    assert first.label == "fig:ols_motivation" and first.number == "1"
    assert first.text.startswith("Illustration of a conditional distribution $\\Prob(Y|X)$")
    assert "references.bib" in doc.bib_texts
    assert "@" in doc.bib_texts["references.bib"]
    assert "acknowledgements" in doc.removed and "bibliography" in doc.removed
    everything = "\n".join(s.text for s in doc.sections)
    assert "Swedish Research Council" not in everything  # acknowledgements
    assert "Acknowledgments" not in [s.heading for s in doc.sections]


def test_corpus_paper_text_is_readable(doc: LatexDocument) -> None:
    intro = doc.body_sections[0].text
    assert "a feature $X$ and a target $Y$" in intro  # inline math kept verbatim
    assert "[DeGroot1983, Murphy1977]" in intro  # citations as keys
    assert "Figure 1:" in intro  # the float, where it stood
    assert "$$\n\\Prob(Y|P_X) = P_X \\qquad \\text{almost surely}.\n$$" in intro  # display math, label dropped
    assert "i.i.d. samples" in "\n".join(s.text for s in doc.sections)
    plain = _outside_math("\n".join(s.text for s in doc.body_sections))
    for junk in ("\\cite", "\\ref", "\\label", "\\begin", "\\end{", "\\section", "graphics", "<cit.>"):
        assert junk not in plain, junk


def test_corpus_markdown(doc: LatexDocument) -> None:
    md = latex_to_markdown(doc)
    assert md.startswith("# Calibration tests beyond classification\n\n## Abstract\n\nMost supervised")
    assert "\n## 1 Introduction\n" in md and "\n### 3.1 Choice of kernel\n" in md
    assert "## Appendix" not in md and "## A Experiments" not in md
    full = latex_to_markdown(doc, include_appendix=True)
    assert "\n## Appendix\n" in full and "\n## A Experiments\n" in full and "\n### A.1 Ordinary least squares\n" in full


def test_corpus_paper_through_papers_directory(paper_dir: Path) -> None:
    d = PapersDirectory(paper_dir.parent)
    assert d.ids() == ["iclr2021_calibration"]
    pt = d.read("iclr2021_calibration")
    assert pt is not None and pt.source == "latex" and pt.source_path == "iclr2021_calibration"
    assert pt.text.startswith("# Calibration tests beyond classification\n\n## Abstract\n")
    assert "title_kept" in pt.cleaning_applied and "no_references_heading" in pt.cleaning_applied
    assert len(pt.source_sha256) == 64


# ---------------------------------------------------------------------------------------------
# Archives


def test_tarball_with_input_resolves_includes(tmp_path: Path, paper_dir: Path) -> None:
    main = (paper_dir / "main.tex").read_text(encoding="utf-8")
    start = main.index("\\section{Conclusion}")
    end = main.index("\\subsubsection*{Acknowledgments}")
    split = main[:start] + "\\input{sections/conclusion}\n\\include{missing_file}\n" + main[end:]
    members: dict[str, str | bytes] = {
        "paper/main.tex": split,
        "paper/sections/conclusion.tex": "% included\n" + main[start:end],
        "paper/references.bib": (paper_dir / "references.bib").read_bytes(),
        "paper/figures/plot.pdf": b"%PDF-1.4 not text",
    }
    for arc in (_tar(tmp_path / "2101.00001.tar.gz", members), _tar(tmp_path / "p.tgz", members), _tar(tmp_path / "p.tar", members, "w")):
        src = load_latex_source(arc)
        assert src.main_file == "paper/main.tex"
        assert "paper/references.bib" in src.bib_texts
        assert src.missing_includes == ("missing_file",)
        d = parse_latex(src)
        assert d.title == "Calibration tests beyond classification"
        assert [s.heading for s in d.body_sections][-1] == "Conclusion"
        assert "We presented a framework of calibration estimators" in d.body_sections[-1].text
    # A member escaping the archive (``..``, absolute) rejects the e-print (issue 11; it used to be skipped).
    for bad in ("../escape.tex", "/abs.tex"):
        with pytest.raises(RecordError) as e:
            load_latex_source(_tar(tmp_path / "bad.tar.gz", {**members, bad: "x"}))
        assert e.value.reason == "archive_unsafe_member"


def test_tarball_without_main_file_is_a_reasoned_reject(tmp_path: Path) -> None:
    arc = _tar(tmp_path / "nomain.tar.gz", {"intro.tex": "\\section{Intro} text", "refs.bib": "@misc{a}"})
    with pytest.raises(RecordError) as e:
        load_latex_source(arc)
    assert e.value.reason == "latex_no_main_file"
    assert "intro.tex" in e.value.detail
    arc = _tar(tmp_path / "figs.tar.gz", {"fig.png": b"\x89PNG"})
    with pytest.raises(RecordError) as e:
        load_latex_source(arc)
    assert e.value.reason == "latex_no_main_file"
    # Commented-out \documentclass does not count.
    arc = _tar(tmp_path / "commented.tar.gz", {"a.tex": "%\\documentclass{article}\n\\begin{document}x\\end{document}"})
    with pytest.raises(RecordError) as e:
        load_latex_source(arc)
    assert e.value.reason == "latex_no_main_file"


def test_corrupt_archives_and_pdf_eprints(tmp_path: Path) -> None:
    (tmp_path / "bad.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    with pytest.raises(RecordError) as e:
        load_latex_source(tmp_path / "bad.tar.gz")
    assert e.value.reason == "corrupt_archive"
    (tmp_path / "junk.tgz").write_bytes(b"not an archive at all")
    with pytest.raises(RecordError) as e:
        load_latex_source(tmp_path / "junk.tgz")
    assert e.value.reason == "corrupt_archive"
    (tmp_path / "pdf.gz").write_bytes(gzip.compress(b"%PDF-1.5\n..."))
    with pytest.raises(RecordError) as e:
        load_latex_source(tmp_path / "pdf.gz")
    assert e.value.reason == "latex_not_source"
    with pytest.raises(RecordError) as e:
        load_latex_source(tmp_path / "absent.tar.gz")
    assert e.value.reason == "latex_unreadable"


def test_gzipped_single_file_and_latin1(tmp_path: Path) -> None:
    tex = "\\documentclass{article}\\title{Caf\u00e9 na\u00efve}\\begin{document}\\section{One}Body\\end{document}"
    (tmp_path / "1234.5678.gz").write_bytes(gzip.compress(tex.encode("latin-1")))
    src = load_latex_source(tmp_path / "1234.5678.gz")
    assert src.main_file == "1234.5678.tex"
    d = parse_latex(src)
    assert d.title == "Caf\u00e9 na\u00efve"
    assert d.sections[0].heading == "One" and d.sections[0].text == "Body"


def test_main_file_choice_and_include_cycles(tmp_path: Path) -> None:
    doc_ = "\\documentclass{article}\\begin{document}%s\\end{document}"
    arc = _tar(
        tmp_path / "two.tar.gz",
        {
            "supplement.tex": doc_ % ("\\section{Supp}" + "long " * 500),
            "ms.tex": doc_ % "\\section{Main}\\input{a}",
            "a.tex": "A text \\input{b}",
            "b.tex": "B text \\input{a.tex}",
        },
    )
    src = load_latex_source(arc)
    assert src.main_file == "ms.tex"
    assert "A text" in src.text and "B text" in src.text
    assert any("cycle" in m for m in src.missing_includes)


def test_folder_source_with_subfolder_and_papers_directory(tmp_path: Path) -> None:
    paper = tmp_path / "papers" / "Ab-c_1"
    (paper / "sec").mkdir(parents=True)
    (paper / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\\title{T}\\maketitle\\begin{abstract}Abs.\\end{abstract}"
        "\\import{sec/}{intro}\\end{document}"
    )
    (paper / "sec" / "intro.tex").write_text("\\section{Introduction}Hello.")
    _tar(tmp_path / "papers" / "tarred.tar.gz", {"main.tex": "\\documentclass{article}\\begin{document}"
         "\\begin{abstract}Tarred abstract.\\end{abstract}\\section{S}x\\end{document}"})
    d = PapersDirectory(tmp_path / "papers")
    assert d.ids() == ["Ab-c_1", "tarred"]
    pt = d.read("Ab-c_1")
    assert pt is not None
    assert pt.text == "# T\n\n## Abstract\n\nAbs.\n\n## 1 Introduction\n\nHello.\n"
    pt = d.read("tarred")
    assert pt is not None and pt.source_path == "tarred.tar.gz" and "Tarred abstract." in pt.text
    (tmp_path / "papers" / "broken.tgz").write_bytes(b"junk")
    with pytest.raises(RecordError) as e:
        PapersDirectory(tmp_path / "papers").read("broken")
    assert e.value.reason == "corrupt_archive"


# ---------------------------------------------------------------------------------------------
# Comments and conditionals


def test_strip_comments() -> None:
    assert strip_comments("50\\% of a % comment\nb") == "50\\% of a b"
    assert strip_comments("para one\n% a whole comment line\nstill para one\n\nnew para") == (
        "para one\nstill para one\n\nnew para"
    )
    assert strip_comments("line\\\\% comment\nnext") == "line\\\\next"
    assert strip_comments("a\\begin{comment}\nhidden % x\n\\end{comment}b") == "ab"
    assert strip_comments("\\url{http://x.org/a%20b} \\verb|50%| ok % gone") == "\\url{http://x.org/a%20b} \\verb|50%| ok "
    assert strip_comments("\\begin{verbatim}\n100% kept\n\\end{verbatim}") == "\\begin{verbatim}\n100% kept\n\\end{verbatim}"
    assert strip_comments("no newline at end % comment") == "no newline at end "


def test_drop_iffalse() -> None:
    assert drop_iffalse("a \\iffalse hidden \\fi b") == "a  b"
    assert drop_iffalse("a \\iffalse x \\ifnum1=1 y \\fi z \\fi b") == "a  b"
    assert drop_iffalse("a \\iffalse no \\else yes \\fi b") == "a  yes  b"
    assert drop_iffalse("a \\iffalse never closed") == "a \\iffalse never closed"
    assert drop_iffalse("\\newif\\ifdraft a \\iffalse \\ifdraft x\\fi y \\fi b") == "\\newif\\ifdraft a  b"


# ---------------------------------------------------------------------------------------------
# A synthetic paper exercising the structure rules

SYNTH = r"""
\documentclass{article}
\newcommand{\ours}{FooNet}
\def\eg{e.g.}
\newcommand{\vect}[1]{\mathbf{#1}}
\newtheorem{thm}{Theorem}
\begin{document}
\title{A \emph{Synthetic} Paper\thanks{funded}}
\maketitle
\begin{abstract}
We present \ours, \eg{} a model.% comment
\end{abstract}
\section{Intro}\label{sec:intro}
See Section~\ref{sec:method}, \cref{tab:res} and Figure~\ref{fig:a}; \citep[see][]{k1,k2}.
\iffalse hidden text \fi
\begin{figure}[t]
  \begin{subfigure}{0.5\linewidth}\includegraphics{a.png}\caption{left}\end{subfigure}
  \caption{Main caption with $x^2$.}\label{fig:a}
\end{figure}
\section{Method}
\label{sec:method}
\subsection{Details}
\begin{thm}[Main] Every $x$ is fine. \end{thm}
\begin{table}\caption{Results.}\label{tab:res}
\begin{tabular}{lc}\toprule Model & Acc \\ \midrule \ours & 9\% \\ \bottomrule\end{tabular}
\end{table}
\paragraph{Note.} A paragraph.
\section*{Acknowledgements}
We thank the funders.
\section*{Broader impact}
Impact text.
\begin{ack}More thanks.\end{ack}
\begin{thebibliography}{9}\bibitem{k1} Ref one.\end{thebibliography}
\appendix
\section{Proofs}
Proof text.
\end{document}
"""


def test_synthetic_structure() -> None:
    d = parse_latex(SYNTH)
    assert d.title == "A Synthetic Paper"
    assert d.abstract == "We present FooNet, e.g. a model."
    heads = [(s.number, s.heading, s.level, s.appendix) for s in d.sections]
    assert heads == [
        ("1", "Intro", 1, False),
        ("2", "Method", 1, False),
        ("2.1", "Details", 2, False),
        ("", "Note.", 4, False),
        ("", "Broader impact", 1, False),
        ("A", "Proofs", 1, True),
    ]
    intro = d.sections[0].text
    assert "See Section 2, Table 1 and Figure 1; [k1, k2]." in intro
    assert "hidden" not in intro and "left" not in intro
    assert "Figure 1: Main caption with $x^2$." in intro
    details = d.sections[2].text
    assert "Theorem (Main). Every $x$ is fine." in details
    assert "Table 1: Results.\n| Model | Acc |\n| FooNet | 9% |" in details
    assert [(c.kind, c.label, c.number, c.text) for c in d.captions] == [
        ("figure", "fig:a", "1", "Main caption with $x^2$."),
        ("table", "tab:res", "1", "Results."),
    ]
    everything = "\n".join(s.text for s in d.sections)
    assert "thank" not in everything and "Ref one" not in everything
    assert d.sections[-1].text == "Proof text."
    md = latex_to_markdown(d)
    assert md.startswith("# A Synthetic Paper\n\n## Abstract\n\nWe present FooNet")
    assert "\n##### Note.\n" in md and "Proofs" not in md


@pytest.mark.parametrize(
    "tex",
    [
        "",
        "\\begin{document}",
        "\\documentclass{article}\\begin{document}\\section{",
        "\\begin{document}\\begin{figure}\\caption{unclosed",
        "\\begin{document}$$ x \\section{A} $ y \\end{document}",
        "\\begin{document}\\begin{tabular}{ll} a & b \\\\ \\end{document}",
        "\\begin{document}}}}{{{\\\\\\\\\\end{document}",
        "\\begin{document}\\newcommand{\\x}{\\x}\\x\\input{x}\\end{document}",
    ],
)
def test_odd_input_never_crashes(tex: str) -> None:
    try:
        d = parse_latex(tex)
    except RecordError as e:
        assert e.reason == "latex_no_document"
    else:
        latex_to_markdown(d)


def test_latex_to_text_fragment() -> None:
    out = latex_to_text("A \\textbf{bold} claim~\\cite{x}, see \\url{http://a.org/b%20c} and 50\\%.\n\nNext $a_1$ para.")
    assert out == "A bold claim [x], see http://a.org/b%20c and 50%.\n\nNext $a_1$ para."


def test_end_document_inside_verb_does_not_end_the_paper():
    doc = parse_latex("\\documentclass{article}\\begin{document}\\section{Intro}Write \\verb|\\end{document}| "
                      "to end.\\section{Two}More text.\\end{document}")
    assert [s.heading for s in doc.sections] == ["Intro", "Two"]
    assert doc.sections[1].text == "More text."
