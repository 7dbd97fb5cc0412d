"""After a reviewer SFT run: evaluate the trained model on a review task and write a leaderboard submission.

    python -m cyclebench.trainers.evaluate_run --config RECIPE.yaml [--output_dir RUN]

Runs in its own process after training (``cyclebench train --run`` starts it once ``accelerate launch``
returns), so the evaluation's inference engine never shares a process with the training's process group.
A LoRA run is merged into ``OUTPUT_DIR/merged`` first, since vLLM serves whole models. The evaluation goes
through :func:`cyclebench.evaluate_reviews.run_review_evaluation` into ``OUTPUT_DIR/eval``; the submission
(``results.json``, ``predictions.jsonl``, ``metadata.yaml``) goes to ``OUTPUT_DIR/submission/<date>_<recipe>/``
through ``cyclebench.leaderboard.submit`` (which checks it as the leaderboard will); where the leaderboard package is not
importable the three files are written to ``OUTPUT_DIR/submission`` directly. Either way
``OUTPUT_DIR/submission/training.yaml`` records the model path, recipe, base model and training dataset.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path
from typing import Any

import yaml


def merged_model(run_dir: Path, model_args: Any) -> Path:
    """The run's model folder as a whole model: the run itself, or its LoRA adapter merged into the base."""
    if not (run_dir / "adapter_config.json").is_file():
        return run_dir
    target = run_dir / "merged"
    if (target / "config.json").is_file():
        return target
    import torch
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    dtype = model_args.dtype if model_args.dtype not in (None, "auto") else "float32"
    model = AutoPeftModelForCausalLM.from_pretrained(str(run_dir), dtype=getattr(torch, dtype))
    model.merge_and_unload().save_pretrained(target)
    AutoTokenizer.from_pretrained(str(run_dir)).save_pretrained(target)
    return target


def eval_task_options(script_args: Any) -> dict[str, Any]:
    """The recipe's ``eval_task_args`` (``abstract_fallback=true,max_paper_tokens=1536``) as task options, checked
    against the eval task's options (names, types, the token budget) so that a typo is one line, not a run
    that reads the wrong papers."""
    from cyclebench.backends import parse_model_args
    from cyclebench.tasks import check_option_type, get_task
    from cyclebench.truncation import MAX_PAPER_TOKENS, check_budget

    options = parse_model_args(getattr(script_args, "eval_task_args", None))
    if not options:
        return {}
    if not script_args.eval_task:
        raise ValueError("eval_task_args is set but the recipe has no eval_task")
    task = get_task(script_args.eval_task)
    unknown = sorted(set(options) - set(task.options) - {MAX_PAPER_TOKENS})
    if unknown:
        raise ValueError(f"eval_task_args: task {task.name} takes options "
                         f"{sorted([*task.options, MAX_PAPER_TOKENS])}, not {unknown}")
    for key, value in options.items():
        if key == MAX_PAPER_TOKENS:
            check_budget(value)
        else:
            check_option_type(task.name, key, task.options[key], value)
    return options


