"""References of a paper: .bib/.bbl parsing, cited keys, abstracts of cited works."""

from __future__ import annotations

from pathlib import Path

import bibtexparser
import pytest

from cyclebench.builders.bibtex import (
    AbstractIndex,
    BibEntry,
    BibParse,
    cited_keys,
    collect_references,
    entry_arxiv,
    normalize_arxiv,
    normalize_doi,
    normalize_title,
    paper_abstract_rows,
    parse_bbl,
    parse_bibtex,
    read_abstract_rows,
    references_from_text,
    write_bibtex,
)

FX = Path(__file__).resolve().parents[1] / "fixtures" / "research14k"


def good_bib() -> BibParse:
    return parse_bibtex({"refs.bib": (FX / "papers" / "r14-good" / "refs.bib").read_text()})


def test_bib_parsed_with_strings_resolved_and_broken_block_reported():
    bib = good_bib()
    assert list(bib.entries) == ["guo2017calibration", "platt1999", "karpukhin2020dense", "kwiatkowski2019nq",
                                 "lewis2020rag", "neverCited2021"]
    assert bib.entries["guo2017calibration"].get("booktitle") == "International Conference on Machine Learning"
    assert bib.entries["platt1999"].get("ABSTRACT") == "The bib file carries this abstract itself."
    assert len(bib.failed_blocks) == 1 and "brokenEntry" in bib.failed_blocks[0] and "line 46" in bib.failed_blocks[0]


def test_duplicate_keys_first_wins_across_files():
    bib = parse_bibtex({"b.bib": "@misc{k, title={second}}", "a.bib": "@misc{k, title={first}}\n@misc{k, title={dup}}"})
    assert bib.entries["k"].get("title") == "first"
    assert bib.duplicate_keys == ("k", "k")


@pytest.mark.parametrize(
    ("tex", "keys"),
    [
        (r"\citep[see][p.~3]{a, b} and \citet*{c}", ("a", "b", "c")),
        (r"\parencites[x]{d}[y]{e} \textcite{f}", ("d", "e", "f")),
        (r"\cite{a}\cite{a}\Citet{b} \citeauthor{c}", ("a", "b", "c")),
        (r"\nocite{*} \cite{z}", ("*", "z")),
        (r"\citep{}  \citep{ good , \macro }", ("good",)),
        (r"no citations here, only \bibliography{refs}", ()),
    ],
)
def test_cited_keys(tex, keys):
    assert cited_keys(tex) == keys


def test_identifiers_are_normalised():
    assert normalize_arxiv("arXiv:1706.04599v3") == "1706.04599"
    assert normalize_arxiv("https://arxiv.org/abs/2004.04906") == "2004.04906"
    assert normalize_arxiv("hep-th/9901001v2") == "hep-th/9901001"
    assert normalize_arxiv("page 12") is None
    assert normalize_doi("https://doi.org/10.1162/TACL_a_00276.") == "10.1162/tacl_a_00276"
    assert normalize_title(r"On {C}alibration of Modern {N}eural Networks") == "on calibration of modern neural networks"
    assert normalize_title(r"Sch{\"o}lkopf: Über Kerne") == "scholkopf uber kerne"
    journal_style = BibEntry("k", "article", (("journal", "arXiv preprint arXiv:1706.02677"),))
    other_archive = BibEntry("k", "misc", (("eprint", "1234.56789"), ("archiveprefix", "HAL")))
    assert entry_arxiv(journal_style) == "1706.02677" and entry_arxiv(other_archive) is None


