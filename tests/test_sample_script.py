"""``scripts/make_sample.py --check``: the committed embedded sample is exactly what the script writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_sample.py"
SAMPLE = REPO / "cyclebench" / "samples" / "iclr_sample"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--check", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_committed_sample_is_what_the_script_writes():
    done = check()
    assert done.returncode == 0, done.stderr


def test_check_names_a_changed_and_an_extra_file(tmp_path):
    copy = tmp_path / "iclr_sample"
    shutil.copytree(SAMPLE, copy)
    paper = sorted((copy / "papers").glob("*.md"))[0]
    paper.write_bytes(paper.read_bytes() + b"\n")
    (copy / "papers" / "stray.md").write_text("not written by the script\n", encoding="utf-8")
    done = check("--out", str(copy))
    assert done.returncode == 1
    assert f"differs or missing: papers/{paper.name}" in done.stderr
    assert "not written by this script: papers/stray.md" in done.stderr