def eval_config(script_args: Any, training_args: Any, model_path: Path):
    from cyclebench.backends import parse_model_args
    from cyclebench.evaluate_reviews import ReviewRunConfig

    missing = [n for n in ("eval_task", "eval_data", "eval_protocol") if not getattr(script_args, n)]
    if missing:
        raise ValueError(f"the recipe has no {', '.join(missing)}: nothing to evaluate")
    model_args = {"pretrained": str(model_path), **parse_model_args(script_args.eval_model_args)}
    if script_args.eval_backend == "hf":
        import torch

        model_args.setdefault("device", "cuda" if torch.cuda.is_available() else "cpu")
    return ReviewRunConfig(
        task=script_args.eval_task, data=script_args.eval_data, protocol=script_args.eval_protocol,
        backend=script_args.eval_backend, model_args=model_args,
        protocol_options=parse_model_args(script_args.eval_protocol_args),
        task_options=eval_task_options(script_args),
        sampling={"max_tokens": script_args.eval_max_tokens} if script_args.eval_max_tokens else {},
        split=script_args.eval_split, revision=script_args.eval_revision, limit=script_args.eval_limit,
        seed=training_args.seed, n_resamples=script_args.eval_n_resamples,
    )


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def submission_metadata(script_args: Any, training_args: Any, model_args: Any, model_path: Path,
                        results: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": {"path": str(model_path), "base_model": model_args.model_name_or_path,
                  "method": "lora" if model_args.use_peft else "full",
                  "recipe": getattr(training_args, "recipe_name", None)},
        "training": {
            "dataset": script_args.dataset_name, "dataset_config": script_args.dataset_config,
            "dataset_format": script_args.dataset_format, "split": script_args.dataset_train_split,
            "dataset_revision": script_args.dataset_revision, "learning_rate": training_args.learning_rate,
            "num_train_epochs": training_args.num_train_epochs, "max_steps": training_args.max_steps,
            "max_length": training_args.max_length, "seed": training_args.seed,
            "packages": {n: _version(n) for n in ("cyclebench", "trl", "transformers", "torch", "peft")},
        },
        "evaluation": {"task": results["task"]["name"], "split": results["task"]["split"],
                       "data": script_args.eval_data, "dataset_fingerprint": results["task"]["dataset_fingerprint"],
                       "protocol": results["protocol"]["name"], "backend": results["model"]["backend"]},
    }


def submission_name(training_args: Any, run_dir: Path) -> str:
    """A leaderboard folder name (letters, digits, ``._-``) from the recipe name, else the run folder's name."""
    raw = getattr(training_args, "recipe_name", None) or run_dir.resolve().name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._") or "run"
    return name[:80]


def description(metadata: dict[str, Any]) -> str:
    m, t = metadata["model"], metadata["training"]
    return (f"Trained by cyclebench trainers (recipe {m['recipe']}): {m['method']} fine-tune of {m['base_model']} "
            f"on {t['dataset']} ({t['dataset_format']}, split {t['split']}), lr {t['learning_rate']}, "
            f"max_length {t['max_length']}; model folder {m['path']}.")[:2000]


def write_submission(out: Path, eval_dir: Path, metadata: dict[str, Any], name: str) -> dict[str, Any]:
    """Through ``cyclebench.leaderboard.submit`` when the leaderboard package is importable (its checks, its
    ``<date>_<name>/`` folder under ``out``); else the three files written into ``out`` directly. The training
    details go to ``out/training.yaml`` either way."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "training.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")
    try:
        from cyclebench.leaderboard.submit import submit
    except ImportError:
        submit = None
    if submit is not None:
        folder = submit(eval_dir, name, out=out, model_name=metadata["model"]["path"],
                        description=description(metadata))
        return {"via": "cyclebench.leaderboard.submit", "path": str(folder)}
    for file in ("results.json", "predictions.jsonl"):
        shutil.copyfile(eval_dir / file, out / file)
    note = {"written_by": "cyclebench.trainers.evaluate_run", "note": "the leaderboard package was not importable; these are "
            "the three submission files, not checked by cyclebench.leaderboard.submit"}
    (out / "metadata.yaml").write_text(yaml.safe_dump({**metadata, "submission": note}, sort_keys=False),
                                       encoding="utf-8")
    return {"via": "files", "path": str(out)}


def main(script_args: Any, training_args: Any, model_args: Any) -> dict[str, Any]:
    from cyclebench.evaluate_reviews import run_review_evaluation

    run_dir = Path(training_args.output_dir)
    if not (run_dir / "config.json").is_file() and not (run_dir / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{run_dir} holds no trained model (config.json or adapter_config.json)")
    model_path = merged_model(run_dir, model_args)
    config = eval_config(script_args, training_args, model_path)
    results = run_review_evaluation(config, run_dir / "eval", progress=False)
    metadata = submission_metadata(script_args, training_args, model_args, model_path, results)
    submission = write_submission(run_dir / "submission", run_dir / "eval", metadata,
                                  submission_name(training_args, run_dir))
    return {"results": results, "submission": submission}


if __name__ == "__main__":
    from cyclebench.trainers.configs import parse_recipe_argv

    main(*parse_recipe_argv(kind="sft"))