def test_abstract_lookup_order_and_sources():
    index = AbstractIndex.from_rows(read_abstract_rows(FX / "abstracts.jsonl"))
    assert index.rows == 12
    assert index.rejected == {"invalid_row": 1, "no_abstract": 1, "no_identifier": 1}
    assert index.duplicates == 1
    own = AbstractIndex.from_rows(paper_abstract_rows("r14-good", {"lewis2020rag": "RAG abstract"}))
    refs = collect_references(good_bib(), ["karpukhin2020dense", "guo2017calibration", "missing2020ghost", "platt1999",
                                           "lewis2020rag", "kwiatkowski2019nq"], "r14-good", own, index)
    assert refs.cited == 6 and refs.in_bib == 5
    assert refs.missing_from_bib == ("missing2020ghost",)
    assert refs.with_abstract == {"bib": 1, "key": 1, "arxiv": 1, "doi": 1, "title": 1}
    assert refs.without_abstract == ()
    parsed = bibtexparser.parse_string(refs.bibtex)
    assert [e.key for e in parsed.entries] == ["karpukhin2020dense", "guo2017calibration", "platt1999", "lewis2020rag",
                                               "kwiatkowski2019nq"]
    abstracts = {e.key: e.fields_dict["abstract"].value for e in parsed.entries}
    assert abstracts["platt1999"] == "The bib file carries this abstract itself."  # own abstract beats the file's key row
    assert abstracts["guo2017calibration"].startswith("Confidence calibration")  # first title row wins
    assert abstracts["lewis2020rag"] == "RAG abstract"
    assert "neverCited2021" not in refs.bibtex


def test_paper_scoped_keys_do_not_leak_to_other_papers():
    index = AbstractIndex.from_rows([{"paperId": "p1", "key": "k", "abstract": "scoped"}, {"key": "g", "abstract": "global"}])
    bib = BibParse({"k": BibEntry("k", "misc", (("title", "T"),)), "g": BibEntry("g", "misc", (("title", "U"),))})
    assert collect_references(bib, ["k", "g"], "p1", index).with_abstract == {"key": 2}
    other = collect_references(bib, ["k", "g"], "p2", index)
    assert other.with_abstract == {"key": 1} and other.without_abstract == ("k",)


def test_csv_abstracts_file():
    index = AbstractIndex.from_rows(read_abstract_rows(FX / "abstracts.csv"))
    assert index.rows == 4 and index.rejected == {"no_identifier": 1}
    entry = BibEntry("x", "misc", (("title", "Attention is all you need"),))
    assert index.lookup(entry, "any") == ("The dominant sequence transduction models, read from CSV.", "title")
    assert index.lookup(BibEntry("kingma2015", "misc", ()), "any")[1] == "key"


def test_nocite_star_takes_every_entry_and_written_bibtex_is_safe():
    bib = BibParse({"a": BibEntry("a", "misc", (("title", "A"),)), "b": BibEntry("b", "misc", (("title", "B"),))})
    index = AbstractIndex.from_rows([{"title": "B", "abstract": "has an { unbalanced brace\nand two lines"}])
    refs = collect_references(bib, ["*", "b"], "p", index)
    assert refs.cited == 2 and refs.in_bib == 2
    parsed = bibtexparser.parse_string(refs.bibtex)
    assert not parsed.failed_blocks
    assert parsed.entries[0].key == "b"
    assert parsed.entries[0].fields_dict["abstract"].value == "has an ( unbalanced brace and two lines"


def test_bbl_items_become_misc_entries_with_titles():
    bib = parse_bbl((FX / "papers" / "r14-bbl" / "main.bbl").read_text())
    assert bib.source == "bbl" and list(bib.entries) == ["devlin2019", "vaswani2017"]
    assert bib.entries["vaswani2017"].get("title") == "Attention is all you need"
    assert "Devlin" in bib.entries["devlin2019"].get("note")
    assert write_bibtex(bib.entries.values()).startswith("@misc{devlin2019,")


def test_reference_list_of_extracted_text():
    lines = [
        "Jessa Bekker and Jesse Davis. Learning from positive and unlabeled data: A survey. Machine",
        "Learning, 109(4):719-760, 2020.",
        "David Berthelot, Nicholas Carlini, and Colin A",
        "Raffel.",
        "Mixmatch: A holistic approach to semi-supervised learning.",
        "In Advances in Neural Information Processing Systems, 2019.",
        "Grigorios G Chrysos and Stefanos Zafeiriou. Robust conditional generative adver-",
        "sarial networks. arXiv preprint arXiv:1805.08657, 2018.",
    ]
    bib = references_from_text(lines)
    assert bib.source == "text-list" and list(bib.entries) == ["ref1", "ref2", "ref3"]
    assert bib.entries["ref2"].get("howpublished").startswith("David Berthelot") and "Mixmatch" in bib.entries["ref2"].get("howpublished")
    assert entry_arxiv(bib.entries["ref3"]) == "1805.08657"
