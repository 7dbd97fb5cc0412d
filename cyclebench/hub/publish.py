"""Publish a built dataset folder to the Hugging Face Hub as one tagged, immutable version.

A release is a commit on ``main`` plus a ``vX.Y.Z`` tag pointing at exactly that commit, so anyone can load
the same bytes later with ``load_dataset(repo_id, revision=tag)`` even after ``main`` moves on. Tags are
never moved or overwritten: a version number names one set of rows for good.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cyclebench.outputs import MARKER_NAME as OUTPUT_MARKER

__all__ = ["HubUnreachableError", "PublishResult", "TagExistsError", "publish_folder", "validate_folder", "validate_tag"]

# Semantic version with a leading "v"; an optional pre-release suffix (v1.0.0-rc.1) allows dry runs.
_TAG_RE = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?$"
)


class TagExistsError(RuntimeError):
    """The tag is already on the Hub repo; published versions are immutable, so pick a new version."""


class HubUnreachableError(ConnectionError):
    """The Hub could not be reached (no network, offline mode, refused, timed out); the message says how far
    the publish got."""


# Transport failures of the HTTP stacks huggingface_hub has used (requests, httpx, httpx2), by class name so
# that none of them has to be imported: they are not all OSErrors.
_TRANSPORT_ERRORS = {"ConnectionError", "TransportError", "NetworkError", "ConnectError", "TimeoutException",
                     "Timeout", "ConnectTimeout", "ProxyError"}


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    return any(cls.__name__ in _TRANSPORT_ERRORS for cls in type(exc).__mro__)


@contextmanager
def _reaching_hub(failed_to: str, endpoint: str | None) -> Iterator[None]:
    """Turn a transport failure into one ``HubUnreachableError`` line; HTTP answers (401, 404 ...) pass."""
    try:
        yield
    except Exception as exc:
        if not _unreachable(exc):
            raise
        where = endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        offline_mode = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "TRUE", "ON", "YES")
        offline = " (HF_HUB_OFFLINE is set)" if offline_mode else ""
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise HubUnreachableError(
            f"could not reach the Hugging Face Hub at {where}{offline}: {reason}; could not {failed_to}") from exc


@dataclass(frozen=True)
class PublishResult:
    """What was published: the tag, the commit it points at, where to browse it, and the file paths."""

    repo_id: str
    tag: str
    commit_sha: str
    url: str
    files: list[str]


def validate_tag(tag: str) -> None:
    """Refuse tags that are not ``vX.Y.Z``: loaders pin versions by tag, so the name must say which one."""
    if not isinstance(tag, str) or not _TAG_RE.match(tag):
        raise ValueError(
            f"tag {tag!r} is not a semantic version: expected 'vMAJOR.MINOR.PATCH' such as 'v1.0.0' "
            "(optionally with a pre-release suffix like 'v1.0.0-rc.1')"
        )


# Files of a build besides its shards (cyclebench.hub.writer, cyclebench.builders.decontaminate): only these, the
# shards the manifest lists and the ignored entries below may be in a folder that is published.
BUILD_FILES = ("README.md", "manifest.json", "rejects.jsonl", "decontamination.json")
_LISTED = 8  # names shown in an error before "and N more"


def _is_ignored(rel: Path) -> bool:
    # Same exclusions as huggingface_hub's upload_folder (DEFAULT_IGNORE_PATTERNS): .git and the HF cache;
    # plus cyclebench's output marker (local bookkeeping, see cyclebench.outputs), never published.
    if rel.as_posix() == OUTPUT_MARKER:
        return True
    parts = rel.parts
    if ".git" in parts:
        return True
    return any(parts[i : i + 2] == (".cache", "huggingface") for i in range(len(parts) - 1))


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    return shown + (f" and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def _walk(root: Path) -> tuple[list[str], list[str]]:
    """(regular files, links and other non-files) under ``root`` as sorted relative paths, ignored ones left
    out; a link to a folder is not entered."""
    import stat

    files: list[str] = []
    odd: list[str] = []
    for here, dirs, names in os.walk(root):
        base = Path(here).relative_to(root)
        for name in list(dirs):
            rel = base / name
            if _is_ignored(rel):
                dirs.remove(name)
            elif (root / rel).is_symlink():
                odd.append(rel.as_posix())
        for name in names:
            rel = base / name
            if _is_ignored(rel):
                continue
            mode = (root / rel).lstat().st_mode
            (files if stat.S_ISREG(mode) else odd).append(rel.as_posix())
    return sorted(files), sorted(odd)


def _read_manifest_shards(root: Path) -> dict[str, str]:
    """``{relative shard path: sha256}`` from the build's manifest.json; one ``ValueError`` when unusable."""
    import json

    path = root / "manifest.json"
    if not path.is_file() or path.is_symlink():
        raise ValueError(f"dataset folder {str(root)!r} has no manifest.json: only a folder written by `cyclebench "
                         "build` is published, so every shard can be checked against its sha256")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not a JSON manifest: {' '.join(str(exc).split())[:120]}") from None
    shards = manifest.get("shards") if isinstance(manifest, dict) else None
    if not isinstance(shards, dict) or not all(isinstance(i, dict) and isinstance(i.get("sha256"), str)
                                               for i in shards.values()):
        raise ValueError(f"{path}: 'shards' must map each shard's path to its sha256")
    return {str(rel): info["sha256"] for rel, info in shards.items()}


