"""Reading user-supplied paper files: only regular files inside the input folders, and only so much.

A papers folder, a LaTeX project and a metadata ``source`` are user input. A symlink
(``papers/abc.md -> /etc/passwd``), a ``source`` of ``../../x`` or ``/usr``, a FIFO (``open`` blocks
forever), a symlink loop, a chmod-000 file or a 10 GB file must each become a reasoned reject of that
one paper, never a dataset row holding a system file, a hang or a crashed build. Every reader of paper
files (``text``, ``latex``, ``cyclebench.builders.paper_extract``) goes through this module, so the rule lives here:

* a path is read only when its real path (``os.path.realpath``) lies inside one of the given roots
  (``outside_input``); the check is on the fully resolved path, so ``..`` and links are both covered;
* it is opened only when ``stat`` says it is a regular file (``not_a_regular_file``), with
  ``O_NONBLOCK | O_NOFOLLOW`` and ``fstat`` again on the open descriptor, so a FIFO swapped in between
  the two cannot block and a link swapped in cannot be followed;
* a link cycle is ``symlink_loop``; a permission error, a vanished file or an I/O error ``unreadable``;
  a file over its byte bound ``file_too_large``.

``SourceLimits`` holds every bound on what one paper's source may cost (files, archives, LaTeX includes,
PDF pages).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
from contextlib import contextmanager
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cyclebench.records import RecordError

_MIB = 1024 * 1024
_BLOCK = 1 << 20

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """Bounds on one paper's source; each breach rejects that paper with a reason naming the bound."""

    # One paper file as stored: a .md/.txt/.pdf/.tex file or a whole archive (file_too_large).
    max_file_bytes: int = 200 * _MIB
    # One text file of a LaTeX folder or archive, uncompressed (file_too_large / archive_member_too_large;
    # a gzip'd single-file e-print that expands past it: archive_too_large).
    max_member_bytes: int = 20 * _MIB
    # An archive's whole uncompressed stream, or all text files of a LaTeX folder together
    # (archive_too_large / source_too_large).
    max_total_bytes: int = 200 * _MIB
    # Members of an archive, or text files of a LaTeX folder (archive_too_many_members / too_many_files).
    max_members: int = 5_000
    # The main file with every \input pasted in, UTF-8 bytes (latex_too_large): an \input fan-out of a
    # few hundred bytes would otherwise expand to gigabytes.
    max_expanded_bytes: int = 20 * _MIB
    # \input/\include/\import resolutions in one paper (too_many_includes) and their nesting
    # (include_too_deep).
    max_includes: int = 500
    max_include_depth: int = 20
    # Pages of one PDF (pdf_too_many_pages), checked before any text is extracted: extraction time grows
    # with the page count, and 200 MB of blank pages is over a million of them. Papers with appendices
    # run to ~100 pages.
    max_pdf_pages: int = 300

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{f.name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = SourceLimits()


def real_roots(roots: Sequence[PathLike]) -> tuple[str, ...]:
    """The real paths of the input roots (resolved once, so the inside test compares like with like)."""
    return tuple(os.path.realpath(r) for r in roots)


def containing_root(real: str, roots: Sequence[str]) -> str | None:
    """The first of ``roots`` (real paths) that ``real`` lies in, or None."""
    for root in roots:
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return root
    return None


def _shown(path: PathLike, roots: Sequence[PathLike]) -> str:
    """``path`` as a reject names it: relative to the input folder it lies in (rejects.jsonl is
    published with the dataset; the builder's own folders need not be), else as given."""
    full = os.path.abspath(path)
    for root in roots:
        base = os.path.abspath(root).rstrip(os.sep) + os.sep
        if full.startswith(base):
            return full[len(base):]
    return os.fspath(path)


def _os_reject(exc: OSError, shown: str) -> RecordError:
    """An OSError on a paper file as the reasoned reject it stands for."""
    if exc.errno == errno.ELOOP:
        return RecordError("symlink_loop", f"{shown}: a symbolic link cycle")
    if exc.errno == errno.ENOENT:
        return RecordError("unreadable", f"{shown}: no such file (a dangling link?)")
    return RecordError("unreadable", f"{shown}: {exc.strerror or type(exc).__name__}")


def _resolve(path: PathLike, roots: Sequence[PathLike]) -> tuple[str, os.stat_result, str]:
    """``(real path, its stat, the path as rejects show it)``, or the reject (see ``resolve_inside``)."""
    shown = _shown(path, roots)
    real = os.path.realpath(path)
    if containing_root(real, real_roots(roots)) is None:
        raise RecordError("outside_input", f"{shown} resolves to {real}, outside the input folder(s)")
    try:
        return real, os.stat(real), shown
    except OSError as exc:
        raise _os_reject(exc, shown) from exc


def resolve_inside(path: PathLike, roots: Sequence[PathLike]) -> str:
    """The real path of ``path`` once it is known to lie inside one of ``roots`` and to exist.

    ``outside_input`` before anything is opened or even stat'ed at the target, ``symlink_loop`` for a
    cycle, ``unreadable`` for a dangling link or a path that cannot be stat'ed.
    """
    return _resolve(path, roots)[0]


def regular_file(path: PathLike, roots: Sequence[PathLike], max_bytes: int) -> tuple[str, int]:
    """``(real path, size)`` of a regular file inside ``roots`` of at most ``max_bytes``; else a reject."""
    real, st, shown = _resolve(path, roots)
    _check_regular(st, shown, max_bytes)
    return real, st.st_size


def _check_regular(st: os.stat_result, shown: str, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise RecordError("not_a_regular_file", f"{shown}: {_kind(st.st_mode)}, not a regular file")
    if st.st_size > max_bytes:
        raise RecordError("file_too_large", f"{shown}: {st.st_size} bytes > {max_bytes}")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"


def _open_fd(real: str) -> int:
    """The one ``open`` of paper files: never blocks on a FIFO, never follows a link swapped in."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(real, flags)


@contextmanager
def _opened(path: PathLike, roots: Sequence[PathLike], max_bytes: int) -> Iterator[tuple[int, os.stat_result, str]]:
    """``(descriptor, its stat, shown name)`` of a confined regular file: checked by path, opened without
    blocking or following a link, and checked again on the descriptor (a file swapped in between fails)."""
    real, st, shown = _resolve(path, roots)
    _check_regular(st, shown, max_bytes)
    try:
        fd = _open_fd(real)
    except OSError as exc:
        raise _os_reject(exc, shown) from exc
    try:
        st = os.fstat(fd)
        _check_regular(st, shown, max_bytes)
        yield fd, st, shown
    finally:
        os.close(fd)


def _chunks(path: PathLike, roots: Sequence[PathLike], max_bytes: int) -> Iterator[bytes]:
    """The bytes of a confined regular file in blocks (see ``_opened``)."""
    with _opened(path, roots, max_bytes) as (fd, _, shown):
        read = 0
        while True:
            try:
                block = os.read(fd, _BLOCK)
            except OSError as exc:
                raise _os_reject(exc, shown) from exc
            if not block:
                return
            read += len(block)
            if read > max_bytes:  # the file grew after fstat
                raise RecordError("file_too_large", f"{shown}: more than {max_bytes} bytes")
            yield block


def read_file(path: PathLike, roots: Sequence[PathLike], max_bytes: int) -> bytes:
    """All bytes of a regular file inside ``roots``, at most ``max_bytes``; else a ``RecordError``."""
    return b"".join(_chunks(path, roots, max_bytes))


def read_tail(path: PathLike, roots: Sequence[PathLike], max_bytes: int, count: int) -> bytes:
    """The last ``count`` bytes of a confined regular file of at most ``max_bytes`` (a PDF's trailer)."""
    with _opened(path, roots, max_bytes) as (fd, st, shown):
        try:
            os.lseek(fd, max(0, st.st_size - count), os.SEEK_SET)
            return os.read(fd, count)
        except OSError as exc:
            raise _os_reject(exc, shown) from exc


def sha256_file(path: PathLike, roots: Sequence[PathLike], max_bytes: int) -> str:
    """Hex sha256 of a confined regular file, streamed (the same digest ``fileio.sha256_file`` gives)."""
    digest = hashlib.sha256()
    for block in _chunks(path, roots, max_bytes):
        digest.update(block)
    return digest.hexdigest()


def tree_files(folder: PathLike) -> Iterator[tuple[str, str]]:
    """``(posix path relative to folder, full path)`` of every non-folder entry under ``folder``.

    Links to folders are listed by ``os.walk`` as folders and not descended (a link cycle cannot make
    the walk endless); links to files, FIFOs, sockets and broken links are yielded, for the caller's
    checks to reject. An unreadable sub-folder is ``unreadable``, not silently skipped.
    """
    def fail(exc: OSError) -> None:
        raise _os_reject(exc, _shown(exc.filename or folder, (folder,)))

    root = os.fspath(folder)
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            yield Path(os.path.relpath(full, root)).as_posix(), full


def sha256_source(path: PathLike, roots: Sequence[PathLike], limits: SourceLimits = DEFAULT_LIMITS) -> str:
    """sha256 of a paper source: a file's bytes; a folder's sorted (relative path, file sha256) list.

    The digest ``fileio.sha256_path`` gives for ordinary inputs. In a folder, entries that are not
    regular files (FIFOs, devices, sockets, broken or cyclic links) are left out, as ``sha256_path``
    leaves them (the LaTeX reader rejects such an entry when it is a text file it needs); a link that
    leaves the folder, or a file that cannot be read, rejects the paper: the digest would not cover it.
    """
    real = resolve_inside(path, roots)
    if not os.path.isdir(real):
        return sha256_file(real, roots, limits.max_file_bytes)
    digest = hashlib.sha256()
    entries = sorted(tree_files(real), key=lambda item: tuple(item[0].split("/")))
    for rel, full in entries:
        try:
            mode = os.stat(full).st_mode
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):
                continue
            raise _os_reject(exc, rel) from exc
        if not stat.S_ISREG(mode):
            continue
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(sha256_file(full, (real,), limits.max_total_bytes).encode("ascii") + b"\n")
    return digest.hexdigest()


__all__ = [
    "DEFAULT_LIMITS",
    "SourceLimits",
    "containing_root",
    "read_file",
    "read_tail",
    "real_roots",
    "regular_file",
    "resolve_inside",
    "sha256_file",
    "sha256_source",
    "tree_files",
]
