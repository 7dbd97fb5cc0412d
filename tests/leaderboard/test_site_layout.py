"""The site's structure without a browser: measured and published rows in separate tables, the column
picker's views, the "how to submit" page's commands (parsed by the real CLI), a submission page's
provenance, and sections added by hooks (escaped, their figures confined to the site)."""

from __future__ import annotations

import html
import re
import shlex

import pytest
from cyclebench.leaderboard import site
from cyclebench.leaderboard.columns import COLUMNS, MAX_COLUMNS_AT_ONCE, column_views
from cyclebench.leaderboard.reported import load_reported
from cyclebench.leaderboard.sections import Figure, Section
from cyclebench.leaderboard.site import assemble_tables, build_site, task_groups
from cyclebench.leaderboard.submit_page import submit_commands

from cyclebench.cli import build_parser

from .test_leaderboard import DATE, INJECTION, datasets_for, submit_run


def test_column_views_put_the_headline_first_and_all_last():
    views = column_views(COLUMNS["review"])
    assert [v.name for v in views] == ["Headline", "Ratings", "Decisions", "Ranking", "All"]
    assert views[0].keys == ("rating_mae", "proxy_mae", "decision_accuracy", "decision_macro_f1", "spearman")
    assert set(views[-1].keys) == {c.key for c in COLUMNS["review"]}
    assert all(c.group for c in COLUMNS["review"] + COLUMNS["generator"])  # every column in some view
    assert column_views(COLUMNS["review"][:MAX_COLUMNS_AT_ONCE]) == []  # fits: no picker
    no_headline = [c for c in COLUMNS["review"] if not c.headline]
    assert column_views(no_headline)[0].name == "Ratings"  # an empty view is left out


def test_published_tables_hold_published_rows_only_and_come_after_the_measured():
    tables = assemble_tables([], load_reported())
    groups = task_groups(tables, [Section(task="pairwise-only", title="t")])
    assert all(g.measured == [] and g.published is not None for g in groups[:-1])
    assert groups[-1].task == "pairwise-only" and groups[-1].published is None and len(groups[-1].sections) == 1
    assert [g.task for g in groups[:-1]] == ["aiscientist-iclr2022", "deepreview-13k", "review-5k", "research-14k"]
    assert all(t.views == [] for t in tables)  # published tables show every column they have


@pytest.mark.parametrize("what, command", submit_commands())
def test_every_command_on_the_submit_page_parses_with_the_cli(what, command):
    argv = shlex.split(command)
    assert argv[0] == "cyclebench"
    args = build_parser().parse_args(argv[1:])  # an unknown option or a missing required one exits 2
    assert args.command in ("build", "evaluate", "leaderboard")


def _sections(task: str, seen: list):
    def hook(context):
        seen.append(context)
        (context.scratch / "plots" / "extra.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        return [Section(task=task, title=f"Win rates {INJECTION}", text=INJECTION,
                        header=["System", "Win rate"], rows=[[INJECTION, "0.5"]],
                        figures=[Figure(caption=INJECTION, path="plots/extra.svg")])]
    return hook


def test_site_pages_sections_and_provenance(lb_sample, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    submit_run(lb_sample, "constant", subs)
    submit_run(lb_sample, "tfidf", subs, model_name=INJECTION)
    seen = []
    monkeypatch.setattr(site, "SECTION_HOOKS", [_sections("review-5k", seen)])
    report = build_site(tmp_path / "site", subs, datasets_for(lb_sample))
    assert report.counts == {"submissions": 2, "verified": 2, "excluded": 0}
    [context] = seen
    assert {v.folder for v in context.verifications} == {f"{DATE}_constant", f"{DATE}_tfidf"}
    [measured] = [t for t in context.tables if t.task == "review-5k" and not t.published]
    assert sorted(v.folder for v in measured.members) == [f"{DATE}_constant", f"{DATE}_tfidf"]

    index = (tmp_path / "site" / "index.html").read_text()
    assert INJECTION not in index and index.count(html.escape(INJECTION, quote=False)) >= 4
    kinds = re.findall(r'<table class="sortable board (measured|published)" id="table-review-5k', index)
    assert kinds == ["measured", "published"]
    measured_html = index.split(f'id="table-{measured.slug}"')[1].split("</table>")[0]
    published_html = index.split('id="table-review-5k-published"')[1].split("</table>")[0]
    assert "label-reported" not in measured_html and "label-baseline" in measured_html
    assert "label-reported" in published_html and "label-baseline" not in published_html
    assert index.index(f'id="table-{measured.slug}"') < index.index('id="table-review-5k-published"') \
        < index.index('<img src="plots/extra.svg"')  # measured, then published, then the hook's section
    assert 'data-keys="rating_mae proxy_mae decision_accuracy decision_macro_f1 spearman"' in index
    assert '<a href="submit.html">How to submit</a>' in index

    submit_page = (tmp_path / "site" / "submit.html").read_text()
    commands = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", submit_page)]
    assert commands == [command for _, command in submit_commands()]  # the ones the CLI parses above
    assert "research-14k" in submit_page and "Content-Security-Policy" in submit_page

    page = (tmp_path / "site" / "submissions" / f"{DATE}_tfidf" / "index.html").read_text()
    assert INJECTION not in page and html.escape(INJECTION, quote=False) in page
    for text in ("Code version</th><td>cyclebench ", "Model fingerprint", "Dataset build</th><td><code class=\"wrap\">sha256:",
                 "status-verified", f'href="../../index.html#{measured.slug}"', 'class="headline"'):
        assert text in page, text


@pytest.mark.parametrize("bad, message", [
    (lambda ctx: [Section(task="review-5k", title="t", header=["a", "b"], rows=[["1"]])], "every row needs 2 cells"),
    (lambda ctx: [Section(task="review-5k", title="t", figures=[Figure("c", "javascript:alert(1)")])], "not a file under"),
    (lambda ctx: [Section(task="review-5k", title="t", figures=[Figure("c", "../../etc/passwd")])], "not a file under"),
    (lambda ctx: [Section(task="review-5k", title="t", figures=[Figure("c", "plots/missing.svg")])], "not a file under"),
])
def test_a_bad_section_stops_the_build_and_leaves_no_site(lb_sample, tmp_path, monkeypatch, bad, message):
    subs = tmp_path / "subs"
    submit_run(lb_sample, "constant", subs)
    monkeypatch.setattr(site, "SECTION_HOOKS", [bad])
    with pytest.raises(ValueError, match=message):
        build_site(tmp_path / "site", subs, datasets_for(lb_sample))
    assert not (tmp_path / "site").exists()
