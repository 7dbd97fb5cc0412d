"""File helpers every writer shares: content hashes, all-or-nothing writes, and the names of scratch files.

Scratch entries (a file or folder being written, or an old folder being replaced) are named
``.<target>.<pid>@<host>.<token>.partial`` and ``.<target>.old-<pid>@<host>.<token>``: the owner is in the
name, so a later write to the same target can tell a scratch left by a killed process (owner gone, safe to
remove) from one a running process is still filling (see ``cyclebench.outputs.clean_stale``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]
# The owner part of a scratch name: pid, then (since issue 11) the host, then a random token.
_OWNER = r"(?P<pid>\d+)(?:@(?P<host>[0-9a-f]{8}))?(?:\.(?P<token>[0-9a-f]+))?"
_PARTIAL_RE = re.compile(rf"{_OWNER}\{PARTIAL_SUFFIX}")
_OLD_RE = re.compile(rf"old-{_OWNER}")
_OWNED_PARTIAL_RE = re.compile(rf"\.(?P<target>.+)\.\d+@[0-9a-f]{{8}}\.[0-9a-f]+\{PARTIAL_SUFFIX}")
# What tempfile.mkdtemp/mkstemp put between prefix and suffix in earlier versions (no owner in the name).
_LEGACY_RE = re.compile(r"(?:[a-z0-9_]{8})?(?:\.decontam)?\.partial")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (inputs can be large PDFs or shards)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: str | Path) -> str:
    """sha256 of a file; for a folder (a LaTeX project), of its sorted (relative path, file sha256) list."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        digest.update(p.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        digest.update(sha256_file(p).encode("ascii") + b"\n")
    return digest.hexdigest()


def owner_tag() -> str:
    """``<pid>@<host hash>``: who is writing, as scratch names record it."""
    return f"{os.getpid()}@{_HOST}"


def partial_name(target: str) -> str:
    """A fresh scratch name beside ``target``, unique even between threads of one process."""
    return f".{target}.{owner_tag()}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}"


def old_name(target: str) -> str:
    """The name a replaced folder is moved to while its replacement is renamed into place."""
    return f".{target}.old-{owner_tag()}.{secrets.token_hex(4)}"


@dataclass(frozen=True)
class ScratchOwner:
    """Who left a scratch entry: ``pid`` None when the name does not say (written by an older version)."""

    kind: str  # "partial" | "old"
    pid: int | None
    local: bool  # written on this host (or the name predates hosts in names)


def scratch_owner(entry_name: str, target: str) -> ScratchOwner | None:
    """The owner of ``entry_name`` if it is a scratch entry of ``target``; None for anything else."""
    prefix = f".{target}."
    if not entry_name.startswith(prefix):
        return None
    rest = entry_name[len(prefix):]
    for kind, pattern in (("partial", _PARTIAL_RE), ("old", _OLD_RE)):
        match = pattern.fullmatch(rest)
        if match:
            host = match.group("host")
            return ScratchOwner(kind, int(match.group("pid")), host is None or host == _HOST)
    if _LEGACY_RE.fullmatch(rest) or rest == PARTIAL_SUFFIX.lstrip("."):
        return ScratchOwner("partial", None, True)
    return None


def scratch_target(entry_name: str) -> str | None:
    """The target of a scratch file or folder named by ``partial_name``; None for any other name."""
    match = _OWNED_PARTIAL_RE.fullmatch(entry_name)
    return match.group("target") if match else None


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write beside the target, then rename: a reader sees the old file or the new one, never half; a
    failed write (full disk) removes its scratch file."""
    path = Path(path)
    partial = path.with_name(partial_name(path.name))
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
