"""Publishing a built folder to the Hub and loading it back by tag, against an in-process fake Hub.

huggingface_hub and datasets read HF_ENDPOINT / HF_HUB_OFFLINE / HF_HUB_DISABLE_XET when imported and the
suite runs with HF_HUB_OFFLINE=1, so the client side of the round trip runs in a subprocess with its own
environment; the fake Hub runs in this process so the test can inspect the repo state directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cyclebench.hub.load import load_built_dataset
from cyclebench.hub.publish import publish_folder, validate_folder, validate_tag

try:
    from fake_hub import FakeHub
except ImportError:  # tests/ imported as a package
    from tests.fake_hub import FakeHub

REPO_ROOT = Path(__file__).resolve().parents[2]
REPO_ID = "cyclebench-test/review-demo"

README = """\
---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-00000-of-00001.parquet
  - split: test
    path: data/test-00000-of-00001.parquet
- config_name: reviews
  data_files:
  - split: train
    path: reviews/train-00000-of-00001.parquet
---

# Review demo

A tiny dataset used to test publishing.
"""

ROWS = {
    "data/train-00000-of-00001.parquet": [
        {"paper_id": "p1", "title": "Cycles in review", "rating": 6, "accepted": True},
        {"paper_id": "p2", "title": "On rebuttals", "rating": 3, "accepted": False},
        {"paper_id": "p3", "title": "Unicode: résumé ✓", "rating": 8, "accepted": True},
    ],
    "data/test-00000-of-00001.parquet": [
        {"paper_id": "p4", "title": "Held out", "rating": 5, "accepted": False},
    ],
    "reviews/train-00000-of-00001.parquet": [
        {"review_id": "r1", "paper_id": "p1", "text": "Solid.", "scores": [6, 4]},
        {"review_id": "r2", "paper_id": "p1", "text": "Needs ablations.", "scores": [5, 3]},
        {"review_id": "r3", "paper_id": "p2", "text": "Unclear.", "scores": [3]},
    ],
}


def write_folder(root: Path, rows: dict[str, list[dict]] = ROWS, readme: str | None = README) -> Path:
    """A built folder as publish expects one: card, shards, and a manifest with every shard's sha256."""
    from cyclebench.fileio import sha256_file

    root.mkdir(parents=True, exist_ok=True)
    if readme is not None:
        (root / "README.md").write_text(readme, encoding="utf-8")
    for rel, table_rows in rows.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(table_rows), root / rel)
    shards = {rel: {"sha256": sha256_file(root / rel)} for rel in sorted(rows)}
    (root / "manifest.json").write_text(json.dumps({"shards": shards}, indent=2) + "\n", encoding="utf-8")
    return root


# -- validation: no server, no network --------------------------------------------------------------


def test_missing_folder_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        publish_folder(tmp_path / "nope", REPO_ID, "v1.0.0")


def test_missing_readme_is_rejected(tmp_path):
    folder = write_folder(tmp_path / "ds", readme=None)
    with pytest.raises(ValueError, match="no README.md"):
        publish_folder(folder, REPO_ID, "v1.0.0")


def test_folder_without_parquet_is_rejected(tmp_path):
    folder = write_folder(tmp_path / "ds", rows={})
    (folder / "data").mkdir()
    (folder / "data" / "train.jsonl").write_text("{}\n")
    # a parquet file inside .git does not count: upload_folder would skip it
    (folder / ".git").mkdir()
    pq.write_table(pa.table({"a": [1]}), folder / ".git" / "x.parquet")
    with pytest.raises(ValueError, match=r"no \*\.parquet"):
        publish_folder(folder, REPO_ID, "v1.0.0")


@pytest.mark.parametrize("tag", ["1.0.0", "v1.0", "v1", "latest", "main", "v01.0.0", "v1.0.0.0", "V1.0.0", ""])
def test_bad_tag_is_rejected(tmp_path, tag):
    folder = write_folder(tmp_path / "ds")
    with pytest.raises(ValueError, match="not a semantic version"):
        publish_folder(folder, REPO_ID, tag)


@pytest.mark.parametrize("tag", ["v0.0.1", "v1.0.0", "v12.3.45", "v1.0.0-rc.1"])
def test_good_tags_pass(tag):
    validate_tag(tag)


def test_validate_folder_lists_files(tmp_path):
    folder = write_folder(tmp_path / "ds")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert validate_folder(folder) == sorted(["README.md", "manifest.json", *ROWS])


