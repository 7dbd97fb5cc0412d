"""Throughput and model FLOPs utilisation of one SFT step and one SimPO step, through the project's trainers.

On a GPU: a Llama-3.1-8B-shaped model with random weights (``--size 8b``), pure bf16 weights and AdamW state,
one sequence of ``--seq-len`` tokens per step (SFT) or one pair (SimPO: chosen and rejected of ``--seq-len``
tokens each, sharing a quarter-length prompt). On a CPU: a small model (``--size small``) and short sequences;
MFU is not defined against a CPU peak here and is reported as not measured.

Measured in one run, per step kind:

* ``trainer``   tokens/s of trl's SFTTrainer / CPOTrainer (SimPO + NLL), as ``cyclebench.trainers.sft`` / ``cyclebench.trainers.simpo``
                set them up (pre-tokenized rows with assistant masks; prompt/chosen/rejected pairs), timed per
                optimizer step by a callback, after warm-up steps;
* ``raw``       a plain PyTorch loop over the same model and batch shapes (forward, cross-entropy on the
                completion tokens, backward, AdamW step): the baseline, so ``trainer / raw`` is the trainer's
                overhead.

MFU = model FLOPs per token x tokens/s / peak, with training FLOPs per token = 6 N + 12 L d s (N: parameters
in matrix multiplies, i.e. all but the input embedding; L layers, d hidden size, s sequence length; the
attention term counts the full s x s product as in PaLM's appendix B, activation recomputation not counted).
Peak: 989 TFLOP/s dense bf16 for H100/H200 SXM (``--peak-tflops`` to override).

    python benchmarks/bench_trainers.py --write benchmarks/RESULTS_trainers.md
    python benchmarks/bench_trainers.py --size 8b --seq-len 8192 --gradient-checkpointing --attn flash_attention_2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {
    # Llama-3.1-8B shapes
    "8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256, "rope_theta": 500000.0, "tie_word_embeddings": False},
    # a CPU-sized model with the same layout
    "small": {"hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 4, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 8192, "tie_word_embeddings": False},
}
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def word_tokenizer(vocab_size: int, folder: Path):
    """A whitespace word-level tokenizer over ``w3 .. w{V-1}``: a text of n words is exactly n tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[EOS]": 1, "[BOS]": 2, **{f"w{i}": i for i in range(3, vocab_size)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[PAD]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", eos_token="[EOS]", bos_token="[BOS]")
    fast.save_pretrained(folder)
    return fast


def make_model(size: str, attn: str, device: str, dtype):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**SIZES[size], max_position_embeddings=131072, pad_token_id=0, eos_token_id=1,
                         bos_token_id=2, attn_implementation=attn)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(dtype)
    return model


def matmul_params(model) -> int:
    embed = model.get_input_embeddings().weight.numel()
    return sum(p.numel() for p in model.parameters()) - embed


def flops_per_token(model, seq_len: int) -> float:
    c = model.config
    return 6.0 * matmul_params(model) + 12.0 * c.num_hidden_layers * c.hidden_size * seq_len


class StepTimer:
    """A TrainerCallback timing each optimizer step (synchronised on CUDA)."""

    def __init__(self, sync):
        self.sync = sync
        self.times: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self.sync()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.sync()
        self.times.append(time.perf_counter() - self._start)

    def __getattr__(self, name):  # every other callback event: nothing to do
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)


def training_args(cls, out: Path, settings: dict, steps: int, **extra):
    return cls(output_dir=str(out), max_steps=steps, per_device_train_batch_size=1, gradient_accumulation_steps=1,
               learning_rate=1e-5, bf16=settings["cuda"], use_cpu=not settings["cuda"], report_to="none",
               save_strategy="no", logging_steps=10_000, gradient_checkpointing=settings["gradient_checkpointing"],
               optim=settings["optim"], seed=0, dataloader_num_workers=0, **extra)


def bench_sft(model, tok, settings: dict, out: Path) -> dict:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    s = settings["seq_len"]
    n = settings["warmup"] + settings["steps"]
    prompt = s // 4
    rows = [{"input_ids": [3 + (i * 7 + j) % (tok.vocab_size - 3) for j in range(s)],
             "assistant_masks": [0] * prompt + [1] * (s - prompt)} for i in range(n)]
    args = training_args(SFTConfig, out / "sft", settings, n, max_length=s, packing=settings["packing"])
    timer = StepTimer(settings["sync"])
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         callbacks=[timer])
    trainer.train()
    return summarise(timer.times[settings["warmup"]:], s, flops_per_token(model, s), settings)


