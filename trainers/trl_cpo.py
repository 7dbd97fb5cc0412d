"""trl's experimental CPO trainer and config: the project's only import of ``trl.experimental``.

trl 1.x ships SimPO as ``trl.experimental.cpo.CPOTrainer`` with ``CPOConfig(loss_type="simpo")`` and moves or
removes experimental trainers without notice, so the import is made here once (trl is pinned in pyproject, the
loss is under test in :mod:`cyclebench.trainers.simpo`). The recipe dataclasses (:mod:`cyclebench.trainers.configs`)
and the SimPO adapter (:mod:`cyclebench.trainers.simpo`) both take the classes from here, so neither imports the
other's module to reach them.
"""

from __future__ import annotations

import os

# The dependency on trl's experimental API is on purpose, so its import warning is not repeated to every user.
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

from trl.experimental.cpo import CPOConfig, CPOTrainer  # noqa: E402

__all__ = ["CPOConfig", "CPOTrainer"]
