"""What the site's "how to submit" page (``submit.html``) lists: the commands a submitter runs, in order,
and the tasks a submission may name. Kept as data so the tests can parse every command with the CLI."""

from __future__ import annotations


def submit_tasks() -> list[tuple[str, str]]:
    """(task, one line) for every task a submission may name: the review tasks and the generation tasks."""
    from cyclebench.generation import GENERATION_TASKS
    from cyclebench.tasks import TASKS

    return ([(name, task.description) for name, task in TASKS.items()]
            + [(name, "paper generation from its test prompts, judged by a reviewer model (evaluate generator)")
               for name in GENERATION_TASKS])


def submit_commands() -> list[tuple[str, str]]:
    """(what it does, the command) in the order a submitter runs them. tests/leaderboard/test_site_layout.py
    parses every command with the real CLI parser, so the page cannot drift from the CLI."""
    return [
        ("Build the dataset the task is scored on from the raw OpenReview snapshot and paper texts (or pass "
         "a Hub repo id and --revision to evaluate instead of a folder)",
         "cyclebench build review-5k --openreview notes.jsonl.gz --papers papers/ --out data/review-5k"),
        ("Run your model on the task's evaluation split (any backend: hf, vllm, openai)",
         "cyclebench evaluate model --task review-5k --data data/review-5k --protocol cyclereviewer "
         "--backend vllm --model-args pretrained=ORG/MODEL --output runs/my-model"),
        ("Or score outputs your system already wrote, one JSON line per paper (labelled imported: not re-run)",
         "cyclebench evaluate predictions --task review-5k --data data/review-5k --protocol cyclereviewer "
         "--predictions outputs.jsonl --format jsonl --model-name \"My System\" --output runs/my-system"),
        ("Or evaluate a paper generator: papers from the Research-14K test prompts, judged by a reviewer model",
         "cyclebench evaluate generator --task research-14k --data data/research-14k --backend vllm "
         "--model-args pretrained=ORG/GENERATOR --judge-protocol cyclereviewer --judge-backend vllm "
         "--judge-model-args pretrained=ORG/REVIEWER --output runs/my-generator"),
        ("Turn the run into a submission folder: results.json, predictions.jsonl and metadata.yaml",
         "cyclebench leaderboard submit runs/my-model --name my-model --model-name \"My Model 8B\" "
         "--authors \"A. Author\" \"B. Author\" --link https://example.org/paper"),
        ("Run every check the CI runs: schemas, duplicates, re-parsing and re-scoring against the build",
         "cyclebench leaderboard validate leaderboard/submissions/YYYY-MM-DD_my-model --data review-5k=data/review-5k"),
        ("See the site with your row before you open the pull request",
         "cyclebench leaderboard build --out site --data review-5k=data/review-5k"),
    ]
