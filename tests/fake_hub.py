"""An in-process fake of the few Hugging Face Hub endpoints that publishing and loading a dataset use.

Tests must never reach the real Hub, yet the publish code path is only worth testing against the real
client libraries (``huggingface_hub`` uploads, ``datasets.load_dataset`` downloads). This server speaks
just enough of the Hub's HTTP API for that round trip: repo creation, regular (non-LFS, non-Xet) commits
with inline base64 contents, tags and refs, repo info by revision, tree listings, paths-info and
``resolve`` downloads. Repos live in memory; every commit is a full snapshot of the files.

Anything it does not know is logged with method and path, recorded in ``FakeHub.unknown_requests`` and
answered 404 without a Hub error code, so a missing endpoint shows up as an obvious failure.

Clients must run with ``HF_HUB_DISABLE_XET=1`` (the server has no Xet/LFS storage) and point
``HF_ENDPOINT`` at ``FakeHub.url``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

logger = logging.getLogger(__name__)

_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"

_API_RE = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+?)(?:/(.*))?$")
_RESOLVE_RE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def git_blob_sha(data: bytes) -> str:
    """The git blob id of ``data``: the oid the Hub reports for regular (non-LFS) files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in {"1", "true", "yes", "on"}


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    message: str
    date: datetime
    files: dict[str, bytes]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: datetime
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        """Branch, tag, ``refs/heads/x``, ``refs/tags/x``, full sha or a unique sha prefix (>= 7 chars)."""
        rev = revision
        for prefix, table in (("refs/heads/", self.branches), ("refs/tags/", self.tags)):
            if rev.startswith(prefix):
                sha = table.get(rev[len(prefix) :])
                return self.commits.get(sha) if sha else None
        sha = self.branches.get(rev) or self.tags.get(rev)
        if sha is not None:
            return self.commits[sha]
        if rev in self.commits:
            return self.commits[rev]
        if len(rev) >= 7 and re.fullmatch(r"[0-9a-f]+", rev):
            matches = [c for s, c in self.commits.items() if s.startswith(rev)]
            if len(matches) == 1:
                return matches[0]
        return None

    def history(self, commit: Commit) -> list[Commit]:
        out = []
        current: Commit | None = commit
        while current is not None:
            out.append(current)
            current = self.commits.get(current.parent) if current.parent else None
        return out

    def last_commit_touching(self, commit: Commit, path: str) -> Commit:
        """The oldest ancestor since which ``path`` (file or folder) has had its current content."""

        def snapshot(c: Commit) -> dict[str, bytes]:
            return {p: d for p, d in c.files.items() if p == path or p.startswith(path + "/")}

        current_state = snapshot(commit)
        last = commit
        for ancestor in self.history(commit)[1:]:
            if snapshot(ancestor) != current_state:
                break
            last = ancestor
        return last


class FakeHub:
    """In-memory Hub served over HTTP on 127.0.0.1 from a daemon thread.

    Use as a context manager (``with FakeHub() as hub: ... hub.url``) or call ``start()``/``stop()``.
    """

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        self.unknown_requests: list[tuple[str, str]] = []
        self._counter = itertools.count()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeHub is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state helpers (also handy for assertions in tests) --------------------------------------------

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def create_repo(self, repo_id: str, repo_type: str = "dataset", private: bool = False) -> Repo:
        """Create a repo the way the Hub does: one initial commit holding ``.gitattributes``."""
        with self.lock:
            now = datetime.now(timezone.utc)
            repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=now)
            self.repos[(repo_type, repo_id)] = repo
            self.add_commit(repo, "main", "initial commit", "", {".gitattributes": _GITATTRIBUTES})
            return repo

    def add_commit(self, repo: Repo, branch: str, title: str, message: str, files: dict[str, bytes]) -> Commit:
        with self.lock:
            parent = repo.branches.get(branch)
            seed = f"{repo.repo_id}\0{parent}\0{title}\0{next(self._counter)}\0"
            seed += "\0".join(f"{p}:{git_blob_sha(d)}" for p, d in sorted(files.items()))
            sha = hashlib.sha1(seed.encode()).hexdigest()
            commit = Commit(sha, parent, title, message, datetime.now(timezone.utc), dict(files))
            repo.commits[sha] = commit
            repo.branches[branch] = sha
            return commit

    def repo_url(self, repo: Repo) -> str:
        return f"{self.url}/{_URL_PREFIX[repo.repo_type]}{repo.repo_id}"


