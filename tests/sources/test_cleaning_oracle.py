"""The whole-text ``clean_paper_text`` (issue 16, item 5) gives exactly what the per-line clean-v1 code gave
(``cleaning_oracle``, a verbatim copy of it) on every corpus text and on hostile generated ones: control
characters, NUL, "\\r", private-use glyphs, running headers (decorated, any case, with the code points
re.IGNORECASE treats as "i"/"s"/"k"), split title headings, ``**ddd`` gutters, letter-spaced headings,
trailing whitespace, huge lines, empty text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cyclebench.sources import text as text_mod
from cyclebench.sources.text import clean_paper_text, decode_text_file

from . import cleaning_oracle as oracle
from .test_text import corpus_dir

# Pieces a paper text is made of, chosen to hit every step's edges; joined in any order.
PIECES = [
    # characters: controls, newlines, BOM, surrogates, private use, whitespace, case look-alikes
    "a", "R", "e", "f", " ", "  ", "\t", "\n", "\n\n", "\n\n\n\n", "\r", "\r\n", "\u2028", "\u2029", "#", "*", "_",
    "1", "2", ".", ":", "-", "\x00", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x85", "\x9f", "\ufeff", "\ud800",
    "\udfff", "\ue000", "\uf8ff", "\U000f0001", "\U0010ffff", "\U0001d400", "\u00a0", "\u3000", "\u2003", "\u1680",
    "\u202f", "é", "Ｒ", "ſ", "İ", "ı", "K", "٢", " \n", "\t\n", "\u3000\n",
    # running headers, decorated and not, in any case, and near misses
    "Under review as a conference paper at ICLR 2022\n", "UNDER REVIEW AS A CONFERENCE PAPER AT ICLR 2022",
    "<u>Published as a conference paper at ICLR 2024</u>\n", "**Accepted as a workshop submission to NeurIPS 2019**",
    "Workshop track - ICLR 2018\n", "WORKSHOP TRACK – ICLR 2018  \n", "_Appearing in the Journal Publication at X 2020_",
    "Under revİew as a conference submıssion at ICLR 2022\n", "Under review as a conference paper at ICLR",
    "this paper in 2020\n", "a publication (1999)\n", "workshop 2021 paper\n",
    "Published as a conference paper at ICLR ٢٠٢2\n", "\nWorKſhop track: ICLR 2018\n", "paper 2020",
    # titles and abstracts
    "# KNOWLEDGE DISTIL\n## LATION FOR X\n", "TITLE IN CAPS\nSECOND CAPS LINE\n", "Jane Doe, MIT\n",
    "\nABSTRACT\n", "# Abstract\n", "**Abstract**\n", "A B S T R A C T\n", "Abstract. We study x.\n",
    "Abstract: text\n", "Abſtract— text\n", "ABSTRACT reasoning is hard", "## 1 Abstract:\n", "abstract",
    # references headings, lists and near misses
    "REFERENCES\n", "References\n", "## 7 References\n", "**References**\n", "R E F E R E N C E S\n",
    "Ref erences\n", "r\u00a0e\u3000f\terences\n", "Bibliography\n", "LITERATURE CITED\n", "References and Notes\n",
    "RefErences", "preference", "Smith et al. 2020\n", "[1] A. Author. Title.\n", "arXiv preprint\n",
    "Amodei, Ananth, Anubhai, Battenberg\n", "Amodei, Ananth, Anubhai, \n", "plain prose line\n", "-----\n",
    "\n-----\n\n", "B\u0130BLIOGRAPHY\n", "\u212aeferences",
    # gutters
    "**017**\n", "**018 019**\n", "  **020**  \n", "**01", "7**", "**٠١٢**\n", "**Bold**\n",
    # long lines
    "x" * 300, ("word " * 60) + "\n", "abstract " * 20 + "\n", " " * 250 + "References\n",
]
piece = st.sampled_from(PIECES)
GUTTER = st.lists(st.sampled_from(["**017**\n", "**123 124**\n", " **999** \n", "**017**"]), min_size=18, max_size=26)


def same_as_oracle(text: str) -> None:
    assert clean_paper_text(text) == oracle.clean_paper_text(text)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(piece, max_size=80).map("".join))
def test_pieces_clean_as_the_per_line_code(text):
    same_as_oracle(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(piece, max_size=30), GUTTER, st.lists(piece, max_size=30))
def test_gutters_clean_as_the_per_line_code(before, gutter, after):
    same_as_oracle("".join(before) + "\n".join(gutter) + "".join(after))
    same_as_oracle("".join(before) + "".join(gutter) + "".join(after))


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=()), max_size=400))
def test_any_code_points_clean_as_the_per_line_code(text):
    same_as_oracle(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(piece, st.text(st.characters(blacklist_categories=()), max_size=20)), max_size=60)
       .map("".join))
def test_mixed_clean_as_the_per_line_code(text):
    same_as_oracle(text)


def test_edge_texts_clean_as_the_per_line_code():
    for text in ("", "\n", " ", "\n\n\n\n\n", "x", "\x00", "\ue000", "-----", "Abstract", "ABSTRACT\n",
                 "References", "Title\nABSTRACT\nbody\n\n\n\n\nREFERENCES\nSmith 2020\n", "Title\nAbstract\n\n\n\n",
                 "\n\n\nAbstract. x\n\n\n", "ABSTRACT\n-----\n\n-----", "x\nREFERENCES", "\r\n" * 5, "a\u2028b",
                 "Under review as a conference paper at ICLR 2022",
                 "Under review as a conference paper at ICLR 2022\nUnder review as a conference paper at ICLR 2022",
                 "T\nABSTRACT " + "y" * 100_000 + "\nREFERENCES\n[1] x\n", "**017**\n" * 25, "**017**\n" * 19,
                 # a gutter line first, after lines another step looked at (line numbers from cached counts)
                 "**017**\n" * 21 + "Title\nABSTRACT\nthis paper in 2020\nREFERENCES\nSmith 2020\n**018**",
                 "**001**\nUnder review as a conference paper at ICLR 2022\n" * 21 + "paper\nAbstract. x\n"):
        same_as_oracle(text)


def test_corpus_texts_clean_as_the_per_line_code():
    files = sorted(corpus_dir("papers", "markdown", "iclr2022").glob("*"))
    assert len(files) == 150
    for f in files:
        text = decode_text_file(f.read_bytes())
        assert clean_paper_text(text) == oracle.clean_paper_text(text), f.name
        # the raw extractor shapes the markdown files lost: page headers, CRLF, a gutter
        lines = text.split("\n")
        paged = "\r\n".join(line + ("\nUnder review as a conference paper at ICLR 2022" if i % 50 == 0 else "")
                            for i, line in enumerate(lines))
        same_as_oracle(paged)
        same_as_oracle("\n".join(f"**{i % 1000:03d}**\n{line}" for i, line in enumerate(lines[:200])))


def test_short_core_never_hides_a_heading_word():
    """``_short_core`` says False only for lines whose ``_heading_word`` is ""."""
    for line in ("abcdefghjklmnopqrstwyz" * 2, "## 1.2 " + "a" * 40 + " **", "a" * 41, "<u>" + "d" * 41 + "</u>",
                 "A B S T R A C T " * 3, "R" * 40, "I" * 60, "V" * 60 + " abstract", "1.1.1.1 " + "c" * 41):
        squeezed = text_mod._Text(line).squeezed
        if not text_mod._short_core(squeezed):
            assert text_mod._heading_word(line) == "", line


@settings(max_examples=500, deadline=None)
@given(st.lists(piece, max_size=20).map("".join).map(lambda s: s.replace("\n", " ")))
def test_short_core_is_sound_on_pieces(line):
    if not text_mod._short_core(text_mod._Text(line).squeezed):
        assert text_mod._heading_word(line) == ""


def test_cleaning_is_still_idempotent_on_the_corpus():
    for f in sorted(corpus_dir("papers", "markdown", "iclr2022").glob("*"))[:40]:
        once, _ops = clean_paper_text(decode_text_file(f.read_bytes()))
        assert clean_paper_text(once)[0] == once, f.name
