"""LaTeX sources of papers: load them from any shape arXiv or a repository ships, and read them as text.

Three layers, kept apart so a builder can reuse any of them:

* ``load_latex_source(path)``: a folder, a ``.tex`` file, an arXiv e-print (``.tar.gz``/``.tgz``/
  ``.tar``, or a gzip'd single file) becomes a ``LatexSource``: every text member read into memory
  (nothing is extracted to disk), the main file found, comments and ``\\iffalse`` blocks stripped, and
  ``\\input``/``\\include``/``\\subfile``/``\\import`` resolved recursively into one text. ``.bib`` and
  ``.bbl`` texts are kept beside it. Files are read through ``cyclebench.sources.confined`` (inside the
  input folders, regular files only) and every cost is bounded by ``SourceLimits``: archive members and
  their uncompressed size, the include count and depth, the expanded text; an archive member with an
  absolute or ``..`` path, a link leaving the archive or a device member rejects the e-print.
* ``parse_latex(source)``: a ``LatexDocument`` with the title, abstract, numbered sections, figure
  and table captions. Only ``\\title`` is read from the preamble. The body is cut in three:
  main text (up to ``\\bibliography``/``thebibliography``/``\\printbibliography`` or ``\\appendix``,
  whichever comes first), the bibliography (dropped: ``bib_texts`` has the sources), and the appendix
  (after ``\\appendix``, or after the bibliography when there is no ``\\appendix``), whose sections are
  kept but flagged ``appendix=True``. Acknowledgements (a section so named, or an ``ack``/
  ``acknowledgements`` environment) are removed: they name authors and funders.
* ``latex_to_text(tex)`` / ``latex_to_markdown(doc)``: readable plain text. Prose goes through
  pylatexenc's ``LatexNodes2Text`` (tolerant of unknown macros); math is kept verbatim, inline as
  ``$...$`` and display as a ``$$ ... $$`` block; citations become ``[key1, key2]``; ``\\ref`` to a
  section, figure or table becomes its number, other refs ``[label]``; floats become a
  ``Figure 2: caption`` paragraph (tables also get their rows as ``a | b | c`` lines); theorem-like
  environments get a ``Lemma.`` lead-in; zero-argument ``\\newcommand``/``\\def`` macros of the
  author are expanded in prose (macros with arguments are not: their arguments' text is kept).

``latex_to_markdown`` gives ``# Title``, ``## Abstract``, ``## 1 Introduction``-style headings and
leaves the appendix out by default, like the PDF/markdown texts that are cut at the references.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cyclebench.records import RecordError
from cyclebench.sources import confined
from cyclebench.sources.confined import DEFAULT_LIMITS, SourceLimits

# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class LatexSource:
    """A paper's LaTeX source in memory; ``text`` is the main file with includes resolved."""

    main_file: str
    text: str
    # Every text member (raw, comments kept), by posix path relative to the source root.
    files: dict[str, str] = field(default_factory=dict)
    # .bib and .bbl members by path.
    bib_texts: dict[str, str] = field(default_factory=dict)
    origin: str = ""
    missing_includes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LatexSection:
    heading: str
    level: int  # 0 part/chapter, 1 section, 2 subsection, 3 subsubsection, 4 paragraph, 5 subparagraph
    text: str
    number: str = ""  # "3.1", "A.2"; "" for starred and paragraph levels
    appendix: bool = False


@dataclass(frozen=True, slots=True)
class Caption:
    kind: Literal["figure", "table"]
    label: str | None
    text: str
    number: str = ""
    appendix: bool = False


@dataclass(frozen=True, slots=True)
class LatexDocument:
    title: str
    abstract: str
    sections: list[LatexSection]
    captions: list[Caption]
    bib_texts: dict[str, str]
    main_file: str
    # What parse_latex dropped on purpose ("acknowledgements", "bibliography", ...), for manifests.
    removed: tuple[str, ...] = ()

    @property
    def body_sections(self) -> list[LatexSection]:
        return [s for s in self.sections if not s.appendix]

    @property
    def appendix_sections(self) -> list[LatexSection]:
        return [s for s in self.sections if s.appendix]


# ---------------------------------------------------------------------------------------------
# Small scanners over LaTeX source


