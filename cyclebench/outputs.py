"""Output folders cyclebench writes: marked as ours, never over an input, replaced only when ours, atomic.

Every folder cyclebench writes (a dataset build, an evaluation run folder, the leaderboard site) carries a
marker file, ``.cyclebench-output.json``, saying what kind of output it is (and, for an evaluation run,
which run). The rules every writer follows, so that a careless ``--out`` never costs a user their data:

* An output never equals, contains or sits inside one of the run's inputs (resolved, so symlinks count):
  refused whatever the flags (``OutputRefusedError``, a ``ValueError``).
* An existing, non-empty target is refused without ``overwrite`` (``OutputExistsError``, a
  ``FileExistsError``). With ``overwrite`` only a folder carrying our marker, of the same kind, is replaced;
  anything else is refused naming the folder and why. An empty folder counts as absent.
* A folder output is assembled in a scratch folder beside the target and renamed into place; the existence
  check is that rename (``rename(2)`` of a folder onto a non-empty folder fails), so of two concurrent
  writes into one target without ``overwrite`` exactly one wins. A replaced folder is moved aside first and
  its marker checked after the move, so what is checked is what is deleted.
* An evaluation run folder is written in place, so a killed run resumes from its cache: it is claimed by
  creating its marker exclusively (``link(2)``), the marker holds the run's identity (``run_identity``), the
  same run resumes, another run is refused (replaced with ``overwrite``), and its result files are staged
  and renamed in, ``results.json`` last.
* Scratch entries left by a killed process (their owner's pid is gone, or, when the name does not say who
  owns them, older than ``STALE_AFTER_S``) are removed on the next write to the same target; an old folder
  whose swap was interrupted before its replacement arrived is put back. Nothing else is touched.
* Folders are made with ``mkdir`` (never ``mkdtemp``, whose 0700 would outlive the rename), so folders and
  files follow the umask.
* An ``OSError`` while writing (read-only folder, full disk) becomes ``OutputWriteError`` (a ``ValueError``
  the CLI prints as one line) after the scratch is removed, so the target holds nothing half-written.

Dataset folders keep the marker as a hidden file: ``datasets`` ignores hidden files and only reads the files
the card's ``configs`` name, the manifest does not list it, and ``cyclebench publish`` leaves it out.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cyclebench.fileio import atomic_write_text, old_name, partial_name, scratch_owner, scratch_target

MARKER_NAME = ".cyclebench-output.json"
MARKER_FORMAT = 1
MARKER_MAX_BYTES = 1 << 20
STALE_AFTER_S = 24 * 3600  # scratch entries whose name does not say who owns them
KINDS = ("dataset", "evaluation", "site")

# OSErrors that mean "this place cannot be written" (not a missing input, not a network error).
_WRITE_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EFBIG,
                           errno.EIO, errno.ENAMETOOLONG, errno.EMLINK, errno.EISDIR})


class OutputExistsError(FileExistsError):
    """The target holds an earlier output: refused without ``--overwrite`` (or it appeared meanwhile)."""


class OutputRefusedError(ValueError):
    """A target that ``--overwrite`` cannot make writable: an input, or a folder cyclebench did not write."""


class OutputWriteError(ValueError):
    """The operating system refused a write (read-only, full disk): one line for the CLI, nothing half left."""


@dataclass(frozen=True)
class OutputMarker:
    """What a folder is: ``kind`` (dataset, evaluation, site), ``what`` within it, and a run's identity."""

    kind: str
    what: str = ""
    run: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"output kind must be one of {KINDS}, not {self.kind!r}")

    def to_text(self) -> str:
        """Deterministic JSON (no time, no pid), so the same build gives the same bytes."""
        body: dict[str, Any] = {"written_by": "cyclebench", "format": MARKER_FORMAT, "kind": self.kind}
        if self.what:
            body["what"] = self.what
        if self.run:
            body["run"] = self.run
        return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=True, default=str) + "\n"

    @classmethod
    def from_text(cls, text: str) -> OutputMarker | None:
        """The marker in ``text``, or None when it is not one of ours (any JSON, any garbage)."""
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):  # garbage, or nesting deep enough to exhaust the parser
            return None
        if not isinstance(body, dict) or body.get("written_by") != "cyclebench" or body.get("kind") not in KINDS:
            return None
        run = body.get("run") or {}
        return cls(body["kind"], str(body.get("what") or ""), run if isinstance(run, dict) else {})