def test_importing_hub_modules_stays_cheap():
    code = (
        "import sys, cyclebench.hub.publish, cyclebench.hub.load\n"
        "heavy = [m for m in ('huggingface_hub', 'datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


# -- round trip against the fake Hub ---------------------------------------------------------------

# Runs in a fresh interpreter whose environment points huggingface_hub/datasets at the fake Hub.
CLIENT_SCRIPT = textwrap.dedent(
    """
    import ipaddress, json, socket, sys

    # Hard guard: this process may only talk to the fake Hub on loopback.
    _real_getaddrinfo = socket.getaddrinfo

    def _local_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ok = ipaddress.ip_address(name).is_loopback
        except ValueError:
            ok = name == "localhost"
        if not ok:
            raise OSError(f"test guard: network access to {name!r} is not allowed")
        return _real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = _local_only

    from unittest import mock

    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import GitRefs

    import datasets
    from cyclebench.hub.load import load_built_dataset
    from cyclebench.hub.publish import TagExistsError, publish_folder

    folder, folder_v2, repo_id, cache = sys.argv[1:5]
    out = {}

    result = publish_folder(folder, repo_id, "v1.0.0", commit_message="Release v1.0.0")
    out["result"] = {
        "repo_id": result.repo_id, "tag": result.tag, "commit_sha": result.commit_sha,
        "url": result.url, "files": result.files,
    }
    refs = HfApi().list_repo_refs(repo_id, repo_type="dataset")
    out["tags"] = {t.name: t.target_commit for t in refs.tags}

    # Same tag again, with different contents: refused before anything is uploaded.
    try:
        publish_folder(folder_v2, repo_id, "v1.0.0")
    except TagExistsError as err:
        out["second_error"] = str(err)

    # Same again, but the tag appears between the check and the tagging (simulated race):
    # the Hub answers 409 on create_tag, which must surface as the same clear error.
    no_tags = GitRefs(branches=[], converts=[], tags=[])
    with mock.patch.object(HfApi, "list_repo_refs", return_value=no_tags):
        try:
            publish_folder(folder_v2, repo_id, "v1.0.0")
        except TagExistsError as err:
            out["race_error"] = str(err)

    def rows(ds):
        return {split: ds[split].to_list() for split in ds}

    # main has moved on (the race upload above), but the tag still pins the first release.
    out["default"] = rows(datasets.load_dataset(repo_id, revision="v1.0.0", cache_dir=cache))
    out["reviews"] = rows(datasets.load_dataset(repo_id, "reviews", revision="v1.0.0", cache_dir=cache))
    out["wrapper_reviews_train"] = load_built_dataset(
        repo_id, "reviews", split="train", revision="v1.0.0", cache_dir=cache
    ).to_list()
    out["local_default"] = rows(load_built_dataset(folder, cache_dir=cache))
    print("RESULT " + json.dumps(out))
    """
)


def _client_env(hub: FakeHub, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))
        and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HUB_OFFLINE="0",
        HF_DATASETS_OFFLINE="0",
        HF_HUB_DISABLE_XET="1",
        HF_TOKEN="fake",
        HF_HOME=str(tmp_path / "hf_home"),
        HF_HUB_CACHE=str(tmp_path / "hf_home" / "hub"),
        HF_DATASETS_CACHE=str(tmp_path / "datasets_cache"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_DATASETS_DISABLE_PROGRESS_BARS="1",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join(p for p in [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")] if p),
    )
    return env


@pytest.fixture
def fake_hub():
    with FakeHub() as hub:
        yield hub


def test_publish_and_load_round_trip(tmp_path, fake_hub):
    folder = write_folder(tmp_path / "built")
    v2_rows = {**ROWS, "data/train-00000-of-00001.parquet": ROWS["data/train-00000-of-00001.parquet"][:1]}
    folder_v2 = write_folder(tmp_path / "built_v2", rows=v2_rows)
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT, encoding="utf-8")

    proc = subprocess.run(
        [sys.executable, str(script), str(folder), str(folder_v2), REPO_ID, str(tmp_path / "load_cache")],
        env=_client_env(fake_hub, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"client failed:\n{proc.stdout}\n{proc.stderr}"
    assert fake_hub.unknown_requests == [], fake_hub.unknown_requests
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])

    repo = fake_hub.repo(REPO_ID)
    tagged = repo.tags["v1.0.0"]
    result = out["result"]
    assert result["repo_id"] == REPO_ID and result["tag"] == "v1.0.0"
    assert result["commit_sha"] == tagged == out["tags"]["v1.0.0"]
    assert result["url"] == f"{fake_hub.url}/datasets/{REPO_ID}/tree/v1.0.0"
    assert result["files"] == sorted(["README.md", "manifest.json", *ROWS])
    assert repo.commits[tagged].title == "Release v1.0.0"
    assert set(repo.commits[tagged].files) == {".gitattributes", "README.md", "manifest.json", *ROWS}
    assert repo.commits[tagged].files["README.md"] == README.encode()

    # The pre-check refused without uploading; the simulated race uploaded but could not tag.
    assert "already exists" in out["second_error"] and "v1.0.0" in out["second_error"]
    assert "NOT tagged" in out["race_error"]
    race_commit = repo.branches["main"]
    assert race_commit != tagged and repo.commits[race_commit].parent == tagged
    assert repo.tags == {"v1.0.0": tagged}

    expected_default = {
        "train": ROWS["data/train-00000-of-00001.parquet"],
        "test": ROWS["data/test-00000-of-00001.parquet"],
    }
    expected_reviews = {"train": ROWS["reviews/train-00000-of-00001.parquet"]}
    assert out["default"] == expected_default
    assert out["reviews"] == expected_reviews
    assert out["wrapper_reviews_train"] == expected_reviews["train"]
    assert out["local_default"] == expected_default


# Reads that the round trip above does not happen to make (datasets only lists folders and resolves
# files there), so the fake stays honest for other client code paths: recursive trees, paths-info,
# ranged reads, snapshots.
READER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download

    repo_id, local_dir = sys.argv[1:3]
    api = HfApi()
    out = {}
    out["tree"] = sorted(
        (e.path, type(e).__name__)
        for e in api.list_repo_tree(repo_id, repo_type="dataset", revision="v1.0.0", recursive=True, expand=True)
    )
    out["paths_info"] = sorted(
        (e.path, type(e).__name__)
        for e in api.get_paths_info(repo_id, ["README.md", "data", "missing.txt"], repo_type="dataset", revision="v1.0.0")
    )
    fs = HfFileSystem()
    root = f"datasets/{repo_id}@v1.0.0"
    out["glob"] = sorted(p[len(root) + 1 :] for p in fs.glob(f"{root}/**/*.txt"))
    out["size"] = fs.info(f"{root}/data/a.txt")["size"]
    with fs.open(f"{root}/data/a.txt", "rb", block_size=4) as f:
        f.seek(6)
        out["ranged"] = f.read(5).decode()
    out["download"] = open(
        hf_hub_download(repo_id, "data/sub/b.txt", repo_type="dataset", revision="main")
    ).read()
    snapshot_download(repo_id, repo_type="dataset", revision="v1.0.0", local_dir=local_dir)
    out["revision_sha"] = api.dataset_info(repo_id, revision="v1.0.0").sha
    print("RESULT " + json.dumps(out))
    """
)


def test_fake_hub_serves_other_read_paths(tmp_path, fake_hub):
    repo = fake_hub.create_repo(REPO_ID)
    files = {"README.md": b"# hi\n", "data/a.txt": b"hello world\n", "data/sub/b.txt": b"bee\n"}
    commit = fake_hub.add_commit(repo, "main", "add files", "", {**repo.commits[repo.branches["main"]].files, **files})
    repo.tags["v1.0.0"] = commit.sha
    script = tmp_path / "reader.py"
    script.write_text(READER_SCRIPT, encoding="utf-8")
    snapshot = tmp_path / "snapshot"

    proc = subprocess.run(
        [sys.executable, str(script), REPO_ID, str(snapshot)],
        env=_client_env(fake_hub, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"client failed:\n{proc.stdout}\n{proc.stderr}"
    assert fake_hub.unknown_requests == [], fake_hub.unknown_requests
    out = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[len("RESULT ") :])
    assert out["tree"] == [
        [".gitattributes", "RepoFile"],
        ["README.md", "RepoFile"],
        ["data", "RepoFolder"],
        ["data/a.txt", "RepoFile"],
        ["data/sub", "RepoFolder"],
        ["data/sub/b.txt", "RepoFile"],
    ]
    assert out["paths_info"] == [["README.md", "RepoFile"], ["data", "RepoFolder"]]
    assert out["glob"] == ["data/a.txt", "data/sub/b.txt"]
    assert out["size"] == len(files["data/a.txt"])
    assert out["ranged"] == "world"
    assert out["download"] == "bee\n"
    assert out["revision_sha"] == commit.sha
    for rel, data in files.items():
        assert (snapshot / rel).read_bytes() == data


def test_load_built_dataset_rejects_revision_for_local_folder(tmp_path):
    folder = write_folder(tmp_path / "ds")
    with pytest.raises(ValueError, match="only apply to Hub repos"):
        load_built_dataset(folder, revision="v1.0.0")


def test_publish_cli_on_a_real_build(tmp_path, fake_hub):
    """`cyclebench build review-5k --sample` then `cyclebench publish`, loaded back by tag, as a user would."""
    out = tmp_path / "review5k"
    code = textwrap.dedent(
        f"""
        import json
        from cyclebench.cli import main
        assert main(["build", "review-5k", "--sample", "--out", {str(out)!r}]) == 0
        assert main(["publish", {str(out)!r}, "--repo", "cyclebench/Review-5K-sample", "--tag", "v1.0.0"]) == 0
        from datasets import load_dataset
        remote = load_dataset("cyclebench/Review-5K-sample", "reviews", revision="v1.0.0", split="train")
        local = load_dataset({str(out)!r}, "reviews", split="train")
        assert remote.to_list() == local.to_list(), "remote rows differ"
        sft = load_dataset("cyclebench/Review-5K-sample", "sft", revision="v1.0.0", split="test")
        print(json.dumps({{"reviews": remote.num_rows, "sft_test": sft.num_rows}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_client_env(fake_hub, tmp_path), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counts["reviews"] > 0 and counts["sft_test"] > 0
    assert not fake_hub.unknown_requests
