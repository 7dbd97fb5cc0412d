"""cyclebench: rebuild the CycleResearcher / CycleReviewer / DeepReviewer datasets, evaluate reviewers
and paper generators on them, and publish checked results."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cyclebench")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.1.0+local"
