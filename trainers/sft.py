"""Supervised fine-tuning from a recipe: reviewer SFT (Review-5K ``sft``), DeepReviewer-style SFT
(DeepReview-13K) and researcher SFT (Research-14K ``messages``), with the loss on assistant turns only.

    accelerate launch --config_file trainers/accelerate/zero2.yaml -m cyclebench.trainers.sft --config RECIPE.yaml

Rows are tokenized here (:mod:`cyclebench.trainers.data`: the model's chat template, assistant-token masks, rows cut to
``max_length`` keeping their start, every unusable row counted with its reason) and handed to trl's
``SFTTrainer`` as ``input_ids`` + ``assistant_masks``, from which trl builds the labels. The conversion
report is written to ``OUTPUT_DIR/data_report.json`` and the recipe's settings to ``run_config.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def model_source(model_args: Any) -> tuple[str, str | None]:
    """The recipe's model as ``(folder or Hub id, GGUF file or None)``: see ``ModelArguments.gguf_file``."""
    from cyclebench.backends.gguf import model_source as source

    return source(model_args.model_name_or_path, getattr(model_args, "gguf_file", None), who="sft")


def load_tokenizer(model_args: Any, training_args: Any):
    from transformers import AutoTokenizer

    path, gguf = model_source(model_args)
    tokenizer = AutoTokenizer.from_pretrained(
        path, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code,
        **({"gguf_file": gguf} if gguf else {}),
    )
    template = training_args.chat_template_path
    if template:
        if not (os.path.isfile(template) and template.endswith((".jinja", ".j2"))):
            raise ValueError(f"chat_template_path must be a .jinja file here (rows are tokenized before trl sees "
                             f"them), got {template!r}")
        tokenizer.chat_template = Path(template).read_text(encoding="utf-8")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(script_args: Any, training_args: Any, model_args: Any):
    """Train, save the model in ``output_dir``; returns the trainer (its ``train_dataset`` holds the labels)."""
    from trl import SFTTrainer, get_peft_config

    from cyclebench.trainers.data import build_sft_dataset

    if not script_args.dataset_name:
        raise ValueError("the recipe needs dataset_name (a dataset folder or Hub id)")
    tokenizer = load_tokenizer(model_args, training_args)
    train, report = build_sft_dataset(
        script_args.dataset_name, script_args.dataset_train_split, dataset_format=script_args.dataset_format,
        tokenizer=tokenizer, max_length=training_args.max_length, config=script_args.dataset_config,
        revision=script_args.dataset_revision, limit=script_args.max_train_samples,
    )
    model_init_kwargs = {"revision": model_args.model_revision, "trust_remote_code": training_args.trust_remote_code,
                         "attn_implementation": model_args.attn_implementation, "dtype": model_args.dtype}
    model_init_kwargs.update(training_args.model_init_kwargs or {})
    path, gguf = model_source(model_args)
    model: Any = path
    if gguf:  # trl would read the folder's config.json, which a GGUF folder lacks: load it here, as trl would
        from transformers import AutoModelForCausalLM
        from trl.trainer.utils import create_model_from_path

        from cyclebench.backends.gguf import as_trainable

        model = as_trainable(create_model_from_path(path, architecture=AutoModelForCausalLM, gguf_file=gguf,
                                                    **model_init_kwargs))
        training_args.model_init_kwargs = None
    else:
        training_args.model_init_kwargs = model_init_kwargs
    trainer = SFTTrainer(
        model=model, args=training_args, train_dataset=train, processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )
    output = Path(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        _write_json(output / "data_report.json", {**report.to_dict(), "rows_after_trl_preparation": len(trainer.train_dataset)})
        _write_json(output / "run_config.json", {"script_args": vars(script_args), "model_args": vars(model_args),
                                                 "training_args": training_args.to_dict()})
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(training_args.output_dir)
    return trainer


if __name__ == "__main__":
    from cyclebench.trainers.configs import parse_recipe_argv

    main(*parse_recipe_argv(kind="sft"))
