"""Build the static leaderboard site from validated submissions and the published reference rows.

Every submission is validated (re-scored) while the site is built; only verified ones become rows, the
rest are listed with their reasons, so submissions in = rows shown + submissions excluded. Templates are
Jinja2 with autoescaping on, so a model name or any other submitted text is rendered as text; the pages
carry a Content-Security-Policy that allows only the site's own script and style files, and the plots
are SVG files (labels escaped by ``cyclebench.plots``) embedded with ``<img>``. The output has no
timestamps: the same submissions and dataset builds give the same bytes.

Each task's rows measured on a dataset build and the published rows (numbers copied from papers, on
other paper sets) are two tables under the task, labelled, never sorted together. A table with more
figures than fit a 1,400 px screen gets a column picker (``columns.column_views``), its header and first
column stay in view (CSS ``position: sticky``), and on a phone it scrolls inside its own box, never the
page. More blocks under a task (plots, pairwise tables) come from ``SECTION_HOOKS``: one function each,
returning typed ``Section`` records that the templates render escaped.

Layout of ``--out``::

    index.html                      per task: measured tables (per split, build, --limit), published table,
                                    plots and sections; exclusions
    submit.html                     how to submit: the commands (``submit_page.py``), parsed by the CLI in tests
    verification.json               the outcome of every submission's validation
    plots/<table>-<figure>.svg      per-model bars with 95% intervals
    submissions/<folder>/index.html one page per verified submission, with pred_vs_human.svg,
                                    results.json and metadata.yaml as submitted
    static/sortable.js, style.css   the table sorter (no dependencies) and the style sheet
    .cyclebench-output.json         marks the folder as a site cyclebench built (``cyclebench.outputs``)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from cyclebench.leaderboard.columns import (
    CHART_FIGURES,
    COLUMNS,
    Column,
    View,
    column_views,
)
from cyclebench.leaderboard.pairwise_site import pairwise_sections
from cyclebench.leaderboard.reported import ReportedRow, load_reported
from cyclebench.leaderboard.safe_read import FILE_LIMITS, read_bounded
from cyclebench.leaderboard.sections import Section, SectionHook, SiteContext
from cyclebench.leaderboard.submit_page import submit_commands, submit_tasks
from cyclebench.leaderboard.validate import (
    DatasetBuilds,
    Verification,
    list_submissions,
    model_block,
    validate_submissions,
)

from cyclebench.outputs import FolderTransaction, OutputMarker, check_target

STATIC_FILES = ("sortable.js", "style.css")
MEASURED_LABELS = ("verified", "baseline", "imported (not re-run)")
LABEL_HELP = {
    "verified": "a model run whose raw outputs were parsed again and every figure recomputed from them against "
                "the dataset build",
    "baseline": "a cyclebench CPU baseline (trained on the task's training split), re-run by the validator on "
                "the dataset build and reproduced paper by paper and figure by figure",
    "imported (not re-run)": "recorded outputs of a system that was not run here, parsed and scored by cyclebench, "
                             "verified the same way",
    "human": "human reviewers against each other on the same papers (leave-one-out proxy), computed from the data",
    "reported": "a published number, copied from the source named in the row; not re-run and not on this build",
}
FAILURE_HELP = ("A paper whose output gave no rating (a generation error, an unreadable output; for a generator, "
                "a sample that failed to generate, did not parse or was not rated by the judge) is excluded from the "
                "score metrics and counted as failed, never scored as 0. So each row's figures are over its "
                "evaluated papers only: the Papers column shows evaluated / scored on (the split, or the first N "
                "papers of a run made with --limit, which gets its own table), and Failed the rest. Compare rows "
                "with the same coverage; a row that evaluated fewer papers was scored on fewer.")


@dataclass(frozen=True)
class Cell:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None


@dataclass
class Row:
    label: str
    name: str
    cells: dict[str, Cell]
    how: str = ""
    n: int | None = None  # papers (generator: samples) the run was scored on: the split, or its --limit
    href: str | None = None
    note: str = ""
    source: str = ""
    evaluated: int | None = None  # of those, how many gave a rating (the score metrics' papers)
    failed: int | None = None  # the rest: no rating (generation error, unreadable output, failed generation)


@dataclass
class Table:
    """Measured rows on one build (``fingerprint`` set: runs, the human proxy row) or a task's published
    rows (``fingerprint`` None): the two never share a table."""
    slug: str
    kind: str
    task: str
    split: str
    fingerprint: str | None
    title: str
    description: str
    limit: int | None = None  # the runs were scored on the split's first ``limit`` papers only
    rows: list[Row] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # published sources, cited by number in the rows
    charts: list[tuple[str, str]] = field(default_factory=list)  # (title, path relative to the site root)
    views: list[View] = field(default_factory=list)  # the column picker's views; empty: all columns fit
    members: list[Verification] = field(default_factory=list, repr=False)  # the verified runs of a measured table

    @property
    def published(self) -> bool:
        return self.fingerprint is None


@dataclass
class TaskGroup:
    """What the index shows under one task: its measured tables, its published table, then sections."""
    task: str
    kind: str
    description: str
    measured: list[Table] = field(default_factory=list)
    published: Table | None = None
    sections: list[Section] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return _slug("task", self.task)




@dataclass
class SiteReport:
    out: Path
    verifications: list[Verification]
    tables: list[Table]

    @property
    def counts(self) -> dict[str, int]:
        verified = sum(v.verified for v in self.verifications)
        return {"submissions": len(self.verifications), "verified": verified,
                "excluded": len(self.verifications) - verified}


# ---------------------------------------------------------------------------------------------
# rows and tables (pure)


def _slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(p for p in parts if p)).strip("-")


def _how(v: Verification) -> str:
    results = v.results or {}
    if v.kind == "generator":
        judge = results["judge"]
        if judge.get("label"):
            return f"judge: {judge['label']}"
        args = ",".join(f"{k}={val}" for k, val in sorted(judge["model_args"].items()))
        return f"judge: {judge['protocol']} via {judge['backend']}" + (f" ({args})" if args else "")
    protocol = results["protocol"]
    args = ",".join(f"{k}={val}" for k, val in sorted((protocol.get("arguments") or {}).items()))
    return protocol["name"] + (f" ({args})" if args else "")


def measured_row(v: Verification, columns: tuple[Column, ...]) -> Row:
    metrics = v.recomputed["metrics"]
    cells = {c.key: Cell(metrics[c.source]["value"], metrics[c.source]["ci_low"], metrics[c.source]["ci_high"],
                         metrics[c.source]["n"])
             for c in columns if c.source and c.source in metrics}
    evaluated, n, failed = coverage(v)
    return Row(label=v.label or "verified", name=(v.metadata or {})["model"]["name"], cells=cells, how=_how(v),
               n=n, evaluated=evaluated, failed=failed, href=f"submissions/{v.folder}/index.html")


def coverage(v: Verification) -> tuple[int | None, int | None, int | None]:
    """(evaluated, scored on, failed) from the re-scored counts: papers (a generator: samples) with a rating,
    papers the run was scored on, and the rest. A failure is excluded from the score metrics, so a row's
    figures are over its evaluated papers only; the site shows the coverage beside them."""
    counts = v.recomputed["counts"]
    if "n_papers" in counts:
        n, evaluated = counts["n_papers"], counts.get("n_evaluated")
    else:
        n, evaluated = counts.get("n_entries"), counts.get("n_rated")
    failed = n - evaluated if isinstance(n, int) and isinstance(evaluated, int) else None
    return evaluated, n, failed


def run_limit(v: Verification) -> int | None:
    """The ``--limit`` a run was scored with (its first N papers of the split), None for the whole split."""
    source = ((v.results or {}).get("task") or {}).get("source") or {}
    return source.get("limit")


def human_row(verified: list[Verification], columns: tuple[Column, ...]) -> Row | None:
    """The human proxy row of a review table: each human rating against the mean of the paper's other
    ratings over every paper with two or more ratings (``proxy_human_all_*``). It depends on the data
    only, so any verified run on the build gives it; the first by folder name is used."""
    for v in sorted(verified, key=lambda x: x.folder):
        metrics = v.recomputed["metrics"]
        cells = {c.key: Cell(metrics[c.human_source]["value"], metrics[c.human_source]["ci_low"],
                             metrics[c.human_source]["ci_high"], metrics[c.human_source]["n"])
                 for c in columns if c.human_source and c.human_source in metrics}
        if cells and any(cell.value is not None for cell in cells.values()):
            n = next(iter(cells.values())).n
            return Row(label="human", name="Human reviewers (n-1 proxy)", cells=cells, how="from the data", n=n,
                       note=f"leave-one-out: each rating against the mean of the paper's other ratings (papers "
                            f"with >= 2); computed from the build while re-scoring {v.folder}")
    return None


def reported_row(r: ReportedRow) -> Row:
    return Row(label="reported", name=r.model, cells={k: Cell(v) for k, v in r.figures.items()},
               how=r.judge and f"judge: {r.judge}" or "", note=r.note, source=r.source)


def _sort_key(row: Row, key: str, better: str) -> tuple[int, float]:
    cell = row.cells.get(key)
    if cell is None or cell.value is None:
        return (1, 0.0)
    return (0, cell.value if better == "lower" else -cell.value)


def _task_description(task: str) -> str:
    from cyclebench.tasks import TASKS

    return TASKS[task].description if task in TASKS else ""


def assemble_tables(verifications: list[Verification], reported: list[ReportedRow]) -> list[Table]:
    """One table per (kind, task, split, dataset build, --limit) with its verified runs and the human row,
    then one table per task of its published rows (other paper sets: never sorted with measured rows).
    Runs scored on the first N papers of a split (``--limit``) get their own table, titled so: they are on
    other papers."""
    groups: dict[tuple[str, str, str, str, int], list[Verification]] = {}
    for v in verifications:
        if v.verified:  # 0 stands for the whole split, so the keys sort
            groups.setdefault((v.kind, v.task, v.split, v.dataset_fingerprint, run_limit(v) or 0), []).append(v)
    tables = []
    for (kind, task, split, fingerprint, limit), members in sorted(groups.items()):
        columns = COLUMNS[kind]
        primary = columns[0]
        rows = sorted((measured_row(v, columns) for v in sorted(members, key=lambda x: x.folder)),
                      key=lambda r: _sort_key(r, primary.key, primary.better))
        if kind == "review":
            human = human_row(members, columns)
            rows += [human] if human else []
        short = fingerprint.split(":", 1)[-1][:12]
        title = f"{task} · split {split} · build {short}" + (f" · first {limit} papers only (--limit)" if limit else "")
        tables.append(Table(slug=_slug(task, split, short, f"limit{limit}" if limit else ""), kind=kind, task=task,
                            split=split, fingerprint=fingerprint, title=title, description=_task_description(task),
                            rows=rows, limit=limit or None, members=members))
    measured = {(t.kind, t.task) for t in tables}
    for kind, task in sorted({(r.kind, r.task) for r in reported}, key=lambda kt: (kt not in measured, kt[0] != "review", kt[1])):
        rows = [reported_row(r) for r in reported if r.kind == kind and r.task == task]
        title = f"{task} · published numbers" + ("" if (kind, task) in measured else " only")
        tables.append(Table(slug=_slug(task, "published"), kind=kind, task=task, split="", fingerprint=None,
                            title=title, description=_task_description(task), rows=rows))
    for table in tables:
        present = {key for row in table.rows for key, cell in row.cells.items() if cell.value is not None}
        table.columns = [c for c in COLUMNS[table.kind] if c.key in present]
        table.views = column_views(table.columns)
        table.sources = list(dict.fromkeys(row.source for row in table.rows if row.source))
    return tables


def check_section(section: Section, site: Path) -> None:
    """A hook's section: a slug of its own, rows as wide as the header, and figures that are files it
    wrote under the site (a relative path: never a URL, an absolute path or one leaving the site)."""
    section.slug = _slug(section.slug or f"{section.task}-{section.title}")
    if any(len(row) != len(section.header) for row in section.rows):
        raise ValueError(f"section {section.title!r}: every row needs {len(section.header)} cells, one per header")
    for figure in section.figures:
        path = Path(figure.path)
        if path.is_absolute() or ".." in path.parts or ":" in figure.path or not (site / path).is_file():
            raise ValueError(f"section {section.title!r}: figure {figure.path!r} is not a file under the site")


def task_groups(tables: list[Table], sections: list[Section]) -> list[TaskGroup]:
    """The index's order: tasks with measured tables first (in the tables' order), then the rest; each
    with its measured tables, its published table and the sections hooks gave for it."""
    groups: dict[str, TaskGroup] = {}
    for table in tables:
        group = groups.setdefault(table.task, TaskGroup(table.task, table.kind, table.description))
        if table.published:
            group.published = table
        else:
            group.measured.append(table)
    for section in sections:
        groups.setdefault(section.task, TaskGroup(section.task, "", _task_description(section.task))).sections.append(section)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# rendering (side effects)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def _sort_value(value: Any) -> str:
    return "" if value is None else repr(float(value))


def environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("cyclebench.leaderboard", "templates"), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["sort_value"] = _sort_value
    env.filters["sci"] = lambda value: "–" if value is None else f"{value:.2g}"
    env.filters["css"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return env


def _charts(table: Table, plots_dir: Path) -> None:
    from cyclebench import plots

    by_key = {c.key: c for c in COLUMNS[table.kind]}
    for key in CHART_FIGURES[table.kind]:
        column = by_key[key]
        rows = [r for r in table.rows if r.label in (*MEASURED_LABELS, "human")
                and r.cells.get(key) is not None and r.cells[key].value is not None]
        if not rows:
            continue
        chart = plots.leaderboard_chart(
            figure=column.label, better=column.better, task=table.task,
            split=table.split + (f", first {table.limit} papers" if table.limit else ""),
            build=f"build {(table.fingerprint or '').split(':', 1)[-1][:12]}",
            measured=[plots.Estimate(r.name, c.value, c.ci_low, c.ci_high, c.n) for r in rows for c in [r.cells[key]]])
        name = f"{table.slug}-{key}.svg"
        chart.write(plots_dir / name)  # and the PNG beside it
        table.charts.append((f"{column.label} ({column.better} is better)", f"plots/{name}"))


def _submission_page(env: Any, v: Verification, folder: Path, dest: Path, table_slug: str) -> None:
    from cyclebench import plots

    dest.mkdir(parents=True)
    scatter = None
    if v.points and v.rating_bounds:
        lo, hi = v.rating_bounds
        n_papers = coverage(v)[1]
        (dest / "pred_vs_human.svg").write_text(plots.scatter(
            v.points, title=f"predicted vs human ({len(v.points)} of {n_papers} papers rated)",
            xlabel="human mean rating (dataset build)", ylabel="predicted rating", lo=lo, hi=hi), encoding="utf-8")
        scatter = "pred_vs_human.svg"
    for name in ("results.json", "metadata.yaml"):
        (dest / name).write_bytes(read_bounded(folder / name, FILE_LIMITS[name]))
    metrics = v.recomputed["metrics"]
    html = env.get_template("submission.html").render(
        root="../../", v=v, meta=v.metadata, results=v.results, model=model_block(v.results), scatter=scatter,
        figures=[(name, metrics[name]) for name in metrics], counts=v.recomputed["counts"], how=_how(v),
        label_help=LABEL_HELP, coverage=coverage(v), limit=run_limit(v), failure_help=FAILURE_HELP,
        headline=headline_figures(v), provenance=code_version(v.results), table=table_slug)
    (dest / "index.html").write_text(html, encoding="utf-8")


def headline_figures(v: Verification) -> list[tuple[Column, dict[str, Any]]]:
    """The run's headline figures (the default view of its table), as re-scored, for the top of its page."""
    metrics = v.recomputed["metrics"]
    return [(c, metrics[c.source]) for c in COLUMNS[v.kind] if c.headline and c.source in metrics
            and metrics[c.source].get("value") is not None]