class _HubError(Exception):
    def __init__(self, status: int, message: str, error_code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.headers = headers or {}


class _Handler(BaseHTTPRequestHandler):
    fake_hub: FakeHub
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/0.1"

    # -- plumbing --------------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("fake hub: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json; charset=utf-8", length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _dispatch(self, method: str) -> None:
        hub = self.fake_hub
        split = urlsplit(self.path)
        self.query = parse_qs(split.query, keep_blank_values=True)
        self.body = self._read_body()
        with hub.lock:
            hub.requests.append((method, self.path))
        try:
            handled = self._route(method, split.path)
            if not handled:
                with hub.lock:
                    hub.unknown_requests.append((method, self.path))
                logger.warning("fake hub: unknown request %s %s", method, self.path)
                self._json({"error": f"fake hub: unknown endpoint {method} {split.path}"}, status=404)
        except _HubError as err:
            headers = dict(err.headers)
            if err.error_code:
                headers["X-Error-Code"] = err.error_code
            headers["X-Error-Message"] = err.message
            self._json({"error": err.message}, status=err.status, headers=headers)
        except Exception as exc:  # a bug in the fake: make it loud, on both sides
            logger.exception("fake hub: error while handling %s %s", method, self.path)
            self._json({"error": f"fake hub internal error: {exc!r}"}, status=500)

    # -- routing ---------------------------------------------------------------------------------------

    def _route(self, method: str, path: str) -> bool:
        if path == "/api/repos/create" and method == "POST":
            self._create_repo()
            return True
        if path == "/api/validate-yaml" and method == "POST":
            self._json({"errors": [], "warnings": []})
            return True

        m = _RESOLVE_RE.match(path)
        if m and method in ("GET", "HEAD"):
            repo_type = {"datasets": "dataset", "spaces": "space", None: "model"}[m.group(1)]
            repo = self._get_repo(repo_type, m.group(2))
            self._resolve(repo, unquote(m.group(3)), unquote(m.group(4)))
            return True

        m = _API_RE.match(path)
        if not m:
            return False
        repo_type = _REPO_TYPES[m.group(1)]
        repo_id = m.group(2)
        rest = m.group(3) or ""
        action, _, tail = rest.partition("/")
        rev_raw, _, sub_raw = tail.partition("/")
        revision = unquote(rev_raw)
        subpath = unquote(sub_raw).strip("/")

        if method == "GET" and rest == "":
            self._repo_info(self._get_repo(repo_type, repo_id), "main")
        elif method == "GET" and action == "revision" and tail:
            self._repo_info(self._get_repo(repo_type, repo_id), unquote(tail))
        elif method == "GET" and action == "tree" and revision:
            self._tree(self._get_repo(repo_type, repo_id), revision, subpath)
        elif method == "POST" and action == "paths-info" and revision:
            self._paths_info(self._get_repo(repo_type, repo_id), revision)
        elif method == "GET" and action == "refs" and not tail:
            self._refs(self._get_repo(repo_type, repo_id))
        elif method == "GET" and action == "commits" and revision:
            self._commits(self._get_repo(repo_type, repo_id), revision)
        elif method == "POST" and action == "preupload" and revision:
            self._preupload(self._get_repo(repo_type, repo_id, write=True), revision)
        elif method == "POST" and action == "commit" and revision:
            self._commit(self._get_repo(repo_type, repo_id, write=True), revision)
        elif method == "POST" and action == "tag" and revision:
            self._create_tag(self._get_repo(repo_type, repo_id, write=True), revision)
        else:
            return False
        return True

    # -- helpers ---------------------------------------------------------------------------------------

    def _authorized(self) -> bool:
        return self.headers.get("Authorization", "").startswith("Bearer ")

    def _get_repo(self, repo_type: str, repo_id: str, write: bool = False) -> Repo:
        if write and not self._authorized():
            raise _HubError(401, "Invalid credentials in Authorization header")
        repo = self.fake_hub.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not self._authorized()):
            raise _HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _commit_or_404(self, repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise _HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    def _form_or_json(self) -> dict[str, list[str]]:
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            data = json.loads(self.body or b"{}")
            return {k: v if isinstance(v, list) else [v] for k, v in data.items()}
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def _entry(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any] | None:
        """A tree / paths-info entry for ``path`` in ``commit``, or None when it does not exist."""
        if path in commit.files:
            data = commit.files[path]
            entry: dict[str, Any] = {"type": "file", "oid": git_blob_sha(data), "size": len(data), "path": path}
        elif path == "" or any(p.startswith(path + "/") for p in commit.files):
            inner = sorted((p, git_blob_sha(d)) for p, d in commit.files.items() if p.startswith(path + "/"))
            oid = hashlib.sha1(json.dumps(inner).encode()).hexdigest()
            entry = {"type": "directory", "oid": oid, "size": 0, "path": path}
        else:
            return None
        if expand:
            last = repo.last_commit_touching(commit, path)
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": _iso(last.date)}
        return entry

    # -- endpoints -------------------------------------------------------------------------------------

    def _create_repo(self) -> None:
        if not self._authorized():
            raise _HubError(401, "Invalid credentials in Authorization header")
        payload = json.loads(self.body or b"{}")
        repo_type = payload.get("type") or "model"
        name = payload["name"]
        org = payload.get("organization")
        repo_id = f"{org}/{name}" if org else f"fake-user/{name}"
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        hub = self.fake_hub
        with hub.lock:
            existing = hub.repos.get((repo_type, repo_id))
            if existing is not None:
                self._json(
                    {"error": f"You already created this {repo_type} repo", "url": hub.repo_url(existing)},
                    status=409,
                )
                return
            repo = hub.create_repo(repo_id, repo_type, private)
        self._json({"url": hub.repo_url(repo), "name": repo_id, "id": repo_id})

    def _repo_info(self, repo: Repo, revision: str) -> None:
        commit = self._commit_or_404(repo, revision)
        with_blobs = _truthy((self.query.get("blobs") or [None])[0])
        siblings = []
        for path in sorted(commit.files):
            sibling: dict[str, Any] = {"rfilename": path}
            if with_blobs:
                sibling["size"] = len(commit.files[path])
                sibling["blobId"] = git_blob_sha(commit.files[path])
            siblings.append(sibling)
        self._json(
            {
                "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "sha": commit.sha,
                "lastModified": _iso(commit.date),
                "createdAt": _iso(repo.created_at),
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
            }
        )

    def _tree(self, repo: Repo, revision: str, subpath: str) -> None:
        commit = self._commit_or_404(repo, revision)
        recursive = _truthy((self.query.get("recursive") or [None])[0])
        expand = _truthy((self.query.get("expand") or [None])[0])
        if subpath and (subpath in commit.files or self._entry(repo, commit, subpath, False) is None):
            raise _HubError(404, f"Entry not found: {subpath}", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        prefix = subpath + "/" if subpath else ""
        paths: set[str] = set()
        for file_path in commit.files:
            if not file_path.startswith(prefix):
                continue
            parts = file_path[len(prefix) :].split("/")
            if recursive:
                # every folder on the way down, then the file itself
                paths.update(prefix + "/".join(parts[: i + 1]) for i in range(len(parts)))
            else:
                paths.add(prefix + parts[0])
        entries = [self._entry(repo, commit, p, expand) for p in sorted(paths)]
        # The real Hub lists folders before files at each level; clients do not rely on it.
        entries.sort(key=lambda e: (e["type"] != "directory", e["path"]))
        self._json(entries)

    def _paths_info(self, repo: Repo, revision: str) -> None:
        commit = self._commit_or_404(repo, revision)
        form = self._form_or_json()
        expand = _truthy(str((form.get("expand") or ["false"])[0]))
        out = []
        for path in form.get("paths", []):
            entry = self._entry(repo, commit, str(path).strip("/"), expand)
            if entry is not None:
                out.append(entry)
        self._json(out)

    def _refs(self, repo: Repo) -> None:
        def refs(table: dict[str, str], kind: str) -> list[dict[str, str]]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": s} for n, s in sorted(table.items())]

        payload: dict[str, Any] = {
            "branches": refs(repo.branches, "heads"),
            "tags": refs(repo.tags, "tags"),
            "converts": [],
        }
        if _truthy((self.query.get("include_prs") or [None])[0]):
            payload["pullRequests"] = []
        self._json(payload)

    def _commits(self, repo: Repo, revision: str) -> None:
        commit = self._commit_or_404(repo, revision)
        self._json(
            [
                {
                    "id": c.sha,
                    "authors": [{"user": "fake-user"}],
                    "date": _iso(c.date),
                    "title": c.title,
                    "message": c.message,
                }
                for c in repo.history(commit)
            ]
        )

    def _preupload(self, repo: Repo, revision: str) -> None:
        if "create_pr" in self.query:
            raise _HubError(400, "fake hub: pull requests are not supported")
        commit = self._commit_or_404(repo, revision)
        payload = json.loads(self.body or b"{}")
        files = []
        for item in payload.get("files", []):
            info: dict[str, Any] = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if item["path"] in commit.files:
                info["oid"] = git_blob_sha(commit.files[item["path"]])
            files.append(info)
        self._json({"files": files, "commitOid": commit.sha})

    def _commit(self, repo: Repo, revision: str) -> None:
        if "create_pr" in self.query:
            raise _HubError(400, "fake hub: pull requests are not supported")
        if revision not in repo.branches:
            raise _HubError(404, f"Invalid rev id: {revision} (commits go to a branch)", "RevisionNotFound")
        hub = self.fake_hub
        with hub.lock:
            head = repo.commits[repo.branches[revision]]
            files = dict(head.files)
            header: dict[str, Any] = {}
            for line in self.body.splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                key, value = item["key"], item["value"]
                if key == "header":
                    header = value
                elif key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise _HubError(400, f"fake hub: unsupported encoding {value.get('encoding')!r}")
                    files[value["path"]] = base64.b64decode(value["content"])
                elif key == "deletedFile":
                    if value["path"] not in files:
                        raise _HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                    del files[value["path"]]
                elif key == "deletedFolder":
                    folder = value["path"].rstrip("/") + "/"
                    files = {p: d for p, d in files.items() if not p.startswith(folder)}
                else:  # lfsFile and anything newer: the fake has no LFS/Xet storage
                    raise _HubError(400, f"fake hub: unsupported commit operation {key!r} (set HF_HUB_DISABLE_XET=1)")
            parent = header.get("parentCommit")
            if parent is not None and parent != head.sha:
                raise _HubError(412, "A commit has happened since. Please refresh and try again.")
            commit = hub.add_commit(
                repo, revision, header.get("summary") or "Update", header.get("description") or "", files
            )
        commit_url = f"{hub.repo_url(repo)}/commit/{commit.sha}"
        self._json({"success": True, "commitOid": commit.sha, "commitUrl": commit_url, "hookOutput": ""})

    def _create_tag(self, repo: Repo, revision: str) -> None:
        payload = json.loads(self.body or b"{}")
        tag = payload.get("tag")
        if not tag:
            raise _HubError(400, "tag is required")
        with self.fake_hub.lock:
            commit = self._commit_or_404(repo, revision)
            if tag in repo.tags:
                raise _HubError(409, f"Tag reference refs/tags/{tag} already exists")
            repo.tags[tag] = commit.sha
        self._json({"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": commit.sha})

    def _resolve(self, repo: Repo, revision: str, path: str) -> None:
        commit = self._commit_or_404(repo, revision)
        if path not in commit.files:
            raise _HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        data = commit.files[path]
        headers = {
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{git_blob_sha(data)}"',
            "Accept-Ranges": "bytes",
            "Content-Disposition": f'inline; filename="{path.rsplit("/", 1)[-1]}"',
            "Cache-Control": "private, max-age=0",
        }
        status, body = 200, data
        range_header = self.headers.get("Range")
        if range_header:
            m = _RANGE_RE.match(range_header.strip())
            if m is None or (not m.group(1) and not m.group(2)):
                raise _HubError(416, f"fake hub: unsupported Range {range_header!r}")
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), len(data) - 1) if m.group(2) else len(data) - 1
            else:  # suffix range: the last N bytes
                start, end = max(len(data) - int(m.group(2)), 0), len(data) - 1
            if start >= len(data) or start > end:
                raise _HubError(416, "Range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
            status, body = 206, data[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        self._send(status, body, headers, content_type="application/octet-stream")
