"""The package's shape, read from its source by AST: no import cycles, parts import only the parts below
them (the table in docs/ARCHITECTURE.md), our own names everywhere, and a wheel whose only top-level name is
``cyclebench``.

Every import statement counts, at module level or inside a function (a lazy import still runs, and still
makes a cycle); ``from . import x`` is resolved against the importing module. Registry strings
(``"cyclebench.backends.hf:HFBackend"``) are late binding by design and are not edges; a separate test checks
that each names a module that exists. Modules are discovered, not listed: a file inside a part's package
needs no edit here; a new top-level module of ``cyclebench/`` needs its line in ``PARTS`` (a test says so).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
# Repository folders that are data, not code: never imported, never shipped as modules.
NOT_CODE = ("leaderboard/submissions", "cyclebench/samples")
# The bare names the repository's folders would have without package-dir; importing them is an error.
BARE_NAMES = ("builders", "trainers", "leaderboard")

# Module prefix -> part (the longest prefix that is the module or a package above it wins); the package's own
# __init__ (``cyclebench``: the version) is base. docs/ARCHITECTURE.md names the same parts.
PARTS: dict[str, str] = {
    "cyclebench.records": "base",
    "cyclebench.checks": "base",
    "cyclebench.fileio": "base",
    "cyclebench.outputs": "base",
    "cyclebench.hub": "hub",
    "cyclebench.sources": "sources",
    "cyclebench.protocols": "protocols",
    "cyclebench.metrics": "metrics",
    "cyclebench.backends": "backends",
    "cyclebench.builders": "builders",
    "cyclebench.detection": "detection",
    "cyclebench.retrieval": "retrieval",
    # the run layer: tasks, the judge, the three run kinds, recorded outputs, the run log and its reports
    "cyclebench.tasks": "run",
    "cyclebench.truncation": "run",
    "cyclebench.judge": "run",
    "cyclebench.injection": "run",
    "cyclebench.paper_sets": "run",
    "cyclebench.judged_sets": "run",
    "cyclebench.generation": "run",
    "cyclebench.evaluate_reviews": "run",
    "cyclebench.evaluate_papers": "run",
    "cyclebench.evaluate_generator": "run",
    "cyclebench.recorded": "run",
    "cyclebench.run_log": "run",
    "cyclebench.review_report": "run",
    "cyclebench.set_report": "run",
    "cyclebench.plots": "run",
    "cyclebench.detect_texts": "run",
    "cyclebench.literature": "run",
    "cyclebench.evaluate_pairwise": "run",
    "cyclebench.pairwise_report": "run",
    "cyclebench.trainers": "trainers",
    "cyclebench.leaderboard": "leaderboard",
    "cyclebench.cli": "cli",
    "cyclebench.__main__": "cli",
}
ROOT_PART = "base"

# Part -> the parts it may import (besides itself). The same table as docs/ARCHITECTURE.md.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "hub": frozenset({"base"}),
    "sources": frozenset({"base", "hub"}),
    "protocols": frozenset({"base", "sources"}),
    "metrics": frozenset({"base"}),
    "backends": frozenset({"base"}),
    "detection": frozenset({"base", "hub", "sources", "backends"}),
    "builders": frozenset({"base", "hub", "sources", "protocols", "backends", "detection"}),
    "retrieval": frozenset({"base", "sources"}),
    "run": frozenset({"base", "hub", "sources", "protocols", "metrics", "backends", "detection", "retrieval"}),
    "leaderboard": frozenset({"base", "hub", "protocols", "metrics", "backends", "builders", "run"}),
    "trainers": frozenset({"base", "hub", "sources", "protocols", "metrics", "backends", "run", "leaderboard"}),
    "cli": frozenset({"base", "hub", "sources", "protocols", "metrics", "backends", "builders", "run", "leaderboard",
                      "trainers", "detection", "retrieval"}),
}

# Third-party names the light parts never import (directly or through another module).
HEAVY = ("torch", "transformers", "vllm", "trl")


# ---------------------------------------------------------------------------------------------
# Reading the package


def package_dirs() -> dict[str, Path]:
    """Importable package name -> its folder, from pyproject's ``packages`` and ``package-dir``."""
    mapped = SETUPTOOLS.get("package-dir", {})
    out = {}
    for name in SETUPTOOLS["packages"]:
        head = next((p for p in sorted(mapped, key=len, reverse=True) if name == p or name.startswith(p + ".")), None)
        if head is None:
            out[name] = REPO / Path(*name.split("."))
        else:
            out[name] = REPO / mapped[head] / Path(*name[len(head):].split(".")[1:])
    return out


