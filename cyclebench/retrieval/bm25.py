"""A local BM25 index over a JSONL of abstracts (the ``bm25s`` package), built once into a folder and loaded.

Folder layout: ``bm25/`` (bm25s's own files), ``documents.jsonl`` (the indexed rows, in index order) and
``index.json`` (source file and its sha256, reconciled row counts, tokenizer settings, bm25s version, the
content hash that is the retriever's fingerprint, and the sha256 of each bm25/ file; both are checked on
load). A build writes into ``FOLDER.part`` and renames it
into place, so a folder with ``index.json`` is complete. Documents are ``title + abstract``, lowercased,
English stopwords removed, no stemming.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from cyclebench.retrieval.abstracts import Document, read_abstracts
from cyclebench.retrieval.base import Passage, RetrievalError

INDEX_FILE = "index.json"
DOCUMENTS_FILE = "documents.jsonl"
FORMAT = "cyclebench-bm25-v1"
STOPWORDS = "en"


def _bm25s() -> Any:
    try:
        import bm25s
    except ImportError as exc:  # a default dependency; a broken environment says what to install
        raise ImportError("the BM25 retriever needs the bm25s package: pip install bm25s") from exc
    return bm25s


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file bm25s wrote: its arrays index the documents, so arrays changed after the build
    would make searches fail or point at the wrong rows."""
    return {p.name: file_sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _tokens(bm25s: Any, texts: list[str], ids: bool) -> Any:
    return bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=ids, show_progress=False)


