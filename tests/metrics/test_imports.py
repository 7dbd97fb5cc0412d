"""The metrics import no backend, no torch, no transformers: they are pure functions over arrays and records."""

from __future__ import annotations

import subprocess
import sys


def test_metrics_import_no_backend():
    code = ("import sys, cyclebench.metrics; "
            "bad = sorted(m for m in sys.modules if m.startswith(('cyclebench.backends', 'torch', 'transformers'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