def _check_shards(root: Path, files: list[str], shards: dict[str, str]) -> None:
    """Every shard the manifest lists is present with its sha256 (a corrupt or replaced shard is refused)."""
    from cyclebench.fileio import sha256_file

    present = set(files)
    missing = sorted(rel for rel in shards if rel not in present)
    if missing:
        raise ValueError(f"dataset folder {str(root)!r} lacks shards its manifest lists: {_names(missing)}")
    changed = sorted(rel for rel, digest in shards.items() if sha256_file(root / rel) != digest)
    if changed:
        raise ValueError(f"dataset folder {str(root)!r}: shards differ from the sha256 in manifest.json (corrupt or "
                         f"changed since the build): {_names(changed)}; rebuild the dataset")


def _check_card(root: Path, shards: dict[str, str]) -> None:
    """The card's data_files stay inside the folder and match only shards the manifest lists."""
    from cyclebench.hub.load import card_configs, config_files

    for entry in card_configs(root) or []:
        for split, paths in config_files(root, entry).items():
            unknown = sorted(p.relative_to(root).as_posix() for p in paths
                             if p.relative_to(root).as_posix() not in shards)
            if unknown:
                raise ValueError(f"{root / 'README.md'}: config {entry.name!r} split {split!r} matches files the "
                                 f"manifest does not list: {_names(unknown)}")


def validate_folder(folder: str | Path) -> list[str]:
    """Check the folder is a build fit to publish and return its files, sorted: README.md and parquet, no
    link or special file, nothing but the manifest's shards and the build's own files (a stray file would
    be uploaded, a link would upload its target), every shard matching its sha256, the card naming only
    those shards.

    Runs before any network call so a half-built or altered folder never becomes a public commit.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"dataset folder {str(root)!r} does not exist or is not a directory")
    if not (root / "README.md").is_file():
        raise ValueError(
            f"dataset folder {str(root)!r} has no README.md: the dataset card (with its 'configs:' YAML) "
            "is what tells `datasets` how to load the parquet files"
        )
    files, odd = _walk(root)
    if odd:
        raise ValueError(f"dataset folder {str(root)!r} holds links or special files, which are never published: "
                         f"{_names(odd)}; replace them by the files themselves or move them away")
    if not any(f.endswith(".parquet") for f in files):
        raise ValueError(f"dataset folder {str(root)!r} contains no *.parquet file: nothing to publish")
    shards = _read_manifest_shards(root)
    unknown = [f for f in files if f not in shards and f not in BUILD_FILES]
    if unknown:
        raise ValueError(f"dataset folder {str(root)!r} holds files that are not part of the build (not in "
                         f"manifest.json's shards, not {', '.join(BUILD_FILES)}): {_names(unknown)}; move them away")
    _check_shards(root, files, shards)
    _check_card(root, shards)
    return files


def publish_folder(
    folder: str | Path,
    repo_id: str,
    tag: str,
    *,
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
    endpoint: str | None = None,
) -> PublishResult:
    """Upload ``folder`` to the dataset repo ``repo_id`` (created if missing) and tag the commit ``tag``.

    The tag is checked before uploading so an already-published version does not get a stray commit on
    ``main``; a tag created concurrently in between is still caught when tagging. Raises ``ValueError`` for
    a bad folder or tag (before any network call) and ``TagExistsError`` if the tag already exists.
    ``endpoint`` defaults to ``HF_ENDPOINT`` / huggingface.co; ``token`` to ``HF_TOKEN`` / the saved login.
    """
    validate_tag(tag)
    files = validate_folder(folder)

    # Imported here: huggingface_hub pulls in an HTTP stack, and most of cyclebench never publishes.
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=endpoint, token=token)
    with _reaching_hub("create the repo; nothing was published", endpoint):
        repo_url = api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)

    with _reaching_hub("list the repo's tags; nothing was published", endpoint):
        existing = {ref.name: ref.target_commit for ref in api.list_repo_refs(repo_id, repo_type="dataset").tags}
    if tag in existing:
        raise TagExistsError(
            f"tag {tag!r} already exists on dataset {repo_id!r} (commit {existing[tag]}); published "
            "versions are immutable, so bump the version instead of overwriting it"
        )

    # Exactly the checked files, by name: nothing that appears in the folder meanwhile rides along.
    from huggingface_hub import CommitOperationAdd

    operations = [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(Path(folder) / rel)) for rel in files]
    with _reaching_hub("upload the folder; nothing was committed", endpoint):
        commit = api.create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=operations,
            commit_message=commit_message or f"Publish {tag}",
        )
    commit_sha = commit.oid

    try:
        with _reaching_hub(f"tag the upload: commit {commit_sha} is on main but NOT tagged; publish again", endpoint):
            api.create_tag(repo_id, tag=tag, revision=commit_sha, repo_type="dataset")
    except HfHubHTTPError as err:
        if err.response is not None and err.response.status_code == 409:
            raise TagExistsError(
                f"tag {tag!r} was created on dataset {repo_id!r} while this upload ran; the upload is "
                f"commit {commit_sha} on main but is NOT tagged. Published versions are immutable: "
                "bump the version and publish again"
            ) from err
        raise

    return PublishResult(
        repo_id=repo_id,
        tag=tag,
        commit_sha=commit_sha,
        url=f"{str(repo_url).rstrip('/')}/tree/{tag}",
        files=files,
    )
