"""The leaderboard's table columns per kind of task, and how a run's figures fill them.

A column holds one figure per row. For a measured row the figure comes from the re-scored metrics
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


REVIEW_COLUMNS = (
    Column("rating_mae", "Rating MAE (n)", "lower", "rating_mae"),
    Column("rating_mse", "Rating MSE (n)", "lower", "rating_mse"),
    Column("proxy_mae", "Proxy MAE (n-1)", "lower", "proxy_model_mae", "proxy_human_all_mae"),
    Column("proxy_mse", "Proxy MSE (n-1)", "lower", "proxy_model_mse", "proxy_human_all_mse"),
    Column("decision_accuracy", "Decision accuracy", "higher", "decision_accuracy"),
    Column("decision_macro_f1", "Macro-F1", "higher", "decision_macro_f1"),
    Column("decision_accept_f1", "Accept-class F1", "higher", "decision_accept_f1"),
    Column("decision_f1_unstated", "F1 (averaging not stated)", "higher"),
    Column("decision_balanced_accuracy", "Balanced accuracy", "higher", "decision_balanced_accuracy"),
    Column("roc_auc", "ROC AUC", "higher", "roc_auc"),
    Column("spearman", "Spearman", "higher", "spearman"),
    Column("pairwise_accuracy", "Pairwise accuracy", "higher", "pairwise_accuracy"),
)

GENERATOR_COLUMNS = (
    Column("average_score", "Average score", "higher", "average_score"),
    Column("avg_min_rating", "Avg min rating", "higher", "avg_min_rating"),
    Column("avg_max_rating", "Avg max rating", "higher", "avg_max_rating"),
    Column("accept_rate_by_decision", "Accept rate (judge decision)", "higher", "accept_rate_by_decision"),
    Column("accept_rate_by_rating", "Accept rate (rating >= threshold)", "higher", "accept_rate_by_rating"),
    Column("accept_rate_unstated", "Accept rate (definition not published)", "higher"),
    Column("share_failed_to_generate", "Failed to generate (share)", "lower", "share_failed_to_generate"),
    Column("share_failed_to_parse", "Failed to parse (share)", "lower", "share_failed_to_parse"),
)

COLUMNS = {"review": REVIEW_COLUMNS, "generator": GENERATOR_COLUMNS}

# Bars drawn per table (measured rows only: published rows are on other paper sets).
CHART_FIGURES = {"review": ("rating_mae", "proxy_mae", "decision_accuracy"),
                 "generator": ("average_score", "accept_rate_by_rating")}
