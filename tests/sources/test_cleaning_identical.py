"""Cleaning stays byte-identical while it gets faster (issue 16): every corpus paper text cleans to the bytes
(and operations) clean-v1 gave before the fast paths, and each fast path agrees with the plain code it
replaced on hostile strings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cyclebench.sources import text as text_mod
from cyclebench.sources.text import clean_paper_text, decode_text_file

from .test_text import corpus_dir

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "cleaning" / "clean-v1_corpus.sha256"


def _digest(text: str, ops: tuple[str, ...]) -> str:
    return hashlib.sha256(json.dumps([text, list(ops)], ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


def test_corpus_texts_clean_to_the_recorded_bytes():
    corpus = corpus_dir()
    expected = dict(reversed(line.split("  ", 1)) for line in GOLDEN.read_text().splitlines())
    assert len(expected) == 153
    seen = 0
    for rel, digest in expected.items():
        text, ops = clean_paper_text(decode_text_file((corpus / rel).read_bytes()))
        assert _digest(text, ops) == digest, rel
        seen += 1
    assert seen == len(expected)


# The slow, obvious versions of the fast paths, as clean-v1 first wrote them.
def _plain_drop(t: str) -> tuple[str, str]:
    t2 = text_mod._CONTROL_RE.sub("", t)
    return t2, text_mod._PRIVATE_RE.sub("", t2)


def _line_starts(lines: list[str]) -> list[int]:
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return starts


def _found(doc, needles, **kw) -> set[int]:
    return {start for _line, start, _end, _seg in doc.candidates(needles, **kw)}


PIECES = st.sampled_from([
    "a", "R", "e", "f", " ", "\t", "\n", "\r", "#", "*", "_", "1", ".", ":", "\x00", "\x0c", "\x85", "\ufeff",
    "\ud800", "\udfff", "\ue000", "\uf8ff", "\U000f0001", "\U0010ffff", "\u2028", "é", "Ｒ", "ſ", "İ", "K",
    "\u00a0", "\u3000", "REFERENCES", "References", "R E F E R E N C E S", "Bibliography", "LITERATURE CITED",
    "r\u00a0e\u3000f\terences", "\n## 7 References\n", "Abstract", "\nABSTRACT\n", "**017**\n", "**01", "7**",
    "Under review as a conference paper at ICLR 2022\n", "Smith et al. 2020\n", "\x7f", "\x1f",
    "UNDER REVİEW AS A CONFERENCE SUBMıSSION AT ICLR 2022", "Workſhop track - ICLR 2018", "A B S T R A C T",
    "Abſtract. x", "  ", " \n", "**123 456**", "\u212a", "ı", "2020",
])


@settings(max_examples=600, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_fast_paths_agree_with_the_plain_code(s):
    """Every line a per-line test accepts is among the candidates the whole-text scans find for it."""
    assert text_mod._drop_code_points(s) == _plain_drop(s)
    t = text_mod._drop_code_points(s.replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n"))[1]
    lines = t.split("\n")
    starts = _line_starts(lines)
    doc = text_mod._Text(t)
    lookalikes = any(c in t for c in text_mod._IGNORECASE_LOOKALIKES)
    header_needles = text_mod._HEADER_NEEDLES_LOOKALIKES if lookalikes else text_mod._HEADER_NEEDLES
    abstract_needles = text_mod._ABSTRACT_NEEDLES_LOOKALIKES if lookalikes else text_mod._ABSTRACT_NEEDLES
    headers = _found(doc, header_needles, accept=text_mod._has_year_digits)
    abstracts = _found(doc, abstract_needles)
    references = _found(doc, text_mod._REFERENCE_NEEDLES, accept=text_mod._short_core)
    gutters = _found(doc, (b"**\n",), end_too=b"**")
    for start, line in zip(starts, lines):
        line = line.rstrip()
        if text_mod._HEADER_RE.match(line):
            assert start in headers, line
        if text_mod._is_abstract_heading(line):
            assert start in abstracts, line
        if text_mod._is_references_heading(line):
            assert start in references, line
        if text_mod._LINE_NUMBER_RE.match(line):
            assert start in gutters, line


def test_ascii_and_wide_texts_drop_the_same_code_points():
    for s in ("plain ascii\x00\x0b\x7f text", "wide \x00 é \ue000 \U0010fffd \ud800 end", "", "\x85"):
        assert text_mod._drop_code_points(s) == _plain_drop(s)
