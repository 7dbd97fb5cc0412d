"""The leaderboard's table columns per kind of task, and how a run's figures fill them.

A column holds one figure per row, and belongs to a group the site's column picker shows together
(a dozen figures with intervals do not fit one screen); the headline columns are the default view. For a measured row the figure comes from the re-scored metrics
(``source`` names the metric); the human proxy row fills the proxy columns from ``human_source``;
published rows (``reported.json``) use the column keys directly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    better: str  # "lower" | "higher": only shown as a hint, sorting is the reader's choice
    source: str | None = None  # metric of a measured run; None: only published rows have it
    human_source: str | None = None  # metric giving the human proxy row's figure
    group: str = ""  # the column picker's group (a view of related figures)
    headline: bool = False  # shown in the default view, so a wide table fits a 1,400 px screen


REVIEW_COLUMNS = (
    Column("rating_mae", "Rating MAE (n)", "lower", "rating_mae", group="Ratings", headline=True),
    Column("rating_mse", "Rating MSE (n)", "lower", "rating_mse", group="Ratings"),
    Column("proxy_mae", "Proxy MAE (n-1)", "lower", "proxy_model_mae", "proxy_human_all_mae", group="Ratings", headline=True),
    Column("proxy_mse", "Proxy MSE (n-1)", "lower", "proxy_model_mse", "proxy_human_all_mse", group="Ratings"),
    Column("decision_accuracy", "Decision accuracy", "higher", "decision_accuracy", group="Decisions", headline=True),
    Column("decision_macro_f1", "Macro-F1", "higher", "decision_macro_f1", group="Decisions", headline=True),
    Column("decision_accept_f1", "Accept-class F1", "higher", "decision_accept_f1", group="Decisions"),
    Column("decision_f1_unstated", "F1 (averaging not stated)", "higher", group="Decisions"),
    Column("decision_balanced_accuracy", "Balanced accuracy", "higher", "decision_balanced_accuracy", group="Decisions"),
    Column("roc_auc", "ROC AUC", "higher", "roc_auc", group="Decisions"),
    Column("spearman", "Spearman", "higher", "spearman", group="Ranking", headline=True),
    Column("pairwise_accuracy", "Pairwise accuracy", "higher", "pairwise_accuracy", group="Ranking"),
)

GENERATOR_COLUMNS = (
    Column("average_score", "Average score", "higher", "average_score", group="Scores", headline=True),
    Column("avg_min_rating", "Avg min rating", "higher", "avg_min_rating", group="Scores"),
    Column("avg_max_rating", "Avg max rating", "higher", "avg_max_rating", group="Scores"),
    Column("accept_rate_by_decision", "Accept rate (judge decision)", "higher", "accept_rate_by_decision", group="Acceptance", headline=True),
    Column("accept_rate_by_rating", "Accept rate (rating >= threshold)", "higher", "accept_rate_by_rating", group="Acceptance", headline=True),
    Column("accept_rate_unstated", "Accept rate (definition not published)", "higher", group="Acceptance"),
    Column("share_failed_to_generate", "Failed to generate (share)", "lower", "share_failed_to_generate", group="Failures", headline=True),
    Column("share_failed_to_parse", "Failed to parse (share)", "lower", "share_failed_to_parse", group="Failures", headline=True),
)

COLUMNS = {"review": REVIEW_COLUMNS, "generator": GENERATOR_COLUMNS}

# Bars drawn per table (measured rows only: published rows are on other paper sets).
CHART_FIGURES = {"review": ("rating_mae", "proxy_mae", "decision_accuracy"),
                 "generator": ("average_score", "accept_rate_by_rating")}

# More figure columns than this and a table gets the column picker (its headline view fits 1,400 px).
MAX_COLUMNS_AT_ONCE = 6


@dataclass(frozen=True)
class View:
    """A set of a table's figure columns shown together: the picker's buttons."""
    name: str
    keys: tuple[str, ...]


def column_views(columns: list[Column] | tuple[Column, ...]) -> list[View]:
    """The picker's views of a table's columns: the headline figures first (the default), then each group,
    then all of them; none when every column fits at once. A view without a column of this table (its
    headline figures were not measured) is left out."""
    if len(columns) <= MAX_COLUMNS_AT_ONCE:
        return []
    views = [View("Headline", tuple(c.key for c in columns if c.headline))]
    for group in dict.fromkeys(c.group for c in columns if c.group):
        views.append(View(group, tuple(c.key for c in columns if c.group == group)))
    views.append(View("All", tuple(c.key for c in columns)))
    return [v for v in views if v.keys]