def build_bm25_index(abstracts: str | Path, folder: str | Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Index every usable row of ``abstracts`` into ``folder``; returns the manifest (``index.json``).

    Refuses an existing ``folder`` unless ``overwrite``, and a file with no usable row (the counts say why)."""
    bm25s = _bm25s()
    source, folder = Path(abstracts), Path(folder)
    if folder.exists() and not overwrite:
        raise FileExistsError(f"index folder {folder} exists; pass overwrite to rebuild it")
    read = read_abstracts(source)
    if not read.documents:
        raise ValueError(f"{source}: no row with an id and an abstract to index ({read.counts()})")
    texts = [f"{d.title}\n{d.abstract}" for d in read.documents]
    model = bm25s.BM25()
    try:
        model.index(_tokens(bm25s, texts, True), show_progress=False)
    except ValueError as exc:  # bm25s fails on a vocabulary that is empty once stopwords are removed
        raise ValueError(f"{source}: nothing to index after stopword removal ({exc})") from None
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    model.save(str(part / "bm25"))
    rows = "".join(json.dumps({"id": d.doc_id, "title": d.title, "abstract": d.abstract, "year": d.year},
                              ensure_ascii=False) + "\n" for d in read.documents)
    (part / DOCUMENTS_FILE).write_text(rows, encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "source": str(source),
        "source_sha256": file_sha256(source),
        "counts": read.counts(),
        "tokenizer": {"lowercase": True, "stopwords": STOPWORDS, "stemmer": None},
        "bm25s_version": getattr(bm25s, "__version__", "unknown"),
        "content_sha256": hashlib.sha256(rows.encode("utf-8")).hexdigest(),
        "bm25_sha256": _folder_hashes(part / "bm25"),
    }
    (part / INDEX_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(part, folder)
    return manifest


class BM25Retriever:
    """Search a folder written by :func:`build_bm25_index`."""

    name = "bm25"

    def __init__(self, folder: str | Path):
        bm25s = _bm25s()
        self.folder = Path(folder)
        manifest_path = self.folder / INDEX_FILE
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{self.folder} is not a BM25 index (no {INDEX_FILE}); build one from a JSONL "
                                    "of abstracts first")
        try:
            self.manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{manifest_path}: not readable JSON ({exc})") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ValueError(f"{manifest_path}: not a {FORMAT} index")
        self.documents = self._read_documents()
        claimed = self.manifest.get("bm25_sha256")
        try:
            found = _folder_hashes(self.folder / "bm25")
        except OSError:
            found = None
        if not isinstance(claimed, dict) or not claimed or found != claimed:
            raise ValueError(f"{self.folder}: bm25/ changed since the index was built (its files' sha256 are not the "
                             f"ones {INDEX_FILE} records); build the index again")
        try:
            self.model = bm25s.BM25.load(str(self.folder / "bm25"))
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{self.folder}: damaged index, bm25/ not readable ({type(exc).__name__}); "
                             "build it again") from None
        n_indexed = int(self.model.scores.get("num_docs", len(self.documents))) if isinstance(
            getattr(self.model, "scores", None), dict) else len(self.documents)
        if n_indexed != len(self.documents):
            raise ValueError(f"{self.folder}: index holds {n_indexed} documents but {DOCUMENTS_FILE} {len(self.documents)}")
        self._bm25s = bm25s

    def _read_documents(self) -> list[Document]:
        """The indexed rows, checked against the manifest's content hash: that hash is the retriever's
        fingerprint (it keys the search memo and is recorded in results), so rows edited after the build
        are refused rather than searched under the old name."""
        path = self.folder / DOCUMENTS_FILE
        claimed = self.manifest.get("content_sha256")
        if not isinstance(claimed, str) or not isinstance(self.manifest.get("tokenizer"), dict):
            raise ValueError(f"{self.folder}: damaged index, {INDEX_FILE} has no content hash or tokenizer; build it again")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{self.folder}: damaged index, {DOCUMENTS_FILE} not readable "
                             f"({exc.strerror or type(exc).__name__}); build it again") from None
        if hashlib.sha256(raw).hexdigest() != claimed:
            raise ValueError(f"{self.folder}: {DOCUMENTS_FILE} changed since the index was built (its sha256 is not "
                             f"the one {INDEX_FILE} records); build the index again")
        documents = []
        try:
            for line in raw.decode("utf-8").splitlines():
                row = json.loads(line)
                documents.append(Document(row["id"], row["title"], row["abstract"], row.get("year")))
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise ValueError(f"{self.folder}: damaged index, {DOCUMENTS_FILE} is not the rows it wrote; build it "
                             "again") from None
        return documents

    @property
    def fingerprint(self) -> str:
        return json.dumps({"retriever": self.name, "content_sha256": self.manifest["content_sha256"],
                           "tokenizer": self.manifest["tokenizer"]}, sort_keys=True)

    def describe(self) -> dict[str, Any]:
        return {"retriever": self.name, "folder": str(self.folder), "n_documents": len(self.documents),
                "source": self.manifest.get("source"), "source_sha256": self.manifest.get("source_sha256"),
                "content_sha256": self.manifest["content_sha256"]}

    def search(self, query: str, k: int) -> list[Passage]:
        """Top ``k`` documents with a positive score (a query sharing no word with the index finds nothing)."""
        if not isinstance(query, str) or not query.strip():
            raise RetrievalError("empty_query")
        tokens = _tokens(self._bm25s, [query], False)
        if not tokens or not tokens[0]:
            return []
        k = max(1, min(int(k), len(self.documents)))
        ids, scores = self.model.retrieve(tokens, k=k, show_progress=False)
        out = []
        for index, score in zip(ids[0].tolist(), scores[0].tolist()):
            if score > 0:
                d = self.documents[index]
                out.append(Passage(d.doc_id, d.title, d.abstract, float(score), self.name, d.year))
        return out


def open_bm25(index: str | Path, build_dir: str | Path | None = None) -> BM25Retriever:
    """``index`` is a built folder, or a JSONL of abstracts: then it is indexed once into
    ``build_dir/bm25-<sha256[:16]>`` (reused while the file is unchanged)."""
    path = Path(index)
    if path.is_dir():
        return BM25Retriever(path)
    if not path.is_file():
        raise FileNotFoundError(f"BM25 index {path} is neither an index folder nor a JSONL of abstracts")
    if build_dir is None:
        raise ValueError(f"{path} is a JSONL file: give a folder to build its index in (or build it first)")
    folder = Path(build_dir) / f"bm25-{file_sha256(path)[:16]}"
    if not (folder / INDEX_FILE).is_file():
        build_bm25_index(path, folder, overwrite=True)
    return BM25Retriever(folder)