def _is_code(path: Path) -> bool:
    rel = path.relative_to(REPO).as_posix()
    return "__pycache__" not in path.parts and not any(rel == d or rel.startswith(d + "/") for d in NOT_CODE)


@cache
def modules() -> dict[str, Path]:
    """Every module of the installed package -> its file: each folder the package roots map, walked."""
    roots = {"cyclebench": REPO / "cyclebench"}
    for name, folder in SETUPTOOLS.get("package-dir", {}).items():
        roots[name] = REPO / folder
    out: dict[str, Path] = {}
    for package, folder in roots.items():
        for path in sorted(folder.rglob("*.py")):
            if not _is_code(path):
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


@cache
def syntax_tree(path: Path) -> ast.Module:
    """A file's AST, parsed once per session whichever test asks first."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _nearest_module(name: str, known: dict[str, Path]) -> str | None:
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_names(module: str, path: Path) -> Iterable[tuple[str, int]]:
    """``(absolute dotted name, line)`` of every import in the file, at any depth, relative ones resolved.
    ``from pkg import name`` yields ``pkg.name`` (a submodule, or else an attribute of ``pkg``)."""
    tree = syntax_tree(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                yield (stem if alias.name == "*" else f"{stem}.{alias.name}"), node.lineno


@cache
def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of the package: first line}."""
    known = modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in known.items():
        edges: dict[str, int] = {}
        for name, line in imported_names(module, path):
            target = _nearest_module(name, known)
            if target and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def part_of(module: str) -> str | None:
    if module == "cyclebench":
        return ROOT_PART
    prefix = max((p for p in PARTS if module == p or module.startswith(p + ".")), key=len, default=None)
    return None if prefix is None else PARTS[prefix]