def code_version(results: dict[str, Any] | None) -> dict[str, str]:
    """The code a run was made with, from its results.json provenance: cyclebench, Python and packages."""
    provenance = (results or {}).get("provenance") or {}
    packages = provenance.get("packages") or {}
    out = {"cyclebench": str(provenance.get("cyclebench_version") or packages.get("cyclebench") or "not stated")}
    if provenance.get("python"):
        out["python"] = str(provenance["python"])
    out.update({name: str(version) for name, version in sorted(packages.items()) if name != "cyclebench"})
    return out


def build_site(out: str | Path, submissions: str | Path, datasets: DatasetBuilds, *, overwrite: bool = False,
               reported: list[ReportedRow] | None = None) -> SiteReport:
    """Validate every submission under ``submissions`` and write the site to ``out`` (atomically)."""
    out = Path(out)
    # The site never lands on, in or around its inputs, and replaces only a site cyclebench built.
    site_inputs = [submissions, *(path for paths in datasets.builds.values() for path in paths)]
    check_target(out.resolve(), "site", overwrite=overwrite, inputs=site_inputs)
    folders = list_submissions(Path(submissions))
    verifications = validate_submissions(folders, datasets, folders)
    tables = assemble_tables(verifications, load_reported() if reported is None else reported)

    with FolderTransaction(out, OutputMarker("site"), overwrite=overwrite, inputs=site_inputs) as transaction:
        partial = transaction.scratch
        (partial / "plots").mkdir(parents=True)
        (partial / "static").mkdir()
        (partial / "submissions").mkdir()
        for name in STATIC_FILES:
            (partial / "static" / name).write_bytes((files("cyclebench.leaderboard") / "static" / name).read_bytes())
        for table in tables:
            if not table.published:
                _charts(table, partial / "plots")
        env = environment()
        by_folder = {p.name: p for p in folders}
        table_of = {v.folder: t.slug for t in tables for v in t.members}
        for v in verifications:
            if v.verified:
                _submission_page(env, v, by_folder[v.folder], partial / "submissions" / v.folder, table_of[v.folder])
        context = SiteContext(tables, verifications, Path(submissions), datasets, partial)
        sections = [section for hook in SECTION_HOOKS for section in hook(context)]
        used = {t.slug for t in tables} | {_slug("task", t.task) for t in tables}
        for number, section in enumerate(sections, 1):
            check_section(section, partial)
            section.slug = section.slug if section.slug not in used else f"{section.slug}-{number}"
            used.add(section.slug)
        report = SiteReport(out, verifications, tables)
        excluded = [v for v in verifications if not v.verified]
        (partial / "index.html").write_text(env.get_template("index.html").render(
            root="", groups=task_groups(tables, sections), verifications=verifications, counts=report.counts,
            label_help=LABEL_HELP, failure_help=FAILURE_HELP, excluded=excluded), encoding="utf-8")
        (partial / "submit.html").write_text(env.get_template("submit.html").render(
            root="", commands=submit_commands(), tasks=submit_tasks()), encoding="utf-8")
        (partial / "verification.json").write_text(json.dumps({
            **report.counts, "submissions_checked": [v.to_dict() for v in verifications]}, indent=2) + "\n",
            encoding="utf-8")
        transaction.commit()
    return report


# ---------------------------------------------------------------------------------------------
# sections under each task: one function per kind of block (plots, pairwise tables), each returning
# ``Section`` records for the tasks it has something for; appended here by the module that provides it.

SECTION_HOOKS: list[SectionHook] = [pairwise_sections]