def read_marker(folder: Path) -> OutputMarker | None:
    """The marker of ``folder``; None when it has none, or an unreadable one (a file, not a marker)."""
    path = Path(folder) / MARKER_NAME
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(MARKER_MAX_BYTES + 1)
        if len(data) > MARKER_MAX_BYTES:  # ours are a few hundred bytes; a huge file is not a marker
            return None
        return OutputMarker.from_text(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def write_marker(folder: Path, marker: OutputMarker) -> None:
    atomic_write_text(Path(folder) / MARKER_NAME, marker.to_text())


# ---------------------------------------------------------------------------------------------
# Checks


def local_inputs(values: Iterable[Any]) -> list[Path]:
    """The values that name an existing local file or folder (a Hub id or an option value does not)."""
    found = []
    for value in values:
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            path = Path(value)
            try:
                if path.exists():
                    found.append(path)
            except OSError:  # a name too long to be a path, a path through a file: not an input
                continue
    return found


def check_not_inputs(target: Path, inputs: Iterable[Any]) -> None:
    """Refuse a target that is, contains or is inside an input: writing there could delete or change it."""
    here = Path(target).resolve()
    for value in local_inputs(inputs):
        source = value.resolve()
        if here == source:
            how = "is"
        elif here in source.parents:
            how = "contains"
        elif source in here.parents:
            how = "is inside"
        else:
            continue
        raise OutputRefusedError(f"output {target} {how} the input {value}: writing there could change or delete "
                                 "the input; choose an output folder apart from every input")


def check_outside(target: Path, paths: Iterable[Any], what: str) -> None:
    """Refuse a target that is or contains one of ``paths`` even when they do not exist yet: a cache folder
    the run will create inside ``--out`` would be swept away by the commit (or by the next ``--overwrite``)."""
    here = Path(target).resolve()
    for value in paths:
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            continue
        other = Path(value).resolve()
        if here == other or here in other.parents:
            raise OutputRefusedError(f"{what} {value} is inside the output {target}: replacing the output would "
                                     f"delete it; keep {what} outside the output folder")


def check_file_target(target: Path, inputs: Iterable[Any], *, replaceable: Callable[[Path], bool], what: str,
                      kind: str) -> None:
    """Refuse a file output that is or lies inside an input, is a link or a folder, or exists and is not
    ``kind`` (``replaceable`` decides): a careless path never overwrites a user's file."""
    try:
        check_not_inputs(target, inputs)
    except OutputRefusedError as error:
        raise OutputRefusedError(f"{what} {target}: {error}") from None
    path = Path(target)
    if path.is_symlink():
        raise OutputRefusedError(f"{what} {target} is a symbolic link; give the path of a new file or of {kind}")
    if not path.exists():
        return
    if not path.is_file():
        raise OutputRefusedError(f"{what} {target} exists and is not a file; give the path of a new file")
    if not replaceable(path):
        raise OutputRefusedError(f"{what} {target} exists and is not {kind}, so it is not replaced; choose another "
                                 "path or move the file away yourself")


def is_json_report(path: Path, keys: Iterable[str]) -> bool:
    """Whether ``path`` holds a JSON object with every one of ``keys``: how a ``--report`` writer recognises an
    earlier report of its own, the only existing file it may replace (``check_file_target``)."""
    try:
        with open(path, "rb") as handle:
            if not handle.read(4096).lstrip().startswith(b"{"):
                return False
            handle.seek(0)
            data = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and all(key in data for key in keys)


def is_empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


def check_replaceable(folder: Path, kind: str, *, shown: Path | None = None) -> OutputMarker:
    """The marker of ``folder`` when ``--overwrite`` may replace it; refuses any folder we did not write."""
    name = shown or folder
    if folder.is_symlink() or not folder.is_dir():
        raise OutputRefusedError(f"{name} exists and is not a folder: cyclebench replaces only folders it wrote")
    marker = read_marker(folder)
    if marker is None:
        raise OutputRefusedError(f"{name} is not empty and has no {MARKER_NAME}: cyclebench did not write it (or "
                                 "wrote it before outputs were marked), so --overwrite will not replace it; choose "
                                 "another output or move it away yourself")
    if marker.kind != kind:
        raise OutputRefusedError(f"{name} holds cyclebench output of kind {marker.kind!r}, not {kind!r}; --overwrite "
                                 "replaces only output of the same kind, so choose another output")
    return marker


def check_target(target: Path, kind: str, *, overwrite: bool, inputs: Iterable[Any] = ()) -> None:
    """Fail fast, before any work: the checks ``commit`` repeats when it renames."""
    check_not_inputs(target, inputs)
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise OutputRefusedError(f"{target} exists and is not a folder: cyclebench replaces only folders it wrote")
    if is_empty_dir(target):
        return
    if not overwrite:
        raise OutputExistsError(f"{target} exists and is not empty; pass --overwrite (overwrite=True) to replace it")
    check_replaceable(target, kind)


# ---------------------------------------------------------------------------------------------
# Stale scratch


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _is_stale(entry: Path, pid: int | None, local: bool) -> bool:
    if pid is not None and local:
        return not _pid_alive(pid)
    try:
        return time.time() - entry.lstat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def clean_stale(parent: Path, target: str) -> list[Path]:
    """Remove the scratch entries of ``target`` under ``parent`` whose writer is gone; put back an old folder
    whose swap was interrupted (the target is missing). Returns what was removed or restored."""
    handled: list[Path] = []
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return handled
    for entry in entries:
        owner = scratch_owner(entry.name, target)
        if owner is None or not _is_stale(entry, owner.pid, owner.local):
            continue
        final = parent / target
        try:
            if owner.kind == "old" and entry.is_dir() and not final.exists() and not final.is_symlink():
                os.rename(entry, final)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # cleaning is a courtesy: a failure here must not fail the write
        handled.append(entry)
    return handled


# ---------------------------------------------------------------------------------------------
# OSError -> one line


def is_write_failure(exc: BaseException) -> bool:
    """An OSError that says the place cannot be written (read-only, full, no permission)."""
    return isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS


def write_failure(target: Path, exc: OSError, after: str) -> OutputWriteError:
    where = f" ({exc.filename})" if exc.filename else ""
    reason = " ".join(str(exc.strerror or exc).split())  # one line, whatever the library wrote
    return OutputWriteError(f"could not write {target}: {reason}{where}; {after}")


@contextmanager
def write_errors(target: Path, after: str) -> Iterator[None]:
    """Turn a write failure inside the block into ``OutputWriteError`` (one line at the CLI)."""
    try:
        yield
    except OSError as exc:
        if not is_write_failure(exc):
            raise
        raise write_failure(target, exc, after) from exc


# ---------------------------------------------------------------------------------------------
# Folders that appear whole


def _make_scratch(parent: Path, target: str) -> Path:
    for _ in range(16):
        scratch = parent / partial_name(target)
        try:
            scratch.mkdir()  # mode 0777 & ~umask, unlike mkdtemp's 0700
        except FileExistsError:
            continue
        return scratch
    raise OutputExistsError(f"could not make a scratch folder beside {parent / target}")


def _move_aside(out: Path, kind: str) -> Path:
    """Rename ``out`` aside and check the marker of what was moved (so the check and the delete agree)."""
    old = out.with_name(old_name(out.name))
    os.rename(out, old)
    try:
        check_replaceable(old, kind, shown=out)
    except BaseException:
        os.rename(old, out)
        raise
    return old


def swap_into_place(scratch: Path, out: Path, kind: str, *, overwrite: bool) -> None:
    """Rename ``scratch`` to ``out``; the rename is the existence check (no window between check and write)."""
    try:
        os.rename(scratch, out)  # succeeds onto nothing or onto an empty folder
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise
        if exc.errno in (errno.ENOTDIR, errno.EISDIR) or out.is_symlink():
            raise OutputRefusedError(f"{out} exists and is not a folder: cyclebench replaces only folders it "
                                     "wrote") from None
    if not overwrite:
        raise OutputExistsError(f"{out} was written by someone else while this ran; it was left as it is and this "
                                "output was discarded (pass --overwrite to replace it)")
    old = _move_aside(out, kind)
    try:
        os.rename(scratch, out)
    except OSError as exc:
        try:
            os.rename(old, out)
        except OSError:
            pass  # left as .old-*: the next write to this target puts it back
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise OutputExistsError(f"{out} was written by someone else while this ran; this output was "
                                    "discarded") from None
        raise
    shutil.rmtree(old, ignore_errors=True)


class FolderTransaction:
    """A folder output assembled in ``scratch`` and renamed to ``out`` by ``commit``; on any exception, or
    without a commit, the scratch is removed and ``out`` is as it was. Use as a context manager."""

    def __init__(self, out: str | Path, marker: OutputMarker, *, overwrite: bool = False,
                 inputs: Iterable[Any] = ()):
        self.out = Path(out).resolve()
        self.marker = marker
        self.overwrite = overwrite
        self.committed = False
        check_not_inputs(self.out, inputs)
        with write_errors(self.out, f"{self.out} was left as it was"):
            self.out.parent.mkdir(parents=True, exist_ok=True)
            clean_stale(self.out.parent, self.out.name)  # first: it may put back an interrupted swap's folder
            check_target(self.out, marker.kind, overwrite=overwrite)
            self.scratch = _make_scratch(self.out.parent, self.out.name)

    def __enter__(self) -> FolderTransaction:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.abort()
        if exc is not None and not self.committed and is_write_failure(exc):
            raise write_failure(self.out, exc, f"{self.out} was left as it was") from exc  # type: ignore[arg-type]

    def commit(self) -> Path:
        """Write the marker and rename the scratch into place (replacing only a marked folder of our kind)."""
        with write_errors(self.out, f"{self.out} was left as it was"):
            write_marker(self.scratch, self.marker)
            swap_into_place(self.scratch, self.out, self.marker.kind, overwrite=self.overwrite)
        self.committed = True
        return self.out

    def abort(self) -> None:
        """Remove the scratch (nothing when committed)."""
        if not self.committed:
            shutil.rmtree(self.scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Run folders, written in place (a killed run resumes from its cache)


def _normalised(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def run_identity(**fields: Any) -> dict[str, Any]:
    """A run's identity as JSON values; an existing local path is made absolute, so the same run started
    from another folder is still the same run."""
    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): norm(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        if isinstance(value, os.PathLike) or (isinstance(value, str) and value and local_inputs([value])):
            return str(Path(value).resolve())
        return value

    return _normalised(norm(fields))


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _claim_marker(folder: Path, marker: OutputMarker) -> OutputMarker | None:
    """Create the marker only if there is none (link(2) fails on an existing name): None when created,
    else the marker found (a concurrent run claimed the folder first)."""
    tmp = folder / partial_name(MARKER_NAME)
    try:
        tmp.write_text(marker.to_text(), encoding="utf-8")
        try:
            os.link(tmp, folder / MARKER_NAME)
            return None
        except FileExistsError:
            return read_marker(folder) or OutputMarker(marker.kind, "unreadable marker")
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
        # A file system without hard links: O_EXCL still lets exactly one claim win.
        try:
            fd = os.open(folder / MARKER_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return read_marker(folder) or OutputMarker(marker.kind, "unreadable marker")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(marker.to_text())
        return None
    finally:
        tmp.unlink(missing_ok=True)


def _check_same_run(output: Path, found: OutputMarker, marker: OutputMarker) -> None:
    if found.kind != marker.kind:
        raise OutputRefusedError(f"{output} holds cyclebench output of kind {found.kind!r}, not an evaluation run; "
                                 "choose another --output")
    old = {"what": found.what, **{k: v for k, v in found.run.items() if k != "fingerprint"}}
    new = {"what": marker.what, **{k: v for k, v in marker.run.items() if k != "fingerprint"}}
    if old != new:
        raise OutputExistsError(f"{output} holds a different run (differs in: {', '.join(_differences(old, new))}); "
                                "pass --overwrite to replace it, or choose another --output")


@dataclass(frozen=True)
class RunFolder:
    """A claimed run folder; ``claimed_now`` when this call wrote its marker (``made_dir`` if it made the
    folder too), so a run that fails before writing anything can leave the place as it found it."""

    path: Path
    claimed_now: bool
    made_dir: bool

    def release_if_unused(self) -> None:
        """Undo this claim when the folder holds nothing but the marker (the run failed before any work)."""
        if not self.claimed_now:
            return
        try:
            if {p.name for p in self.path.iterdir()} == {MARKER_NAME}:
                (self.path / MARKER_NAME).unlink()
                if self.made_dir:
                    self.path.rmdir()
        except OSError:
            pass


def claim_run_folder(output: str | Path, marker: OutputMarker, *, overwrite: bool = False,
                     inputs: Iterable[Any] = ()) -> RunFolder:
    """Make ``output`` this run's folder: a new or empty folder is claimed, the same run's folder is resumed,
    a different run's folder is refused (replaced with ``overwrite``), a folder we did not write is refused."""
    output = Path(output)
    here = output.resolve()
    check_not_inputs(here, inputs)
    with write_errors(output, f"{output} was left as it was"):
        here.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(here.parent, here.name)
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            raise OutputRefusedError(f"{output} exists and is not a folder: choose another --output")
        if here.is_dir():
            clean_stale_inside(here)  # a claim killed before its marker leaves only scratch behind
        if here.is_dir() and not is_empty_dir(here):
            found = check_replaceable(here, marker.kind, shown=output)
            if not overwrite:
                _check_same_run(output, found, marker)
                return RunFolder(output, claimed_now=False, made_dir=False)
            shutil.rmtree(_move_aside(here, marker.kind), ignore_errors=True)
        made_dir = not here.exists()
        here.mkdir(exist_ok=True)
        try:
            found = _claim_marker(here, marker)
        except BaseException:
            if made_dir and is_empty_dir(here):
                here.rmdir()
            raise
        if found is not None:
            _check_same_run(output, found, marker)
            return RunFolder(output, claimed_now=False, made_dir=False)
    return RunFolder(output, claimed_now=True, made_dir=made_dir)


@contextmanager
def run_folder(output: str | Path, marker: OutputMarker, *, overwrite: bool = False,
               inputs: Iterable[Any] = ()) -> Iterator[Path]:
    """Claim ``output`` for a run (``claim_run_folder``) and run the block in it: a write failure becomes
    ``OutputWriteError``, and a run that fails before writing anything leaves no folder behind."""
    claimed = claim_run_folder(output, marker, overwrite=overwrite, inputs=inputs)
    try:
        with write_errors(claimed.path, f"files already in {claimed.path} are whole; run again to resume"):
            yield claimed.path
    except BaseException:
        claimed.release_if_unused()
        raise


def clean_stale_inside(folder: Path) -> None:
    """Remove stale scratch entries of a run folder's own files (``.results.json.<owner>.partial``, staged
    report files) left by a killed run."""
    try:
        targets = {scratch_target(p.name) for p in folder.iterdir()}
    except OSError:
        return
    for target in sorted(t for t in targets if t):
        clean_stale(folder, target)


def confirm_run_fingerprint(output: str | Path, fingerprint: str) -> None:
    """Record the model's fingerprint in the run's marker; refuse a folder made with another model behind
    the same arguments (a changed checkpoint at the same path)."""
    output = Path(output)
    found = read_marker(output)
    if found is None:
        return
    known = found.run.get("fingerprint")
    if known is not None and known != fingerprint:
        raise OutputExistsError(f"{output} holds a run of another model behind the same arguments (fingerprint "
                                f"{known!r}, now {fingerprint!r}); pass --overwrite to replace it, or choose another "
                                "--output")
    if known is None:
        with write_errors(output, f"files already in {output} are whole"):
            write_marker(output, OutputMarker(found.kind, found.what, {**found.run, "fingerprint": fingerprint}))


@contextmanager
def staged_files(folder: Path, *, last: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a scratch folder inside ``folder``; on success rename every file in it into ``folder`` (the
    names in ``last`` last: ``results.json`` is the mark of a finished run), on failure remove it, so a
    full disk never leaves half a report."""
    stage = _make_scratch(folder, "staged")
    try:
        yield stage
        names = sorted(p.name for p in stage.iterdir())
        for name in [n for n in names if n not in last] + [n for n in last if n in names]:
            os.replace(stage / name, folder / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def check_build_target(out: Path, overwrite: bool, inputs: Iterable[Any], caches: dict[str, Any] | None = None) -> None:
    """Before any work: ``out`` is kept apart from every path the command reads (a ``--config`` inside
    ``--out`` would be deleted by ``--overwrite``), and no cache folder the run writes may lie inside it."""
    check_target(Path(out), "dataset", overwrite=overwrite, inputs=[value for value in inputs if value is not None])
    for flag, path in (caches or {}).items():
        check_outside(Path(out), [path], flag)