def cycles(graph: dict[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle ``[a, b, ..., a]`` per strongly connected component with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iteratively (no recursion limit on long chains)
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_shortest_cycle(graph, sorted(c)) for c in components if len(c) > 1]


def _shortest_cycle(graph: dict[str, Iterable[str]], component: list[str]) -> list[str]:
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component


def part_graph() -> dict[str, dict[str, tuple[str, str, int]]]:
    """part -> {imported part: one example (importer, imported, line)}."""
    out: dict[str, dict[str, tuple[str, str, int]]] = {}
    for module, edges in import_graph().items():
        source = part_of(module)
        for target, line in edges.items():
            dest = part_of(target)
            if source and dest and dest != source:
                out.setdefault(source, {}).setdefault(dest, (module, target, line))
    return out


def _where(module: str, line: int) -> str:
    return f"{modules()[module].relative_to(REPO).as_posix()}:{line}"


# ---------------------------------------------------------------------------------------------
# The graph


def test_modules_are_discovered():
    found = modules()
    assert "cyclebench.records" in found and "cyclebench.builders" in found and "cyclebench.leaderboard" in found
    assert not any(name.startswith("cyclebench.leaderboard.submissions") for name in found)


def test_every_module_has_a_part():
    unassigned = sorted(m for m in modules() if part_of(m) is None)
    assert not unassigned, f"modules without a part (add their prefix to PARTS and docs/ARCHITECTURE.md): {unassigned}"


def test_no_import_cycles_between_modules():
    graph = import_graph()
    found = cycles(graph)
    lines = []
    for cycle in found:
        steps = [f"{a} -> {b} ({_where(a, graph[a][b])})" for a, b in zip(cycle, cycle[1:])]
        lines.append(" | ".join(steps))
    assert not found, "import cycles:\n" + "\n".join(lines)


def test_no_cycles_between_parts():
    graph = part_graph()
    found = cycles({part: set(targets) for part, targets in graph.items()})
    lines = []
    for cycle in found:
        lines.append(" | ".join(f"{a} -> {b} ({graph[a][b][0]} imports {graph[a][b][1]}, "
                                f"{_where(graph[a][b][0], graph[a][b][2])})" for a, b in zip(cycle, cycle[1:])))
    assert not found, "cycles between parts:\n" + "\n".join(lines)


def test_the_layering_table_is_acyclic_and_complete():
    assert set(MAY_IMPORT) == set(PARTS.values()) | {ROOT_PART}
    for part, allowed in MAY_IMPORT.items():
        assert allowed <= set(MAY_IMPORT) - {part}, part
    assert not cycles({part: allowed for part, allowed in MAY_IMPORT.items()})


def documented_table() -> dict[str, frozenset[str]]:
    """The "may import" column of the parts table in docs/ARCHITECTURE.md."""
    table = {}
    for line in (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in MAY_IMPORT:
            table[cells[0]] = frozenset() if cells[2] == "nothing" else frozenset(x.strip() for x in cells[2].split(","))
    return table


def test_the_documented_table_is_the_tested_one():
    assert documented_table() == MAY_IMPORT


def layer_violations() -> list[str]:
    problems = []
    for module, edges in sorted(import_graph().items()):
        source = part_of(module)
        for target, line in sorted(edges.items()):
            dest = part_of(target)
            if source and dest and dest != source and dest not in MAY_IMPORT[source]:
                problems.append(f"{source} -> {dest}: {module} imports {target} ({_where(module, line)})")
    return problems


def test_parts_import_only_the_parts_below_them():
    problems = layer_violations()
    assert not problems, "imports the layering table forbids:\n" + "\n".join(problems)


def test_only_the_command_line_imports_the_cli():
    importers = sorted(f"{m} ({_where(m, line)})" for m, edges in import_graph().items() if part_of(m) != "cli"
                       for target, line in edges.items() if part_of(target) == "cli")
    assert not importers, f"only cyclebench.cli and cyclebench.__main__ may import the CLI: {importers}"


def _heavy_imports(module: str) -> list[tuple[str, int]]:
    return [(name, line) for name, line in imported_names(module, modules()[module])
            if name.split(".")[0] in HEAVY or name.startswith("trl.")]


@pytest.mark.parametrize("part", ["base", "sources", "hub", "protocols", "metrics"])
def test_light_parts_import_no_model_library(part):
    found = [f"{m} imports {name} ({_where(m, line)})" for m in sorted(modules()) if part_of(m) == part
             for name, line in _heavy_imports(m)]
    assert not found, f"{part} must not import {', '.join(HEAVY)}:\n" + "\n".join(found)


# ---------------------------------------------------------------------------------------------
# Names


def _repo_python_files() -> list[Path]:
    """Every .py file of the repository (tests, scripts and benchmarks too), not walking the virtualenv."""
    skip = {".venv", "venv", "build", "dist", ".git", "node_modules", "__pycache__"}
    found = []
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [d for d in subfolders if d not in skip and not d.endswith(".egg-info")]
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(found)


def test_no_module_imports_the_bare_folder_names():
    """``import builders`` works from the repository root by accident and nowhere else."""
    found = []
    for path in _repo_python_files():
        for node in ast.walk(syntax_tree(path)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [f"{path.relative_to(REPO)}:{node.lineno} imports {name}" for name in names
                      if name.split(".")[0] in BARE_NAMES]
    assert not found, "import them as cyclebench.builders / .trainers / .leaderboard:\n" + "\n".join(found)


REGISTRY_STRING = re.compile(r"cyclebench(\.[A-Za-z_]\w*)+(:[A-Za-z_]\w*)?")


def test_module_names_in_strings_exist():
    """Registries (``"cyclebench.backends.hf:HFBackend"``), subcommand tables and ``-m`` launch commands name
    modules in strings; a renamed file must not leave one behind."""
    known = modules()
    missing = []
    for module, path in known.items():
        tree = syntax_tree(path)
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                    and REGISTRY_STRING.fullmatch(node.value)):
                name, _, attr = node.value.partition(":")
                if name not in known:
                    missing.append(f"{_where(module, node.lineno)}: {node.value!r} names no module")
                elif attr and not re.search(rf"^(class|def) {attr}\b|^{attr}\s*=", known[name].read_text(encoding="utf-8"),
                                            re.M):
                    missing.append(f"{_where(module, node.lineno)}: {node.value!r}: {name} defines no {attr}")
    assert not missing, "\n".join(missing)


# ---------------------------------------------------------------------------------------------
# Light imports, in a fresh interpreter


@pytest.mark.parametrize("module", ["cyclebench.protocols", "cyclebench.metrics"])
def test_importing_protocols_or_metrics_loads_no_backend_or_model_library(module):
    code = (f"import sys, {module}\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'vllm', 'trl')"
            " or m.startswith('cyclebench.backends'))\n"
            "print(' '.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"import {module} loaded: {done.stdout.strip()}"


# ---------------------------------------------------------------------------------------------
# Packaging


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(SETUPTOOLS["packages"])
    packages = {m for m, path in modules().items() if path.name == "__init__.py"}
    assert sorted(packages - listed) == [], "folders with __init__.py missing from [tool.setuptools] packages"
    assert sorted(listed - packages) == [], "packages listed in pyproject.toml without a folder"
    for name, folder in package_dirs().items():
        assert (folder / "__init__.py").is_file(), f"{name} -> {folder}"


def _package_data() -> list[tuple[Path, str]]:
    """(file in the repository, its path in the wheel) for every package-data pattern of pyproject."""
    dirs = package_dirs()
    out = []
    for package, patterns in SETUPTOOLS.get("package-data", {}).items():
        for pattern in patterns:
            for path in sorted(dirs[package].glob(pattern)):
                if path.is_file() and "__pycache__" not in path.parts:
                    rel = path.relative_to(dirs[package]).as_posix()
                    out.append((path, f"{package.replace('.', '/')}/{rel}"))
    return out


# Left out of the copy the wheel is built from: setuptools' build/ folder keeps files deleted from the tree.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", ".benchmarks", ".ruff_cache")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """The file list of a wheel built from a clean copy of the working tree (not the tree itself: a stale
    ``build/lib`` would ship modules that no longer exist, and building writes beside the sources)."""
    source, out = tmp_path_factory.mktemp("source") / "cyclebench", tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO, source, ignore=NOT_COPIED, symlinks=True)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("cyclebench-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.slow
def test_the_wheel_installs_only_cyclebench(wheel_files):
    tops = {name.split("/")[0] for name in wheel_files}
    strangers = sorted(t for t in tops if t != "cyclebench" and not re.fullmatch(r"cyclebench-[^/]+\.dist-info", t))
    assert strangers == [], f"top-level names in the wheel besides cyclebench: {strangers}"


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file(wheel_files):
    wanted = {path.relative_to(REPO).as_posix(): f"{m.replace('.', '/')}{'/__init__' if path.name == '__init__.py' else ''}.py"
              for m, path in modules().items()}
    wanted.update({path.relative_to(REPO).as_posix(): in_wheel for path, in_wheel in _package_data()})
    assert any(p.endswith(".yaml") for p in wanted) and any(p.endswith("reported.json") for p in wanted)
    missing = sorted(f"{repo_path} (as {in_wheel})" for repo_path, in_wheel in wanted.items() if in_wheel not in wheel_files)
    assert not missing, "not in the wheel:\n" + "\n".join(missing)
    assert not any("submissions/" in name for name in wheel_files), "leaderboard submissions are data, not shipped"