def bench_simpo(model, tok, settings: dict, out: Path) -> dict:
    from datasets import Dataset

    from cyclebench.trainers.configs import IterativeSimPOConfig
    from cyclebench.trainers.simpo import build_trainer

    s = settings["seq_len"]
    n = settings["warmup"] + settings["steps"]
    p = s // 4

    def words(k, seed):
        return " ".join(f"w{3 + (seed * 13 + j) % (tok.vocab_size - 3)}" for j in range(k))

    # BOS + prompt (p) + completion (s - p - 2) + EOS = s tokens on each side; the completion starts with a
    # space so that prompt + completion splits into the same words
    pairs = [{"prompt": words(p, i), "chosen": " " + words(s - p - 2, i + 1), "rejected": " " + words(s - p - 2, i + 2)}
             for i in range(n)]
    args = training_args(IterativeSimPOConfig, out / "simpo", settings, n, max_length=s, beta=2.5,
                         simpo_gamma=1.375, cpo_alpha=1.0)
    timer = StepTimer(settings["sync"])
    trainer = build_trainer(model, args, Dataset.from_list(pairs), tok)
    trainer.add_callback(timer)
    trainer.train()
    # chosen + rejected: two sequences of s tokens per step
    return summarise(timer.times[settings["warmup"]:], 2 * s, flops_per_token(model, s), settings)


def bench_raw(model, settings: dict, sequences: int) -> dict:
    """The baseline: forward, completion-token cross-entropy, backward, AdamW, on ``sequences`` rows of s tokens."""
    import torch

    s = settings["seq_len"]
    device = next(model.parameters()).device
    ids = torch.randint(3, model.config.vocab_size, (sequences, s), device=device)
    labels = ids.clone()
    labels[:, : s // 4] = -100
    if settings["gradient_checkpointing"]:
        model.gradient_checkpointing_enable()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=settings["cuda"])
    times = []
    for step in range(settings["warmup"] + settings["steps"]):
        settings["sync"]()
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        settings["sync"]()
        if step >= settings["warmup"]:
            times.append(time.perf_counter() - start)
    del opt
    if settings["gradient_checkpointing"]:
        model.gradient_checkpointing_disable()
    return summarise(times, sequences * s, flops_per_token(model, s), settings)


def summarise(times: list[float], tokens_per_step: int, fpt: float, settings: dict) -> dict:
    step = statistics.median(times)
    tps = tokens_per_step / step
    out = {"median_step_s": round(step, 4), "tokens_per_step": tokens_per_step, "tokens_per_s": round(tps, 1),
           "steps_timed": len(times)}
    if settings["peak_tflops"]:
        out["mfu"] = round(fpt * tps / (settings["peak_tflops"] * 1e12), 4)
    return out


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cuda = torch.cuda.is_available()
    parser.add_argument("--size", choices=sorted(SIZES), default="8b" if cuda else "small")
    parser.add_argument("--seq-len", type=int, default=4096 if cuda else 256)
    parser.add_argument("--steps", type=int, default=5 if cuda else 3)
    parser.add_argument("--warmup", type=int, default=2 if cuda else 1)
    parser.add_argument("--repeats", type=int, default=1 if cuda else 2, help="alternating repeats, best kept")
    parser.add_argument("--attn", default="sdpa", help="sdpa | flash_attention_2 | eager")
    parser.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=cuda,
                        help="default: on with a GPU (an 8B SimPO pair at 4K tokens needs it on one H200)")
    parser.add_argument("--packing", action="store_true", help="SFT packing (rows are already max_length long)")
    parser.add_argument("--optim", default="adamw_torch_fused" if cuda else "adamw_torch")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--write", type=Path, default=None, help="add the results to this markdown file")
    parser.add_argument("--json", type=Path, default=None, help="also write the record as JSON here")
    args = parser.parse_args()

    gpu = torch.cuda.get_device_name(0) if cuda else None
    peak = args.peak_tflops or (next((v for k, v in PEAK_TFLOPS.items() if gpu and k in gpu), None) if cuda else None)
    settings = {"cuda": cuda, "seq_len": args.seq_len, "steps": args.steps, "warmup": args.warmup,
                "gradient_checkpointing": args.gradient_checkpointing, "packing": args.packing, "optim": args.optim,
                "peak_tflops": peak, "sync": torch.cuda.synchronize if cuda else (lambda: None)}
    dtype = torch.bfloat16 if cuda else torch.float32
    device = "cuda" if cuda else "cpu"
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tok = word_tokenizer(SIZES[args.size]["vocab_size"], tmp / "tok")
        for kind, run, sequences in (("sft", bench_sft, 1), ("simpo", bench_simpo, 2)):
            # trainer and raw alternate, ``--repeats`` times each; the faster of each is kept, so a burst of
            # load from other jobs on a shared machine does not land on one side only
            for _ in range(args.repeats):
                for which in ("trainer", "raw"):
                    model = make_model(args.size, args.attn, device, dtype)
                    got = run(model, tok, settings, tmp) if which == "trainer" else bench_raw(model, settings, sequences)
                    key = f"{kind}_{which}"
                    if key not in results or got["median_step_s"] < results[key]["median_step_s"]:
                        results[key] = got
                    del model
                    if cuda:
                        torch.cuda.empty_cache()
        model = make_model(args.size, args.attn, "meta", dtype)
        params = sum(p.numel() for p in model.parameters())
    for kind in ("sft", "simpo"):
        t, r = results[f"{kind}_trainer"], results[f"{kind}_raw"]
        results[f"{kind}_trainer_over_raw_time"] = round(t["median_step_s"] / r["median_step_s"], 3)
    record = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "gpu": gpu, "torch": torch.__version__, "peak_tflops": peak,
                    "load_average_1min": round(os.getloadavg()[0], 2)},
        "settings": {"size": args.size, "parameters": params, "seq_len": args.seq_len, "dtype": str(dtype),
                     "attn": args.attn, "gradient_checkpointing": args.gradient_checkpointing,
                     "packing": args.packing, "optim": args.optim, "batch": "1 sequence (SFT) / 1 pair (SimPO)",
                     "steps_timed": args.steps, "warmup_steps": args.warmup, "repeats": args.repeats},
        "results": results,
    }
    print(json.dumps(record, indent=2))
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if args.write:
        write_markdown(args.write, record)