def _skip_ws(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in " \t\r\n":
        i += 1
    return i


def group_end(s: str, i: int, open_: str = "{", close: str = "}") -> int:
    """Index just past the group opened at ``s[i]``; ``-1`` when it never closes."""
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _read_args(s: str, i: int, spec: str) -> tuple[list[str | None], int]:
    """Read macro arguments after index ``i`` by a pylatexenc-like spec ("*", "[", "{").

    Returns the arguments (``None`` for an absent optional one, "*" or None for the star) and the
    index after them. A missing mandatory group yields "" and stops.
    """
    out: list[str | None] = []
    for kind in spec:
        j = _skip_ws(s, i)
        if kind == "*":
            if j < len(s) and s[j] == "*":
                out.append("*")
                i = j + 1
            else:
                out.append(None)
        elif kind == "[":
            if j < len(s) and s[j] == "[":
                end = group_end(s, j, "[", "]")
                if end < 0:
                    out.append(None)
                    continue
                out.append(s[j + 1 : end - 1])
                i = end
            else:
                out.append(None)
        else:
            if j < len(s) and s[j] == "{":
                end = group_end(s, j)
                if end < 0:
                    out.append(s[j + 1 :])
                    return out, len(s)
                out.append(s[j + 1 : end - 1])
                i = end
            elif j < len(s) and s[j] == "\\":
                m = re.match(r"\\(?:[A-Za-z@]+|.)", s[j:])
                tok = m.group(0) if m else "\\"
                out.append(tok)
                i = j + len(tok)
            elif j < len(s):
                out.append(s[j])
                i = j + 1
            else:
                out.append("")
                return out, len(s)
    return out, i


def _find_env(s: str, name: str, start: int = 0) -> tuple[int, int, int, int] | None:
    """The first ``\\begin{name}...\\end{name}`` at or after ``start``, nesting-aware.

    Returns (begin_start, body_start, body_end, end_end), or None when absent or unclosed.
    """
    pat = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
    m = next((x for x in pat.finditer(s, start) if x.group(1) == "begin"), None)
    if m is None:
        return None
    depth = 0
    for m2 in pat.finditer(s, m.start()):
        depth += 1 if m2.group(1) == "begin" else -1
        if depth == 0:
            return m.start(), m.end(), m2.start(), m2.end()
    return None


# ---------------------------------------------------------------------------------------------
# Comments, \iffalse


_VERBATIM_ENVS = ("verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "BVerbatim", "alltt")
_RAW_ARG_MACROS = ("url", "href", "path")


def strip_comments(tex: str) -> str:
    r"""Remove ``%`` comments the way TeX does, and ``comment`` environments.

    A ``%`` not escaped (``\%`` stays) removes itself, the rest of its line, the newline and the next
    line's leading blanks, so a commented-out line does not split a paragraph. ``%`` inside ``\verb``,
    verbatim-like environments and the URL argument of ``\url``/``\href`` is kept.
    """
    out: list[str] = []
    i = 0
    n = len(tex)
    while i < n:
        c = tex[i]
        if c == "\\":
            if tex.startswith("\\begin", i):
                m = re.match(r"\\begin\s*\{([^}]*)\}", tex[i : i + 80])
                if m and m.group(1) == "comment":
                    end = re.compile(r"\\end\s*\{comment\}").search(tex, i + m.end())
                    i = end.end() if end else n
                    continue
                if m and m.group(1) in _VERBATIM_ENVS:
                    end = re.compile(r"\\end\s*\{" + re.escape(m.group(1)) + r"\}").search(tex, i + m.end())
                    stop = end.end() if end else n
                    out.append(tex[i:stop])
                    i = stop
                    continue
            m = re.match(r"\\verb\*?([^A-Za-z\s*])", tex[i : i + 8])
            if m:
                close = tex.find(m.group(1), i + m.end())
                stop = close + 1 if close >= 0 else n
                out.append(tex[i:stop])
                i = stop
                continue
            m = re.match(r"\\(" + "|".join(_RAW_ARG_MACROS) + r")(?![A-Za-z@])\s*", tex[i : i + 12])
            if m and i + m.end() < n and tex[i + m.end()] == "{":
                end = tex.find("}", i + m.end())
                stop = end + 1 if end >= 0 else n
                out.append(tex[i:stop])
                i = stop
                continue
            out.append(tex[i : i + 2])
            i += 2
            continue
        if c == "%":
            nl = tex.find("\n", i)
            if nl < 0:
                break
            i = nl + 1
            while i < n and tex[i] in " \t":
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# TeX conditionals that need a \fi (the primitives); \newif ones are added per document.
_IF_PRIMITIVES = {
    "if", "ifx", "ifnum", "ifdim", "ifodd", "ifcase", "ifmmode", "ifvmode", "ifhmode", "ifinner",
    "ifeof", "iftrue", "iffalse", "ifcat", "ifvoid", "ifhbox", "ifvbox", "ifdefined", "ifcsname",
    "iffontchar", "ifincsname", "ifpdf", "ifxetex", "ifluatex",
}
_COND_TOKEN_RE = re.compile(r"\\(if[A-Za-z@]*|fi|else)(?![A-Za-z@])")


def drop_iffalse(tex: str) -> str:
    r"""Drop ``\iffalse ... \fi`` blocks (keeping an ``\else`` branch), the usual way to hide text.

    Nesting is counted over the TeX primitives and ``\newif`` conditionals; an unclosed block is
    left alone rather than swallowing the rest of the paper.
    """
    if "\\iffalse" not in tex:
        return tex
    ifs = set(_IF_PRIMITIVES) | set(re.findall(r"\\newif\s*\\(if[A-Za-z@]+)", tex))
    out: list[str] = []
    pos = 0
    while True:
        m = re.compile(r"\\iffalse(?![A-Za-z@])").search(tex, pos)
        if not m:
            out.append(tex[pos:])
            break
        depth = 1
        else_at = None
        end = None
        for t in _COND_TOKEN_RE.finditer(tex, m.end()):
            name = t.group(1)
            if name == "fi":
                depth -= 1
                if depth == 0:
                    end = t
                    break
            elif name == "else":
                if depth == 1 and else_at is None:
                    else_at = t
            elif name in ifs:
                depth += 1
        if end is None:
            out.append(tex[pos:])
            break
        out.append(tex[pos : m.start()])
        if else_at is not None:
            out.append(tex[else_at.end() : end.start()])
        pos = end.end()
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Loading


TEXT_SUFFIXES = (".tex", ".ltx", ".latex", ".bib", ".bbl", ".tikz", ".pgf")
_MAIN_STEMS = ("main", "paper", "ms", "manuscript", "article", "arxiv", "root", "camera_ready", "final")


def _decode(data: bytes) -> str:
    """UTF-8, else Latin-1: pre-2010 arXiv sources with ``inputenc[latin1]`` really are Latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _safe_member_name(name: str) -> str | None:
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    norm = posixpath.normpath(name)
    if norm in (".", "") or norm.startswith("../") or norm == ".." or "/../" in f"/{norm}/":
        return None
    return norm


def _is_text_member(name: str) -> bool:
    return name.lower().endswith(TEXT_SUFFIXES)


def _folder_members(folder: str, limits: SourceLimits) -> dict[str, bytes]:
    """Text files of a LaTeX project folder by posix path; each read through ``confined`` (inside the
    folder, regular, bounded), so a link out of it, a FIFO or a link cycle rejects the paper."""
    files: dict[str, bytes] = {}
    total = 0
    for rel, full in confined.tree_files(folder):
        if any(part.startswith(".") for part in rel.split("/")[:-1]) or not _is_text_member(rel):
            continue
        if len(files) >= limits.max_members:
            raise RecordError("too_many_files", f"more than {limits.max_members} text files in the LaTeX folder")
        data = confined.read_file(full, (folder,), limits.max_member_bytes)
        total += len(data)
        if total > limits.max_total_bytes:
            raise RecordError("source_too_large", f"the LaTeX folder's text files exceed {limits.max_total_bytes} bytes")
        files[rel] = data
    return files


# Decompressors by magic number: (name, factory). Each has ``decompress(data, max_length)``, ``eof``
# and ``unused_data``, so one bounded loop serves all three.
_COMPRESSIONS: tuple[tuple[bytes, str, Any], ...] = (
    (b"\x1f\x8b", "gzip", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
    (b"BZh", "bzip2", lambda: bz2.BZ2Decompressor()),
    (b"\xfd7zXZ\x00", "xz", lambda: lzma.LZMADecompressor()),
)


def _compression(raw: bytes) -> tuple[str, Any] | None:
    for magic, name, factory in _COMPRESSIONS:
        if raw.startswith(magic):
            return name, factory
    return None


def _inflate(raw: bytes, factory: Any, limit: int, name: str) -> bytes:
    """Decompress every stream of ``raw`` into at most ``limit`` bytes: a bomb stops at the bound
    (``archive_too_large``), a truncated or corrupt stream is ``corrupt_archive``."""
    out = bytearray()
    data = raw
    while data:
        d = factory()
        try:
            out += d.decompress(data, limit + 1 - len(out))
        except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
            raise RecordError("corrupt_archive", f"{name}: {type(exc).__name__}: {exc}") from exc
        if len(out) > limit:
            raise RecordError("archive_too_large", f"{name}: expands past {limit} bytes")
        if not d.eof:
            raise RecordError("corrupt_archive", f"{name}: truncated compressed stream")
        data = d.unused_data.lstrip(b"\0")  # gzip allows zero padding after a stream
    return bytes(out)


def _link_target(name: str, member: tarfile.TarInfo) -> str | None:
    """The archive path a link member points at, or None when it points outside the archive."""
    target = member.linkname.replace("\\", "/")
    if member.issym() and not target.startswith("/"):
        target = posixpath.join(posixpath.dirname(name), target)
    return _safe_member_name(target)


def _unsafe(name: str, why: str) -> RecordError:
    return RecordError("archive_unsafe_member", f"{name!r}: {why}")


def _tar_members(tf: tarfile.TarFile, limits: SourceLimits) -> dict[str, bytes]:
    """Text members of a tar by posix path, bounded. A member with an absolute or ``..`` path, a link
    leaving the archive or a device/FIFO member rejects the archive: no real e-print has one, and
    nothing is ever extracted to disk. Links to other members are read as those members."""
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for count, member in enumerate(tf, 1):
        if count > limits.max_members:
            raise RecordError("archive_too_many_members", f"more than {limits.max_members} members")
        if member.offset_data + member.size > limits.max_total_bytes:
            raise RecordError("archive_too_large", f"the tar stream passes {limits.max_total_bytes} bytes at {member.name!r}")
        name = _safe_member_name(member.name)
        if name is None:
            raise _unsafe(member.name, "absolute path or '..'")
        if member.issym() or member.islnk():
            target = _link_target(name, member)
            if target is None:
                raise _unsafe(member.name, f"link to {member.linkname!r}, outside the archive")
            if _is_text_member(name):
                links[name] = target
            continue
        if member.isdir():
            continue
        if not member.isfile():
            raise _unsafe(member.name, "a device, FIFO or other special member")
        if not _is_text_member(name):
            continue
        if member.size > limits.max_member_bytes:
            raise RecordError("archive_member_too_large", f"{member.name!r}: {member.size} bytes > {limits.max_member_bytes}")
        handle = tf.extractfile(member)
        files[name] = handle.read() if handle is not None else b""
    for name, target in links.items():
        if target in files:
            files.setdefault(name, files[target])
    return files


def _archive_members(raw: bytes, name: str, limits: SourceLimits) -> dict[str, bytes]:
    """Text members of an e-print: a tar (plain, gzip, bzip2 or xz) or one gzip'd file, all in memory
    and within ``limits``; anything else is ``corrupt_archive``."""
    compression = _compression(raw)
    data = _inflate(raw, compression[1], limits.max_total_bytes, name) if compression else raw
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    except tarfile.ReadError:
        tf = None  # no tar header: maybe one gzip'd file
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise RecordError("corrupt_archive", f"{name}: {type(exc).__name__}: {exc}") from exc
    if tf is not None:
        try:
            with tf:
                return _tar_members(tf, limits)
        except RecordError:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise RecordError("corrupt_archive", f"{name}: {type(exc).__name__}: {exc}") from exc
    if compression is None or compression[0] != "gzip":
        raise RecordError("corrupt_archive", f"{name}: neither a tar archive, a gzip file nor a .tex file")
    # arXiv's single-file e-prints: one gzip'd .tex.
    if len(data) > limits.max_member_bytes:
        raise RecordError("archive_too_large", f"{name}: the gzip'd file expands past {limits.max_member_bytes} bytes")
    if data[:5] == b"%PDF-":
        raise RecordError("latex_not_source", f"{name}: the gzip holds a PDF, not LaTeX")
    stem = re.sub(r"\.(tar\.gz|tgz|gz)$", "", name)
    return {f"{stem}.tex": data}


def _read_members(real: str, name: str, roots: tuple[str, ...], limits: SourceLimits) -> dict[str, bytes]:
    """Text members of a LaTeX source (folder, text file or archive) by posix path."""
    if os.path.isdir(real):
        return _folder_members(real, limits)
    raw = confined.read_file(real, roots, limits.max_file_bytes)
    if name.lower().endswith(TEXT_SUFFIXES):
        return {name: raw}
    return _archive_members(raw, name, limits)


_DOCCLASS_RE = re.compile(r"\\documentclass\s*(\[[^\]]*\])?\s*\{([^}]*)\}")
_BEGIN_DOC_RE = re.compile(r"\\begin\s*\{document\}")
_INCLUDE_RE = re.compile(
    r"\\(?P<cmd>input|include|subfile|import|subimport|inputfrom|subinputfrom|includefrom|subincludefrom)"
    r"(?![A-Za-z@])\*?\s*(?:\{(?P<a>[^{}]*)\}(?:\s*\{(?P<b>[^{}]*)\})?|(?P<bare>[^\s{}\\%]+))"
)


def _prepare(tex: str) -> str:
    tex = drop_iffalse(strip_comments(tex))
    m = re.search(r"\\endinput(?![A-Za-z@])", tex)
    return tex[: m.start()] if m else tex


def find_main_file(texts: Mapping[str, str]) -> str:
    """The file with ``\\documentclass`` and ``\\begin{document}``; among several, a conventional
    name (main, paper, ms, ...), then one no other candidate includes, then the largest."""
    candidates = []
    for name, text in texts.items():
        if not name.lower().endswith((".tex", ".ltx", ".latex")):
            continue
        body = _prepare(text)
        dc = _DOCCLASS_RE.search(body)
        if dc and _BEGIN_DOC_RE.search(body):
            candidates.append((name, body, dc.group(2).strip()))
    if not candidates:
        tex_names = sorted(n for n in texts if n.lower().endswith((".tex", ".ltx", ".latex")))
        shown = ", ".join(tex_names[:10]) + (" ..." if len(tex_names) > 10 else "")
        raise RecordError(
            "latex_no_main_file",
            f"no file has both \\documentclass and \\begin{{document}} (tex files: {shown or 'none'})",
        )
    if len(candidates) == 1:
        return candidates[0][0]
    included: set[str] = set()
    for _name, body, _cls in candidates:
        for m in _INCLUDE_RE.finditer(body):
            target = (m.group("b") or m.group("a") or m.group("bare") or "").strip()
            if target:
                included.add(posixpath.basename(target).removesuffix(".tex"))

    def key(c: tuple[str, str, str]) -> tuple[int, int, int, int, str]:
        name, body, cls = c
        stem = posixpath.basename(name).rsplit(".", 1)[0].lower()
        return (
            1 if cls == "subfiles" or cls.endswith("standalone") else 0,
            0 if stem in _MAIN_STEMS else 1,
            1 if stem in included else 0,
            -len(body),
            name,
        )

    return min(candidates, key=key)[0]


@dataclass
class _Expansion:
    """One paper's include resolution and what it has spent of its bounds.

    Every pasted file adds its size to ``expanded`` before its includes are resolved, so an
    ``\\input`` fan-out (each file inputting the next ten times) stops at ``max_expanded_bytes``
    (``latex_too_large``) or ``max_includes`` (``too_many_includes``) long before it is built; nesting
    past ``max_include_depth`` is ``include_too_deep``. A cycle cannot compile either, but it is the
    author's slip rather than an attack: the repeated include is dropped and noted in ``missing``.
    """

    texts: Mapping[str, str]
    main_dir: str
    limits: SourceLimits
    missing: list[str] = field(default_factory=list)
    prepared: dict[str, str] = field(default_factory=dict)
    includes: int = 0
    expanded: int = 0

    def text(self, name: str, stack: tuple[str, ...]) -> str:
        """``name`` with its includes pasted in; ``stack`` is the include chain down to it."""
        if name not in self.prepared:
            self.prepared[name] = _prepare(self.texts[name])
        tex = self.prepared[name]
        self.expanded += len(tex.encode("utf-8", "surrogatepass"))
        if self.expanded > self.limits.max_expanded_bytes:
            raise RecordError("latex_too_large", f"includes expand past {self.limits.max_expanded_bytes} bytes "
                                                 f"(at {name}, {self.includes} includes)")
        return _INCLUDE_RE.sub(lambda m: self._replace(m, name, stack), tex)

    def _replace(self, m: re.Match[str], name: str, stack: tuple[str, ...]) -> str:
        here = posixpath.dirname(name)
        cmd = m.group("cmd")
        if cmd in ("import", "subimport", "inputfrom", "subinputfrom", "includefrom", "subincludefrom"):
            if m.group("b") is None:
                return m.group(0)
            sub = m.group("a") or ""
            rel_base = here if cmd.startswith("sub") else self.main_dir
            return self._include(m.group("b"), [posixpath.join(rel_base, sub), posixpath.join(self.main_dir, sub)], stack)
        target = m.group("a") if m.group("a") is not None else m.group("bare")
        if target is None:
            return m.group(0)
        bases = [self.main_dir, here, ""]
        if m.group("b") is not None:  # "\input{a}{b}": the second group is not ours
            return self._include(target, bases, stack) + "{" + m.group("b") + "}"
        return self._include(target, bases, stack)

    def _lookup(self, target: str, bases: Iterable[str]) -> str | None:
        target = target.strip().strip('"').replace("\\", "/")
        for base in bases:
            for cand in (target, target + ".tex"):
                p = _safe_member_name(posixpath.join(base, cand)) if base else _safe_member_name(cand)
                if p is not None and p in self.texts:
                    return p
        return None

    def _include(self, target: str, bases: list[str], stack: tuple[str, ...]) -> str:
        found = self._lookup(target, bases)
        if found is None:
            self.missing.append(target.strip())
            return ""
        if found in stack:
            self.missing.append(f"{target.strip()} (include cycle)")
            return ""
        if len(stack) > self.limits.max_include_depth:
            raise RecordError("include_too_deep", f"{found}: includes nested deeper than {self.limits.max_include_depth}")
        self.includes += 1
        if self.includes > self.limits.max_includes:
            raise RecordError("too_many_includes", f"more than {self.limits.max_includes} \\input/\\include resolutions")
        return "\n" + self.text(found, stack + (found,)) + "\n"


def load_latex_source(
    path: str | os.PathLike[str],
    limits: SourceLimits = DEFAULT_LIMITS,
    roots: Iterable[str | os.PathLike[str]] | None = None,
) -> LatexSource:
    """Read a LaTeX source (folder, ``.tex``, ``.tar.gz``/``.tgz``/``.tar``, gzip'd file) into memory.

    ``path`` must lie inside ``roots`` (default: where it is; a caller holding the user's input folders
    passes them); a folder's files must lie inside the folder. Raises ``RecordError``: ``latex_unreadable``
    (no such path), the ``confined`` reasons (``outside_input``, ``not_a_regular_file``, ``symlink_loop``,
    ``unreadable``, ``file_too_large``), the archive reasons (``corrupt_archive``, ``archive_too_large``,
    ``archive_too_many_members``, ``archive_member_too_large``, ``archive_unsafe_member``), the folder
    reasons (``too_many_files``, ``source_too_large``), the expansion reasons (``latex_too_large``,
    ``too_many_includes``, ``include_too_deep``), ``latex_not_source`` (the e-print is a PDF) or
    ``latex_no_main_file``.
    """
    p = Path(path)
    if not os.path.lexists(p):
        raise RecordError("latex_unreadable", f"{p}: no such file or folder")
    if roots is None:
        real = os.path.realpath(p)
        roots = (real if os.path.isdir(real) else os.path.dirname(real),)
    allowed = confined.real_roots(tuple(roots))
    real = confined.resolve_inside(p, allowed)
    raw = _read_members(real, p.name, allowed, limits)
    texts = {name: _decode(data) for name, data in raw.items()}
    if not any(n.lower().endswith((".tex", ".ltx", ".latex")) for n in texts):
        raise RecordError("latex_no_main_file", f"{p.name}: no .tex file")
    main = find_main_file(texts)
    expansion = _Expansion(texts, posixpath.dirname(main), limits)
    text = expansion.text(main, (main,))
    bibs = {n: t for n, t in texts.items() if n.lower().endswith((".bib", ".bbl"))}
    return LatexSource(
        main_file=main,
        text=text,
        files=texts,
        bib_texts=bibs,
        origin=str(p),
        missing_includes=tuple(expansion.missing),
    )


# ---------------------------------------------------------------------------------------------
# Math protection


_DISPLAY_ENVS = {
    "equation": None, "equation*": None, "displaymath": None, "math": "inline",
    "align": "aligned", "align*": "aligned", "flalign": "aligned", "flalign*": "aligned",
    "eqnarray": "aligned", "eqnarray*": "aligned", "gather": "gathered", "gather*": "gathered",
    "multline": None, "multline*": None, "dmath": None, "dmath*": None,
    "alignat": "alignedat", "alignat*": "alignedat",
}
_PH = "\u27e6{}{}\u27e7"  # ⟦M12⟧: passes through pylatexenc unchanged
_PH_RE = re.compile("\u27e6([MF])(\\d+)\u27e7")
_MATH_LABEL_RE = re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}|\\(?:nonumber|notag)(?![A-Za-z@])")


def _inline(body: str) -> str:
    body = _MATH_LABEL_RE.sub("", body)
    return "$" + re.sub(r"\s+", " ", body).strip() + "$"


def _display(body: str, wrap: str | None, env_arg: str = "") -> str:
    body = _MATH_LABEL_RE.sub("", body)
    lines = [ln.strip() for ln in body.strip().split("\n")]
    inner = "\n".join(ln for ln in lines if ln)
    if wrap:
        inner = f"\\begin{{{wrap}}}{env_arg}\n{inner}\n\\end{{{wrap}}}"
    return f"$$\n{inner}\n$$"


def _protect_math(tex: str, store: list[str]) -> str:
    """Replace every math span by a placeholder; ``store`` receives the rendered math."""
    out: list[str] = []
    i = 0
    n = len(tex)

    def keep(rendered: str, display: bool) -> None:
        store.append(rendered)
        ph = _PH.format("M", len(store) - 1)
        out.append(f"\n\n{ph}\n\n" if display else ph)

    while i < n:
        c = tex[i]
        if c == "\\":
            nxt = tex[i + 1 : i + 2]
            if nxt == "(":
                j = tex.find("\\)", i + 2)
                if j >= 0:
                    keep(_inline(tex[i + 2 : j]), False)
                    i = j + 2
                    continue
            elif nxt == "[":
                j = tex.find("\\]", i + 2)
                if j >= 0:
                    keep(_display(tex[i + 2 : j], None), True)
                    i = j + 2
                    continue
            elif tex.startswith("\\verb", i):
                m = re.match(r"\\verb\*?([^A-Za-z\s*])", tex[i : i + 8])
                if m:
                    j = tex.find(m.group(1), i + m.end())
                    if j >= 0 and "\n" not in tex[i + m.end() : j]:
                        keep("`" + tex[i + m.end() : j] + "`", False)
                        i = j + 1
                        continue
            elif tex.startswith("\\begin", i):
                m = re.match(r"\\begin\s*\{([^}]*)\}", tex[i : i + 60])
                if m and m.group(1) in _VERBATIM_ENVS:
                    end = re.compile(r"\\end\s*\{" + re.escape(m.group(1)) + r"\}").search(tex, i + m.end())
                    if end is not None:
                        body = tex[i + m.end() : end.start()]
                        if m.group(1) in ("lstlisting", "minted", "Verbatim", "BVerbatim"):
                            body = re.sub(r"^\s*(\[[^\]\n]*\])?(\{[^}\n]*\})?", "", body, count=1)
                        keep("```\n" + body.strip("\n") + "\n```", True)
                        i = end.end()
                        continue
                if m and m.group(1) in _DISPLAY_ENVS:
                    env = _find_env(tex, m.group(1), i)
                    if env is not None and env[0] == i:
                        body = tex[env[1] : env[2]]
                        wrap = _DISPLAY_ENVS[m.group(1)]
                        if wrap == "inline":
                            keep(_inline(body), False)
                        else:
                            arg = ""
                            if wrap == "alignedat":
                                am = re.match(r"\s*\{[^{}]*\}", body)
                                if am:
                                    arg, body = am.group(0).strip(), body[am.end() :]
                            keep(_display(body, wrap, arg), True)
                        i = env[3]
                        continue
            out.append(tex[i : i + 2])
            i += 2
            continue
        if c == "$":
            if tex.startswith("$$", i):
                j = tex.find("$$", i + 2)
                if j >= 0:
                    keep(_display(tex[i + 2 : j], None), True)
                    i = j + 2
                    continue
            else:
                j = i + 1
                while j < n:
                    if tex[j] == "\\":
                        j += 2
                        continue
                    if tex[j] == "$":
                        break
                    if tex[j] == "\n" and tex[j + 1 : j + 2] == "\n":
                        j = n  # inline math never spans a paragraph break: a stray "$"
                        break
                    j += 1
                if j < n:
                    keep(_inline(tex[i + 1 : j]), False)
                    i = j + 1
                    continue
            out.append("\\$")  # unmatched: keep it as a literal dollar
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Prose to text (pylatexenc)


_CITE_MACROS = (
    "cite", "citep", "citet", "citealt", "citealp", "citeauthor", "citeyear", "citeyearpar", "citenum",
    "Cite", "Citep", "Citet", "Citealt", "Citealp", "Citeauthor", "parencite", "Parencite", "textcite",
    "Textcite", "autocite", "Autocite", "footcite", "citeA", "shortcite", "nocite",
)
_REF_MACROS = ("ref", "autoref", "cref", "Cref", "eqref", "vref", "Vref", "pageref", "nameref", "Autoref", "subref", "cpageref")
_DISCARD_MACROS = {
    # macro: argument spec for the walker (so the arguments are swallowed too)
    "includegraphics": "*[[{", "vspace": "*{", "hspace": "*{", "vskip": "", "hskip": "", "label": "{",
    "maketitle": "", "centering": "", "raggedright": "", "raggedleft": "", "noindent": "", "clearpage": "",
    "newpage": "", "cleardoublepage": "", "pagebreak": "[", "linebreak": "[", "nolinebreak": "[",
    "xspace": "", "footnotemark": "[", "thanks": "{", "appendix": "", "bibliographystyle": "{",
    "bibliography": "{", "addcontentsline": "{{{", "tableofcontents": "", "listoffigures": "",
    "listoftables": "", "color": "[{", "definecolor": "{{{", "setlength": "{{", "addtolength": "{{",
    "setcounter": "{{", "addtocounter": "{{", "pagestyle": "{", "thispagestyle": "{", "smallskip": "",
    "medskip": "", "bigskip": "", "looseness": "", "title": "[{", "author": "[{", "date": "{",
    "icmltitle": "{", "icmlauthor": "{{", "icmlaffiliation": "{{", "icmlcorrespondingauthor": "{{",
    "icmlkeywords": "{", "printAffiliationsAndNotice": "{", "iclrfinalcopy": "", "resizebox": "{{",
    "scalebox": "{", "captionsetup": "[{", "phantom": "{", "hphantom": "{", "vphantom": "{",
    "ignorespaces": "", "protect": "", "nopagebreak": "[", "FloatBarrier": "", "balance": "",
    "newline": "", "par": "", "cellcolor": "[{", "rowcolor": "[{", "columncolor": "[{",
}
_KEEP_ARG_MACROS = {
    "textcolor": ("{{", 2), "colorbox": ("{{", 2), "fcolorbox": ("{{{", 3), "textsuperscript": ("{", 1),
    "textsubscript": ("{", 1), "SI": ("[{{", 2), "num": ("[{", 2), "mbox": ("{", 1), "makebox": ("[[{", 3),
    "fbox": ("{", 1), "framebox": ("[[{", 3), "underline": ("{", 1), "uline": ("{", 1), "hl": ("{", 1),
    "texttt": ("{", 1), "textsf": ("{", 1), "textmd": ("{", 1), "textup": ("{", 1), "textnormal": ("{", 1),
    "enquote": ("*{", 2), "emph": ("{", 1), "textbf": ("{", 1), "textit": ("{", 1), "textsc": ("{", 1),
    "textsl": ("{", 1), "text": ("{", 1), "textrm": ("{", 1), "raisebox": ("{[[{", 4), "parbox": ("[[[{{", 5),
    "multicolumn": ("{{{", 3), "multirow": ("[{[{[{", 6), "makecell": ("[{", 2), "shortstack": ("[{", 2),
}

_THEOREM_NAMES = {
    "theorem": "Theorem", "lemma": "Lemma", "proposition": "Proposition", "corollary": "Corollary",
    "definition": "Definition", "remark": "Remark", "example": "Example", "assumption": "Assumption",
    "claim": "Claim", "conjecture": "Conjecture", "fact": "Fact", "observation": "Observation",
    "hypothesis": "Hypothesis", "problem": "Problem", "question": "Question", "note": "Note",
    "thm": "Theorem", "lem": "Lemma", "prop": "Proposition", "cor": "Corollary", "defn": "Definition",
    "definitionboxed": "Definition", "rem": "Remark", "assump": "Assumption", "proof": "Proof",
}


def _argnode_text(node: Any, idx: int, l2tobj: Any) -> str:
    args = node.nodeargd.argnlist if node.nodeargd is not None else []
    if idx >= len(args) or args[idx] is None:
        return ""
    return l2tobj.nodelist_to_text([args[idx]])


def _argnode_raw(node: Any, idx: int) -> str:
    args = node.nodeargd.argnlist if node.nodeargd is not None else []
    if idx >= len(args) or args[idx] is None:
        return ""
    a = args[idx]
    raw = a.latex_verbatim()
    if raw.startswith(("{", "[")) and len(raw) >= 2:
        raw = raw[1:-1]
    return raw.replace("\\%", "%")


class _Converter:
    """Turns LaTeX prose into plain text for one document (its macros, theorems and labels)."""

    def __init__(
        self,
        text_macros: Mapping[str, str] | None = None,
        theorems: Mapping[str, str] | None = None,
        labels: Mapping[str, tuple[str, str]] | None = None,
    ):
        from pylatexenc import latex2text, latexwalker, macrospec

        self._l2t_mod = latex2text
        self._lw_mod = latexwalker
        self.text_macros = dict(text_macros or {})
        self.theorems = {**_THEOREM_NAMES, **(theorems or {})}
        self.labels = dict(labels or {})
        self._expanding: set[str] = set()

        wdb = latexwalker.get_default_latex_context_db()
        ms = macrospec
        wmacros = [ms.std_macro(m, "*[[{") for m in _CITE_MACROS]
        wmacros += [ms.std_macro(m, "*{") for m in _REF_MACROS]
        wmacros += [ms.std_macro(m, spec) for m, spec in _DISCARD_MACROS.items()]
        wmacros += [ms.std_macro(m, spec) for m, (spec, _n) in _KEEP_ARG_MACROS.items()]
        wmacros += [ms.std_macro("textquote", "*[[{"), ms.std_macro("href", "[{{"), ms.std_macro("url", "{")]
        wmacros += [ms.std_macro("caption", "[{")]
        wmacros += [ms.std_macro(m, "") for m in self.text_macros]
        wenvs = [ms.std_environment(e, "[") for e in self.theorems]
        wenvs += [ms.std_environment("restatable", "[{{")]
        wdb.add_context_category("cyclebench", macros=wmacros, environments=wenvs, prepend=True)
        self.walker_db = wdb

        L = latex2text
        tmacros = [L.MacroTextSpec(m, simplify_repl=self._cite) for m in _CITE_MACROS]
        tmacros += [L.MacroTextSpec(m, simplify_repl=self._ref) for m in _REF_MACROS]
        tmacros += [L.MacroTextSpec(m, discard=True) for m in _DISCARD_MACROS]
        tmacros += [L.MacroTextSpec(m, simplify_repl=self._keep_last_arg) for m in _KEEP_ARG_MACROS]
        tmacros += [
            L.MacroTextSpec("textquote", simplify_repl=self._textquote),
            L.MacroTextSpec("href", simplify_repl=lambda n, l2tobj: _argnode_text(n, 2, l2tobj) + " (" + _argnode_raw(n, 1) + ")"),
            L.MacroTextSpec("url", simplify_repl=lambda n: _argnode_raw(n, 0)),
            L.MacroTextSpec("footnote", simplify_repl=lambda n, l2tobj: " (footnote: " + _argnode_text(n, 1, l2tobj).strip() + ")"),
            L.MacroTextSpec("item", simplify_repl=self._item),
            # Captions left in the prose (algorithm floats, \captionof) stand as their own paragraph.
            L.MacroTextSpec("caption", simplify_repl=lambda n, l2tobj: "\n\n" + _argnode_text(n, 1, l2tobj) + "\n\n"),
        ]
        tmacros += [L.MacroTextSpec(m, simplify_repl=self._macro) for m in self.text_macros]
        tenvs = [L.EnvironmentTextSpec(e, simplify_repl=self._theorem) for e in self.theorems]
        tenvs += [L.EnvironmentTextSpec("restatable", simplify_repl=self._restatable)]
        tenvs += [
            L.EnvironmentTextSpec(e, simplify_repl=lambda n, l2tobj: "\n\n" + l2tobj.nodelist_to_text(n.nodelist) + "\n\n")
            for e in ("itemize", "enumerate", "description", "compactitem", "compactenum", "quote", "quotation", "center")
        ]
        tdb = latex2text.get_default_latex_context_db()
        tdb.add_context_category("cyclebench", macros=tmacros, environments=tenvs, prepend=True)
        self.l2t = latex2text.LatexNodes2Text(latex_context=tdb, math_mode="verbatim", strict_latex_spaces=True)

    # -- macro callbacks (pylatexenc passes the node, and l2tobj when asked for)
    def _cite(self, n: Any) -> str:
        keys = [k.strip() for k in _argnode_raw(n, 3).split(",") if k.strip()]
        if n.macroname == "nocite" or not keys:
            return ""
        return "[" + ", ".join(keys) + "]"

    def _ref(self, n: Any) -> str:
        keys = [k.strip() for k in _argnode_raw(n, 1).split(",") if k.strip()]
        parts = []
        for k in keys:
            kind, num = self.labels.get(k, ("", ""))
            if not num:
                parts.append(f"[{k}]")
            elif n.macroname in ("cref", "Cref", "autoref", "Autoref", "vref", "Vref") and kind:
                parts.append(f"{kind} {num}")
            elif n.macroname == "eqref":
                parts.append(f"({num})")
            else:
                parts.append(num)
        return ", ".join(parts)

    def _textquote(self, n: Any, l2tobj: Any) -> str:
        cite = _argnode_text(n, 1, l2tobj).strip()
        return "\u201c" + _argnode_text(n, 3, l2tobj).strip() + "\u201d" + (f" {cite}" if cite else "")

    def _keep_last_arg(self, n: Any, l2tobj: Any) -> str:
        _spec, count = _KEEP_ARG_MACROS[n.macroname]
        return _argnode_text(n, count - 1, l2tobj)

    def _item(self, n: Any, l2tobj: Any) -> str:
        label = _argnode_text(n, 0, l2tobj).strip() if n.nodeargd and n.nodeargd.argnlist else ""
        return "\n\n- " + (label + " " if label else "")

    def _macro(self, n: Any) -> str:
        name = n.macroname
        if name in self._expanding:
            return ""
        self._expanding.add(name)
        try:
            return self.prose(self.text_macros[name])
        finally:
            self._expanding.discard(name)

    def _theorem(self, n: Any, l2tobj: Any) -> str:
        name = self.theorems.get(n.environmentname, n.environmentname.capitalize())
        opt = _argnode_text(n, 0, l2tobj).strip()
        body = l2tobj.nodelist_to_text(n.nodelist).strip()
        head = f"{name} ({opt})." if opt else f"{name}."
        return f"\n\n{head} {body}\n\n"

    def _restatable(self, n: Any, l2tobj: Any) -> str:
        kind = _argnode_raw(n, 1).strip()
        name = self.theorems.get(kind, kind.capitalize() or "Statement")
        opt = _argnode_text(n, 0, l2tobj).strip()
        body = l2tobj.nodelist_to_text(n.nodelist).strip()
        head = f"{name} ({opt})." if opt else f"{name}."
        return f"\n\n{head} {body}\n\n"

    # -- public
    def prose(self, tex: str) -> str:
        """LaTeX without math placeholders restored: pylatexenc text, whitespace not yet tidied."""
        try:
            walker = self._lw_mod.LatexWalker(tex, latex_context=self.walker_db, tolerant_parsing=True)
            nodes, _pos, _len = walker.get_latex_nodes()
            return self.l2t.nodelist_to_text(nodes)
        except Exception:  # noqa: BLE001 - pylatexenc can still trip (IndexError on a trailing "\\verb")
            return _crude_text(tex)

    def text(self, tex: str, floats: Mapping[int, str] | None = None) -> str:
        """Readable plain text with math kept as ``$...$`` / ``$$...$$`` blocks."""
        store: list[str] = []
        # "i.i.d.\<newline>" is a control space; pylatexenc would drop it.
        tex = re.sub(r"(?<!\\)((?:\\\\)*)\\(?=\n)", r"\1 ", tex)
        protected = _protect_math(tex, store)
        # Comments are gone already; a "%" left (in a URL) is a character, not a comment start.
        protected = re.sub(r"(?<!\\)((?:\\\\)*)%", r"\1\\%", protected)
        raw = self.prose(protected)
        return _tidy(raw, store, floats or {})


def _crude_text(tex: str) -> str:
    """Last-resort prose: drop control sequences and braces, keep the words."""
    t = re.sub(r"\\(?:begin|end)\s*\{[^}]*\}", " ", tex)
    t = re.sub(r"\\[A-Za-z@]+\*?", " ", t)
    t = re.sub(r"\\(.)", r"\1", t)
    return re.sub(r"[{}]", "", t)


_BLOCK_LINE_RE = re.compile(r"^\s*(?:- |\| )")


def _tidy(raw: str, math: list[str], floats: Mapping[int, str]) -> str:
    """Reflow paragraphs, normalise spaces, then put math, code and floats back untouched."""
    raw = raw.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ")

    def is_block(m: re.Match[str]) -> bool:
        if m.group(1) == "F":
            return True
        idx = int(m.group(2))
        return idx < len(math) and math[idx].startswith(("$$", "```"))

    # Block placeholders stand alone as paragraphs.
    raw = _PH_RE.sub(lambda m: f"\n\n{m.group(0)}\n\n" if is_block(m) else m.group(0), raw)
    out: list[str] = []
    for para in re.split(r"\n[ \t]*\n", raw):
        lines = [ln.strip() for ln in para.split("\n")]
        lines = [ln for ln in lines if ln]
        if not lines:
            continue
        merged: list[str] = []
        for ln in lines:
            if merged and not _BLOCK_LINE_RE.match(ln):
                merged[-1] = merged[-1] + " " + ln
            else:
                merged.append(ln)
        out.append("\n".join(re.sub(r"[ \t]{2,}", " ", m) for m in merged))
    text = "\n\n".join(out)
    text = re.sub(r"[ \t]+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\([ \t]+", "(", text)

    def restore(m: re.Match[str]) -> str:
        idx = int(m.group(2))
        if m.group(1) == "F":
            return floats.get(idx, "")
        return math[idx] if idx < len(math) else m.group(0)

    return _PH_RE.sub(restore, text).strip()


def latex_to_text(tex: str) -> str:
    """Plain text of a LaTeX fragment (no document structure), math kept as ``$...$``."""
    return _Converter().text(drop_iffalse(strip_comments(tex)))


# ---------------------------------------------------------------------------------------------
# Document structure


_SECTION_LEVELS = {
    "part": 0, "chapter": 0, "section": 1, "subsection": 2, "subsubsection": 3,
    "paragraph": 4, "subparagraph": 5,
}
_SECTION_RE = re.compile(r"\\(part|chapter|section|subsection|subsubsection|paragraph|subparagraph)(?![A-Za-z@])\s*(\*?)")
_FLOAT_ENV_RE = re.compile(
    r"\\begin\s*\{(figure\*?|table\*?|wrapfigure|wraptable|sidewaysfigure|sidewaystable|SCfigure|SCtable)\}"
)
_ACK_RE = re.compile(r"^\s*acknowledge?ments?\s*$|^\s*acknowledge?ments?\s+and\s+", re.IGNORECASE)
_ACK_ENVS = ("acknowledgements", "acknowledgments", "acknowledgement", "acknowledgment", "ack", "acks")
_BIB_START_RE = re.compile(
    r"\\bibliography\s*\{|\\begin\s*\{thebibliography\}|\\printbibliography(?![A-Za-z@])|\\bibliographystyle\s*\{"
)
_APPENDIX_RE = re.compile(r"\\appendix(?![A-Za-z@])|\\begin\s*\{(?:appendices|appendix)\}")


def _letters(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _text_macros(preamble_and_body: str) -> dict[str, str]:
    """Zero-argument macros the author defined (``\\newcommand{\\ours}{FooNet}``, ``\\def\\eg{e.g.}``)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand)\*?\s*", preamble_and_body):
        i = m.end()
        if preamble_and_body.startswith("{", i):
            end = group_end(preamble_and_body, i)
            if end < 0:
                continue
            name = preamble_and_body[i + 1 : end - 1].strip()
            i = end
        else:
            nm = re.match(r"\\[A-Za-z@]+", preamble_and_body[i:])
            if not nm:
                continue
            name = nm.group(0)
            i += nm.end()
        j = _skip_ws(preamble_and_body, i)
        if j < len(preamble_and_body) and preamble_and_body[j] == "[":
            continue  # takes arguments
        if j >= len(preamble_and_body) or preamble_and_body[j] != "{":
            continue
        end = group_end(preamble_and_body, j)
        if end < 0 or not re.fullmatch(r"\\[A-Za-z]+", name):
            continue
        out[name[1:]] = preamble_and_body[j + 1 : end - 1]
    for m in re.finditer(r"\\def\s*\\([A-Za-z]+)\s*\{", preamble_and_body):
        j = m.end() - 1
        end = group_end(preamble_and_body, j)
        if end > 0:
            out[m.group(1)] = preamble_and_body[j + 1 : end - 1]
    # Never let an author's definition shadow what the converter handles itself.
    reserved = set(_CITE_MACROS) | set(_REF_MACROS) | set(_DISCARD_MACROS) | set(_KEEP_ARG_MACROS) | set(_SECTION_LEVELS)
    reserved |= {"item", "footnote", "url", "href", "textquote", "caption", "label", "begin", "end"}
    return {k: v for k, v in out.items() if k not in reserved and not k.startswith("the") and len(v) < 2000}


def _theorem_names(preamble: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r"\\newtheorem\*?\s*\{([^}]*)\}\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}", preamble):
        out[m.group(1).strip()] = m.group(2).strip()
    for m in re.finditer(r"\\declaretheorem\s*(\[[^\]]*\])?\s*\{([^}]*)\}", preamble):
        opts = m.group(1) or ""
        nm = re.search(r"(?<![A-Za-z])name\s*=\s*\{?([^,}\]]+)", opts)
        out[m.group(2).strip()] = nm.group(1).strip() if nm else m.group(2).strip().capitalize()
    return out


def _macro_arg(tex: str, names: Iterable[str]) -> tuple[str | None, int, int]:
    """The last mandatory argument of the first of ``names`` that occurs (``\\title[short]{long}``)."""
    for name in names:
        m = re.search(r"\\" + name + r"(?![A-Za-z@])\s*\*?", tex)
        if m:
            args, end = _read_args(tex, m.end(), "[{")
            return args[-1], m.start(), end
    return None, -1, -1


@dataclass
class _RawSection:
    command: str
    starred: bool
    heading_tex: str
    body: str
    appendix: bool
    number: str = ""
    label: str | None = None


@dataclass
class _Float:
    kind: Literal["figure", "table"]
    captions: list[tuple[str, str | None, str]]  # (caption tex, label, number)
    rows: list[list[str]]
    appendix: bool


def _split_sections(tex: str, appendix: bool) -> list[_RawSection]:
    out: list[_RawSection] = []
    pos = 0
    current = _RawSection("", False, "", "", appendix)
    for m in _SECTION_RE.finditer(tex):
        if m.start() < pos:
            continue
        args, end = _read_args(tex, m.end(), "[{")
        current.body = tex[pos : m.start()]
        out.append(current)
        current = _RawSection(m.group(1), bool(m.group(2)), args[1] or "", "", appendix)
        pos = end
    current.body = tex[pos:]
    out.append(current)
    return out


def _extract_floats(tex: str, appendix: bool, floats: list[_Float]) -> str:
    """Replace float environments by placeholders; their captions and table rows go to ``floats``."""
    out: list[str] = []
    pos = 0
    while True:
        m = _FLOAT_ENV_RE.search(tex, pos)
        if not m:
            out.append(tex[pos:])
            break
        env = _find_env(tex, m.group(1), m.start())
        if env is None:
            out.append(tex[pos:])
            break
        out.append(tex[pos : m.start()])
        body = tex[env[1] : env[2]]
        name = m.group(1).rstrip("*")
        kind: Literal["figure", "table"] = "table" if "table" in name.lower() else "figure"
        # Sub-figures carry their own small captions ("(a)"); the float's caption is outside them.
        # Side-by-side minipages each hold a real caption, so they are kept.
        for sub in ("subfigure", "subtable"):
            while (e := _find_env(body, sub)) is not None:
                inner = _remove_macro(body[e[1] : e[2]], "caption", "[{") if sub == "subtable" else ""
                body = body[: e[0]] + inner + body[e[3] :]
        body = re.sub(r"\\subfloat\s*(\[[^\]]*\])?", "", body)
        caps: list[tuple[str, str | None, str]] = []
        for cm in re.finditer(r"\\caption(?:of\s*\{[^}]*\})?(?![A-Za-z@])\s*", body):
            args, end = _read_args(body, cm.end(), "[{")
            text = args[1] or ""
            lm = re.search(r"\\label\s*\{([^}]*)\}", text) or re.match(r"\s*\\label\s*\{([^}]*)\}", body[end : end + 200])
            label = lm.group(1).strip() if lm else None
            caps.append((text, label, ""))
        if not caps:
            lm = re.search(r"\\label\s*\{([^}]*)\}", body)
            if lm:
                caps.append(("", lm.group(1).strip(), ""))
        rows: list[list[str]] = []
        if kind == "table":
            for tab in ("tabular", "tabular*", "tabularx", "tabulary", "longtable", "array"):
                e = _find_env(body, tab)
                if e is not None:
                    rows = _table_rows(body[e[1] : e[2]])
                    break
        floats.append(_Float(kind, caps, rows, appendix))
        out.append("\n\n" + _PH.format("F", len(floats) - 1) + "\n\n")
        pos = env[3]
    return "".join(out)


def _remove_macro(tex: str, name: str, spec: str) -> str:
    """``tex`` without any ``\\name`` call and its arguments."""
    pat = re.compile(r"\\" + name + r"(?![A-Za-z@])\s*")
    while (m := pat.search(tex)) is not None:
        _args, end = _read_args(tex, m.end(), spec)
        tex = tex[: m.start()] + tex[end:]
    return tex


def _table_rows(tab: str) -> list[list[str]]:
    # Skip the column spec ("{lcc}", "{\linewidth}{lcc}") at the start.
    t = tab.lstrip()
    for _ in range(2):
        if t.startswith("{"):
            end = group_end(t, 0)
            if end < 0:
                break
            t = t[end:].lstrip()
        elif t.startswith("["):
            end = group_end(t, 0, "[", "]")
            if end < 0:
                break
            t = t[end:].lstrip()
    t = re.sub(r"\\(?:toprule|midrule|bottomrule|hline|specialrule\s*\{[^}]*\}\s*\{[^}]*\}\s*\{[^}]*\}|addlinespace(?:\[[^\]]*\])?)", "", t)
    t = re.sub(r"\\(?:cline|cmidrule)\s*(?:\([^)]*\))?\s*\{[^}]*\}", "", t)
    rows: list[list[str]] = []
    depth = 0
    cell_start = 0
    row: list[str] = []
    i = 0
    n = len(t)
    while i < n:
        c = t[i]
        if c == "\\" and t.startswith("\\\\", i) and depth == 0:
            row.append(t[cell_start:i])
            rows.append(row)
            row = []
            i += 2
            if i < n and t[i] == "[":
                e = group_end(t, i, "[", "]")
                i = e if e > 0 else i
            cell_start = i
            continue
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "&" and depth == 0:
            row.append(t[cell_start:i])
            cell_start = i + 1
        i += 1
    tail = t[cell_start:]
    if tail.strip() or row:
        row.append(tail)
        rows.append(row)
    return [r for r in rows if any(c.strip() for c in r)]


# Verbatim text is text, not LaTeX: a \verb|\end{document}| must not end the document.
_VERBATIM = ("verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "BVerbatim", "alltt", "comment")
_VERB_RE = re.compile(r"\\verb\*?([^A-Za-z\s*])")
_VERBATIM_BEGIN_RE = re.compile(r"\\begin\s*\{(" + "|".join(re.escape(v) for v in _VERBATIM) + r")\}")


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def mask_verbatim(tex: str) -> str:
    """``tex`` with the contents of ``\\verb`` and verbatim-like environments blanked (newlines kept, so
    line numbers stay right): their braces and ``\\end{...}`` are text, not LaTeX."""
    out: list[str] = []
    pos = 0
    while True:
        v = _VERB_RE.search(tex, pos)
        e = _VERBATIM_BEGIN_RE.search(tex, pos)
        m = min((x for x in (v, e) if x is not None), key=lambda x: x.start(), default=None)
        if m is None:
            out.append(tex[pos:])
            return "".join(out)
        out.append(tex[pos : m.end()])
        if m is v:
            close = tex.find(m.group(1), m.end())
            stop = close if close >= 0 else len(tex)
            out.append(_blank(tex[m.end() : stop]))
            pos = stop
        else:
            end = re.compile(r"\\end\s*\{" + re.escape(m.group(1)) + r"\}").search(tex, m.end())
            stop = end.start() if end else len(tex)
            out.append(_blank(tex[m.end() : stop]))
            pos = stop


def parse_latex(source: LatexSource | str) -> LatexDocument:
    """Title, abstract, numbered sections (appendix flagged), captions of a LaTeX paper.

    Accepts a ``LatexSource`` or the text of a single self-contained file. Raises
    ``RecordError("latex_no_document", ...)`` when there is no ``\\begin{document}``.
    """
    if isinstance(source, str):
        source = LatexSource(main_file="<string>", text=drop_iffalse(strip_comments(source)))
    tex = source.text
    masked = mask_verbatim(tex)  # same length and positions as tex
    bd = _BEGIN_DOC_RE.search(masked)
    if bd is None:
        raise RecordError("latex_no_document", f"{source.main_file}: no \\begin{{document}}")
    preamble = tex[: bd.start()]
    end_doc = re.search(r"\\end\s*\{document\}", masked[bd.end() :])
    body = tex[bd.end() : bd.end() + end_doc.start()] if end_doc else tex[bd.end() :]
    removed: list[str] = []

    # Title: preamble or body, the usual class-specific spellings too.
    title_tex, ts, te = _macro_arg(preamble, ("title", "icmltitle"))
    if title_tex is None:
        title_tex, ts, te = _macro_arg(body, ("title", "icmltitle"))
        if title_tex is not None:
            body = body[:ts] + body[te:]

    # Abstract: environment, or \abstract{...}.
    abstract_tex = ""
    env = _find_env(body, "abstract")
    if env is not None:
        abstract_tex = body[env[1] : env[2]]
        body = body[: env[0]] + body[env[3] :]
    else:
        a, s_, e_ = _macro_arg(body, ("abstract",))
        if a is not None:
            abstract_tex, body = a, body[:s_] + body[e_:]

    # Acknowledgement environments.
    for name in _ACK_ENVS:
        while True:
            e = _find_env(body, name)
            if e is None:
                break
            body = body[: e[0]] + body[e[3] :]
            if "acknowledgements" not in removed:
                removed.append("acknowledgements")
    for name in ("acks", "acknowledgments", "acknowledgements"):
        a, s_, e_ = _macro_arg(body, (name,))
        if a is not None and s_ >= 0:
            body = body[:s_] + body[e_:]
            if "acknowledgements" not in removed:
                removed.append("acknowledgements")

    # Main / bibliography / appendix.
    app = _APPENDIX_RE.search(body)
    bib = _BIB_START_RE.search(body)
    main_end = min(x.start() for x in (app, bib) if x is not None) if (app or bib) else len(body)
    main_tex = body[:main_end]
    if app is not None:
        appendix_tex = body[app.end() :]
    elif bib is not None:
        appendix_tex = body[bib.start() :]
    else:
        appendix_tex = ""
    if bib is not None:
        removed.append("bibliography")
    # Bibliography commands/environments inside what remains of the appendix.
    e = _find_env(appendix_tex, "thebibliography")
    while e is not None:
        appendix_tex = appendix_tex[: e[0]] + appendix_tex[e[3] :]
        e = _find_env(appendix_tex, "thebibliography")
    appendix_tex = re.sub(r"\\(?:bibliography|bibliographystyle)\s*\{[^}]*\}|\\printbibliography(?:\[[^\]]*\])?", "", appendix_tex)
    appendix_tex = re.sub(r"\\end\s*\{(?:appendices|appendix)\}", "", appendix_tex)
    if appendix_tex.strip():
        removed.append("appendix_flagged")

    floats: list[_Float] = []
    main_tex = _extract_floats(main_tex, False, floats)
    appendix_tex = _extract_floats(appendix_tex, True, floats) if appendix_tex.strip() else ""

    raw_sections = _split_sections(main_tex, False)
    if appendix_tex:
        app_secs = _split_sections(appendix_tex, True)
        if app_secs and not app_secs[0].command and not app_secs[0].body.strip():
            app_secs = app_secs[1:]
        raw_sections += app_secs

    # Numbers and labels.
    labels: dict[str, tuple[str, str]] = {}
    counters = [0, 0, 0, 0]
    in_appendix = False
    for s in raw_sections:
        if s.appendix and not in_appendix:
            in_appendix = True
            counters = [0, 0, 0, 0]
        if not s.command or s.starred:
            continue
        level = _SECTION_LEVELS[s.command]
        if level == 0 or level > 3:
            continue
        counters[level] += 1
        for k in range(level + 1, 4):
            counters[k] = 0
        first = _letters(counters[1]) if in_appendix else str(counters[1])
        s.number = ".".join([first] + [str(c) for c in counters[2 : level + 1]])
        lm = re.search(r"\\label\s*\{([^}]*)\}", s.heading_tex) or re.match(r"\s*\\label\s*\{([^}]*)\}", s.body)
        if lm:
            s.label = lm.group(1).strip()
            labels[s.label] = ("Appendix" if in_appendix else "Section", s.number)
    fig_n = tab_n = 0
    for f in floats:
        numbered = []
        for text, label, _ in f.captions:
            if f.kind == "table":
                tab_n += 1
                num = str(tab_n)
            else:
                fig_n += 1
                num = str(fig_n)
            numbered.append((text, label, num))
            if label:
                labels[label] = ("Table" if f.kind == "table" else "Figure", num)
        f.captions = numbered

    conv = _Converter(_text_macros(preamble), _theorem_names(preamble), labels)

    def inline_text(t: str) -> str:
        return re.sub(r"\s+", " ", conv.text(t)).strip()

    captions: list[Caption] = []
    float_text: dict[int, str] = {}
    for idx, f in enumerate(floats):
        parts = []
        for text, label, num in f.captions:
            ct = inline_text(text)
            captions.append(Caption(kind=f.kind, label=label, text=ct, number=num, appendix=f.appendix))
            name = "Table" if f.kind == "table" else "Figure"
            parts.append(f"{name} {num}: {ct}" if ct else f"{name} {num}.")
        for row in f.rows:
            cells = [inline_text(c) for c in row]
            parts.append("| " + " | ".join(cells) + " |")
        float_text[idx] = "\n".join(parts)

    sections: list[LatexSection] = []
    skip_level: int | None = None
    for s in raw_sections:
        level = _SECTION_LEVELS.get(s.command, 1)
        heading = inline_text(s.heading_tex) if s.command else ""
        if skip_level is not None:
            if s.command and level <= skip_level:
                skip_level = None
            else:
                continue
        if s.command and _ACK_RE.match(heading):
            skip_level = level
            if "acknowledgements" not in removed:
                removed.append("acknowledgements")
            continue
        text = conv.text(s.body, float_text)
        if not s.command and not text.strip():
            continue
        sections.append(
            LatexSection(heading=heading, level=level, text=text, number=s.number, appendix=s.appendix)
        )

    title = inline_text(title_tex) if title_tex else ""
    title = re.sub(r"\s+", " ", title).strip()
    abstract = conv.text(abstract_tex) if abstract_tex else ""
    return LatexDocument(
        title=title,
        abstract=abstract,
        sections=sections,
        captions=captions,
        bib_texts=dict(source.bib_texts),
        main_file=source.main_file,
        removed=tuple(removed),
    )


def latex_to_markdown(doc: LatexDocument, include_appendix: bool = False) -> str:
    """``# Title``, ``## Abstract``, ``## 1 Introduction``-style headings, then the text.

    The appendix is left out unless asked for, matching the PDF texts that are cut at the references.
    """
    out: list[str] = []
    if doc.title:
        out.append(f"# {doc.title}")
    if doc.abstract:
        out.append("## Abstract")
        out.append(doc.abstract)
    appendix_started = False
    for s in doc.sections:
        if s.appendix and not include_appendix:
            continue
        if s.appendix and not appendix_started:
            appendix_started = True
            out.append("## Appendix")
        if s.heading or s.number:
            hashes = "#" * min(6, max(2, s.level + 1))
            head = f"{s.number} {s.heading}".strip() if s.number else s.heading
            out.append(f"{hashes} {head}")
        if s.text:
            out.append(s.text)
    return "\n\n".join(out).strip() + "\n"


__all__ = [
    "Caption",
    "LatexDocument",
    "LatexSection",
    "LatexSource",
    "drop_iffalse",
    "find_main_file",
    "latex_to_markdown",
    "latex_to_text",
    "load_latex_source",
    "parse_latex",
    "strip_comments",
]