def write_markdown(path: Path, record: dict) -> None:
    m, s, r = record["machine"], record["settings"], record["results"]
    day = time.strftime("%Y-%m-%d")
    where = m["gpu"] or f"CPU only, {m['cpus']} cores"
    lines = [f"## {day} - {where}, {m['platform']}, torch {m['torch']}", "",
             f"- load average (1 min) when the run ended: {m['load_average_1min']} (other jobs share this machine)"]
    if not m["gpu"]:
        lines += ["- **No GPU was available** for this run: the figures below are a CPU run of a small model and",
                  "  say nothing about GPU throughput. **The 40% MFU goal for an 8B-class SFT step was not measured.**",
                  "  On a GPU machine run: `python benchmarks/bench_trainers.py --write benchmarks/RESULTS_trainers.md`",
                  "  (defaults there: Llama-3.1-8B shapes, bf16, 4,096-token sequences, gradient checkpointing, fused AdamW)."]
    lines += [f"- model: {s['size']} ({s['parameters'] / 1e6:,.1f} M parameters, random weights), {s['dtype']}, "
              f"attention `{s['attn']}`, gradient checkpointing {'on' if s['gradient_checkpointing'] else 'off'}, "
              f"packing {'on' if s['packing'] else 'off'}, optimizer `{s['optim']}`",
              f"- sequence length {s['seq_len']}, batch {s['batch']}, median of {s['steps_timed']} steps after "
              f"{s['warmup_steps']} warm-up steps, best of {s['repeats']} alternating repeats", "",
              "| step | tokens/step | median step (s) | tokens/s | MFU | trainer / raw time |",
              "|---|---|---|---|---|---|"]
    for kind in ("sft", "simpo"):
        for which in ("trainer", "raw"):
            row = r[f"{kind}_{which}"]
            mfu = f"{row['mfu']:.1%}" if "mfu" in row else "not measured (no GPU)"
            ratio = f"{r[f'{kind}_trainer_over_raw_time']:.2f}" if which == "trainer" else "1 (baseline)"
            lines.append(f"| {kind} {which} | {row['tokens_per_step']} | {row['median_step_s']} | "
                         f"{row['tokens_per_s']:,.0f} | {mfu} | {ratio} |")
    lines += ["", "(raw = plain PyTorch forward / cross-entropy / backward / AdamW on the same shapes; "
              "SimPO steps process chosen and rejected, two sequences per pair.)", ""]
    text = path.read_text(encoding="utf-8") if path.is_file() else (
        "# Trainer throughput\n\nWritten by `benchmarks/bench_trainers.py` (see its docstring for the FLOPs "
        "formula and the baseline). Newest run first.\n\n")
    head, sep, rest = text.partition("\n## ")
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines) + ("\n## " + rest if sep else ""), encoding="utf-8")


if __name__ == "__main__":
    main()
