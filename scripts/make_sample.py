#!/usr/bin/env python3
"""Write the embedded default sample ``cyclebench/samples/iclr_sample/``.

The sample is synthetic: 40 invented ICLR-2025-style submissions in the raw OpenReview API v2 shape
(``client.get_all_notes(invitation="ICLR.cc/2025/Conference/-/Submission", details="directReplies")``, one
submission per line with its replies in ``details.directReplies``), plus a short invented markdown paper for
each. Every title, author, review and decision is made up by this script. Nothing is copied from OpenReview or
from any corpus.

Deterministic: the script uses only the standard library and its own seeded integer PRNG (splitmix64), with no
``random``, hash-ordered sets or floating-point transcendental functions. Running it again gives byte-identical
files on any platform and Python version.

    python scripts/make_sample.py            # (re)write the sample
    python scripts/make_sample.py --check    # exit 1 if the files on disk differ from what would be written
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

SEED = 20250122
OUT = Path(__file__).resolve().parent.parent / "cyclebench" / "samples" / "iclr_sample"

CONF = "ICLR.cc/2025/Conference"
EDIT = CONF + "/-/Edit"
N_PAPERS = 40
N_ACCEPT = 14  # 35% of 40
N_WITHDRAWN = 3
N_NO_DECISION_NOTES = 3  # decided papers whose decision is only in venueid (no Meta_Review / Decision reply)
RATING_SCALE = (1, 3, 5, 6, 8, 10)
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
DAY = 86_400_000

# Dates (ms since epoch, UTC) of the ICLR 2025 cycle.
T_SUBMIT = 1_727_400_000_000  # 2024-09-27
T_OPEN = 1_727_827_200_000  # 2024-10-02, odate
T_REVIEW = 1_730_160_000_000  # 2024-10-29
T_REBUTTAL = 1_731_628_800_000  # 2024-11-15
T_META = 1_734_048_000_000  # 2024-12-13
T_DECISION = 1_737_523_200_000  # 2025-01-22
T_CAMERA = 1_740_787_200_000  # 2025-03-01


class Rng:
    """splitmix64: small, fast and fully specified, so the sample never depends on ``random``'s internals."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """Uniform integer in [0, n) (rejection sampling, no modulo bias)."""
        if n <= 0:
            raise ValueError(n)
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            x = self.next64()
            if x < limit:
                return x % n

    def randint(self, a: int, b: int) -> int:
        return a + self.below(b - a + 1)

    def chance(self, num: int, den: int) -> bool:
        return self.below(den) < num

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def shuffle(self, items: list) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]

    def sample(self, seq, k: int) -> list:
        pool = list(seq)
        self.shuffle(pool)
        return pool[:k]

    def noise(self, spread: int) -> int:
        """Integer noise in [-spread, spread] shaped like a bell (sum of two uniforms)."""
        return self.randint(-spread, spread) + self.randint(-spread, spread)


# --------------------------------------------------------------------------------------------------- topic bank
# Every topic is invented from generic ML vocabulary; method names are made up.
TOPICS = [
    {
        "area": "generative models",
        "keywords": ["diffusion models", "generative modeling", "sampling"],
        "problem": "slow sampling in diffusion models",
        "object": "diffusion models",
        "task": "Fast Diffusion Sampling",
        "method": "a learned step-size schedule distilled from a teacher sampler",
        "Method": "Distilled Step Schedules",
        "idea": "the step sizes of the solver can be predicted from the current noise level and image statistics",
        "data": ["CIFAR-10", "ImageNet 64x64", "LSUN Bedroom", "FFHQ"],
        "metric": "FID",
        "lower_better": True,
        "base": ["DDIM", "DPM-Solver++", "consistency distillation", "progressive distillation"],
        "hp": "the number of function evaluations",
        "other": "video or audio diffusion models",
    },
    {
        "area": "foundation or frontier models, including LLMs",
        "keywords": ["large language models", "reasoning", "self-verification"],
        "problem": "unreliable multi-step reasoning in large language models",
        "object": "large language models",
        "task": "Reliable Multi-Step Reasoning",
        "method": "a verifier-guided decoding scheme that scores partial reasoning chains",
        "Method": "Verifier-Guided Decoding",
        "idea": "a small verifier trained on synthetic errors can rank partial chains before they go wrong",
        "data": ["GSM8K", "MATH", "StrategyQA", "ARC-Challenge"],
        "metric": "accuracy",
        "lower_better": False,
        "base": ["self-consistency", "best-of-n sampling", "chain-of-thought prompting", "tree search with a value model"],
        "hp": "the verifier size",
        "other": "code generation",
    },
    {
        "area": "reinforcement learning",
        "keywords": ["offline reinforcement learning", "value estimation", "conservatism"],
        "problem": "value overestimation in offline reinforcement learning",
        "object": "offline reinforcement learning agents",
        "task": "Offline Reinforcement Learning",
        "method": "an uncertainty-weighted Bellman backup that shrinks targets on out-of-distribution actions",
        "Method": "Uncertainty-Weighted Backups",
        "idea": "the disagreement of a small critic ensemble is a good proxy for distribution shift",
        "data": ["D4RL locomotion", "D4RL AntMaze", "Adroit", "NeoRL"],
        "metric": "normalized return",
        "lower_better": False,
        "base": ["CQL", "IQL", "TD3+BC", "EDAC"],
        "hp": "the ensemble size",
        "other": "online fine-tuning",
    },
    {
        "area": "learning on graphs and other geometries & topologies",
        "keywords": ["graph neural networks", "over-squashing", "rewiring"],
        "problem": "over-squashing in message-passing neural networks",
        "object": "graph neural networks",
        "task": "Long-Range Message Passing",
        "method": "a spectral rewiring step that adds a few long-range edges before training",
        "Method": "Spectral Shortcut Rewiring",
        "idea": "edges that increase the spectral gap the most can be found greedily in near-linear time",
        "data": ["ZINC", "Peptides-func", "ogbn-arxiv", "Roman-empire"],
        "metric": "accuracy",
        "lower_better": False,
        "base": ["GCN", "GIN", "graph transformers", "curvature-based rewiring"],
        "hp": "the number of added edges",
        "other": "heterophilous graphs",
    },
    {
        "area": "optimization",
        "keywords": ["optimization", "adaptive methods", "large-batch training"],
        "problem": "instability of adaptive optimizers at large batch sizes",
        "object": "adaptive optimizers",
        "task": "Large-Batch Training",
        "method": "a layer-wise trust ratio computed from second-moment estimates",
        "Method": "Second-Moment Trust Ratios",
        "idea": "the second-moment statistics already tracked by Adam predict when a layer update is too large",
        "data": ["ImageNet", "C4 language modelling", "CIFAR-100", "WMT14 En-De"],
        "metric": "validation loss",
        "lower_better": True,
        "base": ["AdamW", "LAMB", "Lion", "Adafactor"],
        "hp": "the warm-up length",
        "other": "reinforcement learning from human feedback",
    },
    {
        "area": "interpretability and explainable AI",
        "keywords": ["interpretability", "sparse autoencoders", "features"],
        "problem": "finding human-interpretable features in neural network activations",
        "object": "transformer language models",
        "task": "Interpretable Features in Language Models",
        "method": "a sparse autoencoder with a learned per-feature threshold",
        "Method": "Thresholded Sparse Autoencoders",
        "idea": "a learned threshold removes the shrinkage bias of the L1 penalty",
        "data": ["a 1B-parameter language model", "a vision transformer", "OpenWebText activations", "a protein language model"],
        "metric": "reconstruction loss",
        "lower_better": True,
        "base": ["ReLU sparse autoencoders", "top-k sparse autoencoders", "linear probes", "PCA"],
        "hp": "the dictionary size",
        "other": "multimodal models",
    },
    {
        "area": "alignment, fairness, safety, privacy, and societal considerations",
        "keywords": ["differential privacy", "federated learning", "fine-tuning"],
        "problem": "the utility cost of differentially private fine-tuning",
        "object": "privately fine-tuned models",
        "task": "Differentially Private Fine-Tuning",
        "method": "a low-rank gradient projection that concentrates the privacy budget on informative directions",
        "Method": "Private Low-Rank Projection",
        "idea": "public pretraining data reveals a low-dimensional subspace that contains most of the useful gradient signal",
        "data": ["SST-2", "QNLI", "CIFAR-10", "a federated EMNIST split"],
        "metric": "accuracy",
        "lower_better": False,
        "base": ["DP-SGD", "DP-LoRA", "DP-Adam", "public-data pretraining"],
        "hp": "the privacy budget epsilon",
        "other": "generative models",
    },
    {
        "area": "unsupervised, self-supervised, semi-supervised, and supervised representation learning",
        "keywords": ["self-supervised learning", "vision", "joint embedding"],
        "problem": "dimensional collapse in joint-embedding self-supervised learning",
        "object": "self-supervised vision encoders",
        "task": "Collapse-Free Self-Supervised Learning",
        "method": "a whitening-free spectral regulariser on the embedding covariance",
        "Method": "Spectral Spread Regularisation",
        "idea": "penalising the decay of the covariance spectrum prevents collapse without whitening",
        "data": ["ImageNet-1k", "CIFAR-100", "iNaturalist", "COCO"],
        "metric": "linear-probe accuracy",
        "lower_better": False,
        "base": ["SimCLR", "VICReg", "BYOL", "Barlow Twins"],
        "hp": "the regularisation weight",
        "other": "video representation learning",
    },
    {
        "area": "learning on time series and dynamical systems",
        "keywords": ["time series", "forecasting", "state-space models"],
        "problem": "long-horizon forecasting of multivariate time series",
        "object": "time-series forecasters",
        "task": "Long-Horizon Time-Series Forecasting",
        "method": "a state-space model with input-dependent decay and channel mixing",
        "Method": "Selective Channel-Mixing SSM",
        "idea": "letting the decay depend on the input recovers both seasonal and abrupt patterns",
        "data": ["ETTh1", "Electricity", "Traffic", "Weather"],
        "metric": "MSE",
        "lower_better": True,
        "base": ["PatchTST", "DLinear", "iTransformer", "S4"],
        "hp": "the look-back window",
        "other": "irregularly sampled time series",
    },
    {
        "area": "applications to physical sciences (physics, chemistry, biology, etc.)",
        "keywords": ["protein design", "equivariance", "generative models"],
        "problem": "generating designable protein backbones",
        "object": "protein structure generators",
        "task": "Protein Backbone Generation",
        "method": "an SE(3)-equivariant flow-matching model over residue frames",
        "Method": "Frame Flow Matching",
        "idea": "flow matching on the product of rotation and translation groups is simpler than diffusion on it",
        "data": ["CATH", "the PDB", "SCOPe", "a de novo design benchmark"],
        "metric": "designability",
        "lower_better": False,
        "base": ["RFdiffusion", "FrameDiff", "Chroma", "Genie"],
        "hp": "the number of integration steps",
        "other": "protein-ligand complexes",
    },
    {
        "area": "learning theory",
        "keywords": ["generalization", "learning theory", "overparameterization"],
        "problem": "explaining benign overfitting in two-layer networks",
        "object": "overparameterized two-layer networks",
        "task": "Benign Overfitting in Two-Layer Networks",
        "method": "a margin-based generalisation bound that depends on the feature-learning phase",
        "Method": "Phase-Aware Margin Bounds",
        "idea": "the early feature-learning phase fixes a data-dependent norm that controls later overfitting",
        "data": ["synthetic Gaussian mixtures", "MNIST", "CIFAR-10 binary tasks", "a sparse parity task"],
        "metric": "test error",
        "lower_better": True,
        "base": ["NTK bounds", "norm-based bounds", "PAC-Bayes bounds", "compression bounds"],
        "hp": "the label-noise rate",
        "other": "deep networks",
    },
    {
        "area": "causal reasoning",
        "keywords": ["causal discovery", "interventions", "structure learning"],
        "problem": "causal discovery from a mix of observational and interventional data",
        "object": "causal structure learners",
        "task": "Causal Discovery with Unknown Interventions",
        "method": "a differentiable score that weights each intervention by its estimated target set",
        "Method": "Target-Aware Differentiable Discovery",
        "idea": "unknown intervention targets can be inferred jointly with the graph",
        "data": ["synthetic Erdos-Renyi graphs", "the Sachs protein network", "a gene-perturbation screen", "scale-free graphs"],
        "metric": "structural Hamming distance",
        "lower_better": True,
        "base": ["NOTEARS", "GIES", "DCDI", "PC"],
        "hp": "the graph density",
        "other": "latent confounders",
    },
    {
        "area": "applications to robotics, autonomy, planning",
        "keywords": ["robot learning", "imitation learning", "diffusion policies"],
        "problem": "data-efficient visuomotor imitation learning",
        "object": "robot manipulation policies",
        "task": "Data-Efficient Visuomotor Imitation",
        "method": "a diffusion policy conditioned on object-centric keypoints",
        "Method": "Keypoint Diffusion Policies",
        "idea": "keypoints provide a compact state that transfers across camera viewpoints",
        "data": ["RoboMimic", "a real-robot pouring task", "Franka Kitchen", "MetaWorld"],
        "metric": "success rate",
        "lower_better": False,
        "base": ["behaviour cloning", "diffusion policy", "ACT", "implicit behaviour cloning"],
        "hp": "the number of keypoints",
        "other": "mobile manipulation",
    },
    {
        "area": "probabilistic methods (Bayesian methods, variational inference, sampling, UQ, etc.)",
        "keywords": ["uncertainty quantification", "Laplace approximation", "Bayesian deep learning"],
        "problem": "cheap and calibrated uncertainty for large neural networks",
        "object": "Bayesian deep learning methods",
        "task": "Calibrated Uncertainty in Large Models",
        "method": "a subspace Laplace approximation restricted to adapter weights",
        "Method": "Adapter Laplace",
        "idea": "the posterior over a few adapter parameters captures most of the predictive uncertainty",
        "data": ["CIFAR-10-C", "ImageNet-R", "MMLU", "a molecular property benchmark"],
        "metric": "expected calibration error",
        "lower_better": True,
        "base": ["deep ensembles", "MC dropout", "last-layer Laplace", "SWAG"],
        "hp": "the prior precision",
        "other": "sequential decision making",
    },
    {
        "area": "infrastructure, software libraries, hardware, systems, etc.",
        "keywords": ["quantization", "efficient inference", "large language models"],
        "problem": "accuracy loss of 4-bit weight quantization",
        "object": "quantized language models",
        "task": "Accurate 4-bit Quantization",
        "method": "a rotation-based outlier smoothing step applied before rounding",
        "Method": "Rotated Outlier Smoothing",
        "idea": "a random orthogonal rotation spreads activation outliers evenly across channels",
        "data": ["WikiText-2", "C4", "zero-shot commonsense tasks", "MMLU"],
        "metric": "perplexity",
        "lower_better": True,
        "base": ["GPTQ", "AWQ", "SmoothQuant", "round-to-nearest"],
        "hp": "the group size",
        "other": "activation quantization",
    },
    {
        "area": "datasets and benchmarks",
        "keywords": ["benchmark", "evaluation", "data contamination"],
        "problem": "contamination-resistant evaluation of language models",
        "object": "language-model benchmarks",
        "task": "Contamination-Resistant Evaluation",
        "method": "a benchmark that is regenerated from templates every month",
        "Method": "A Rolling Benchmark",
        "idea": "templated items with fresh parameters cannot be memorised from pretraining data",
        "data": ["arithmetic word problems", "date reasoning", "code tracing", "table lookup"],
        "metric": "accuracy",
        "lower_better": False,
        "base": ["static test sets", "canary strings", "held-out rewrites", "dynamic evaluation"],
        "hp": "the template difficulty",
        "other": "multimodal evaluation",
    },
    {
        "area": "transfer learning, meta learning, and lifelong learning",
        "keywords": ["continual learning", "catastrophic forgetting", "adapters"],
        "problem": "catastrophic forgetting in class-incremental learning",
        "object": "continual learners",
        "task": "Class-Incremental Learning",
        "method": "a per-task low-rank adapter with a training-free task router",
        "Method": "Routed Low-Rank Adapters",
        "idea": "a nearest-mean router over frozen features identifies the task without replay",
        "data": ["Split CIFAR-100", "ImageNet-R", "CORe50", "DomainNet"],
        "metric": "average accuracy",
        "lower_better": False,
        "base": ["EWC", "experience replay", "L2P", "CODA-Prompt"],
        "hp": "the adapter rank",
        "other": "task-free continual learning",
    },
    {
        "area": "applications to computer vision, audio, language, and other modalities",
        "keywords": ["speech recognition", "self-supervised learning", "low-resource languages"],
        "problem": "speech recognition for low-resource languages",
        "object": "speech recognisers",
        "task": "Low-Resource Speech Recognition",
        "method": "a phoneme-aware continued pretraining stage on untranscribed audio",
        "Method": "Phoneme-Aware Continued Pretraining",
        "idea": "a universal phone recogniser supplies cheap pseudo-targets for the new language",
        "data": ["FLEURS", "Common Voice", "a 10-hour Swahili set", "BABEL"],
        "metric": "word error rate",
        "lower_better": True,
        "base": ["wav2vec 2.0", "XLS-R", "Whisper fine-tuning", "HuBERT"],
        "hp": "the amount of untranscribed audio",
        "other": "speech translation",
    },
    {
        "area": "alignment, fairness, safety, privacy, and societal considerations",
        "keywords": ["alignment", "reward modeling", "RLHF"],
        "problem": "reward over-optimisation in reinforcement learning from human feedback",
        "object": "RLHF pipelines",
        "task": "Robust Reward Optimisation in RLHF",
        "method": "an ensemble of reward models with a lower-confidence-bound objective",
        "Method": "Pessimistic Reward Ensembles",
        "idea": "optimising a lower confidence bound of the reward discourages exploiting reward-model errors",
        "data": ["Anthropic HH", "TL;DR summarisation", "AlpacaFarm", "UltraFeedback"],
        "metric": "gold reward",
        "lower_better": False,
        "base": ["PPO with a single reward model", "DPO", "KL-regularised best-of-n", "reward-model averaging"],
        "hp": "the ensemble size",
        "other": "multi-objective alignment",
    },
    {
        "area": "neurosymbolic & hybrid AI systems (physics-informed, logic & formal reasoning, etc.)",
        "keywords": ["physics-informed learning", "neural operators", "PDEs"],
        "problem": "training instability of physics-informed neural networks",
        "object": "physics-informed neural networks",
        "task": "Stable Physics-Informed Training",
        "method": "a curriculum over PDE coefficients combined with causal residual weighting",
        "Method": "Causal Coefficient Curricula",
        "idea": "solving easy coefficient regimes first gives a good initialisation for stiff regimes",
        "data": ["convection", "reaction-diffusion", "Allen-Cahn", "Navier-Stokes"],
        "metric": "relative L2 error",
        "lower_better": True,
        "base": ["vanilla PINNs", "causal PINNs", "Fourier neural operators", "adaptive sampling"],
        "hp": "the curriculum length",
        "other": "inverse problems",
    },
]

FIRST = ["Ana", "Ben", "Chiara", "Daniel", "Elif", "Fatima", "Gabriel", "Hana", "Ivan", "Jun", "Kwame", "Laura",
         "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tomoko", "Uma", "Victor", "Wen", "Ximena",
         "Yusuf", "Zoe", "Ren\u00e9e", "Jos\u00e9", "Bj\u00f6rn", "Ana\u00efs"]
LAST = ["Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Haddad", "Ito", "Jansen", "Kowalski",
        "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Santos", "Tanaka", "Uddin",
        "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "M\u00fcller", "N\u00fa\u00f1ez", "Ch\u00e1vez", "\u00d6zt\u00fcrk"]
NAME_PARTS = ["Ar", "Bel", "Cor", "Dex", "El", "Fin", "Gal", "Hel", "Ix", "Jun", "Kor", "Lum", "Mer", "Nov", "Or",
              "Pax", "Quil", "Ros", "Syl", "Tor", "Ul", "Vex", "Wyn", "Zel"]
NAME_ENDS = ["a", "o", "is", "ix", "on", "er", "us", "ia", "et", "um"]
VENUES = ["NeurIPS", "ICML", "ICLR", "AISTATS", "CVPR", "ACL", "JMLR", "TMLR", "UAI", "COLT"]

TITLE_FORMS = [
    "{Name}: {Method} for {Task}",
    "{Method} for {Task}",
    "Towards Reliable {Object}: {Method}",
    "{Name}: Rethinking {Task}",
    "On {Task}: A Simple Fix with {Method}",
    "When Do {Object} Fail? {Method} as a Remedy",
]
SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"}


def title_case(text: str) -> str:
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        if i > 0 and w in SMALL_WORDS:
            out.append(w)
        elif w[:1].islower():
            out.append(w[:1].upper() + w[1:])
        else:
            out.append(w)
    return " ".join(out)


# ------------------------------------------------------------------------------------------------ review text bank
# Tone follows the rating: "neg" for 1/3, "mid" for 5/6, "pos" for 8/10.
STRENGTHS = {
    "pos": [
        "The paper is clearly written and easy to follow; the figures are informative.",
        "The idea is novel and well motivated, and the connection to {b1} is explained well.",
        "The experiments are thorough, covering {d0}, {d1} and {d2} with multiple seeds.",
        "The improvements over {b0} and {b1} are substantial and consistent across settings.",
        "The ablations convincingly isolate the contribution of each component.",
        "The analysis gives real insight into why {idea}.",
        "Code is provided and the results look reproducible.",
        "I expect this to become a strong baseline for {problem}.",
    ],
    "mid": [
        "The problem of {problem} is relevant to the community.",
        "The method is simple and easy to implement on top of {b0}.",
        "Some of the results on {d0} are promising.",
        "The writing is mostly clear.",
        "The paper compares against a reasonable set of baselines, including {b1}.",
        "The observation that {idea} is interesting.",
    ],
    "neg": [
        "The problem of {problem} is important.",
        "The paper is reasonably organised.",
        "The authors include some code in the supplementary material.",
        "The motivation in the introduction is reasonable.",
    ],
}
WEAKNESSES = {
    "pos": [
        "Minor: some figures are hard to read in grayscale.",
        "The related work section could discuss {b2} in more detail.",
        "It would be good to report the wall-clock cost relative to {b0}.",
        "A few typos remain, e.g. in Section 3.",
        "The limitations section is short; failure cases on {d2} would be informative.",
    ],
    "mid": [
        "The novelty over {b1} is somewhat limited; the main difference should be stated more precisely.",
        "The experiments are restricted to {d0} and {d1}; it is unclear whether the gains transfer to larger settings.",
        "Several hyper-parameters appear to be tuned per dataset, and the tuning protocol for {b0} is not described.",
        "The improvements are modest and within one standard deviation on some tasks.",
        "The theoretical motivation relies on assumptions that are not discussed.",
        "The sensitivity to {hp} is not studied.",
    ],
    "neg": [
        "The main claim is not supported by the experiments: the gains over {b0} vanish once the baseline is tuned properly.",
        "The novelty is very limited; the method is essentially {b1} with a minor modification.",
        "Important baselines such as {b2} and {b3} are missing.",
        "The paper is hard to follow and key details of the method are missing, so the results cannot be reproduced.",
        "The theoretical result appears to be incorrect: the bound in Theorem 1 does not hold without additional assumptions.",
        "Only a single seed is reported and no error bars are given, so the results are not convincing.",
        "The evaluation is limited to small-scale settings and does not support the general claims in the abstract.",
    ],
}
OVERALL = {
    "pos": [
        "Overall, this is a strong paper and I recommend acceptance.",
        "Overall, a convincing and well-executed contribution.",
    ],
    "mid": [
        "Overall, the paper is borderline in its current form.",
        "Overall, interesting but the evidence is not yet fully convincing.",
    ],
    "neg": [
        "Overall, the paper is not ready for publication at ICLR.",
        "Overall, the weaknesses clearly outweigh the strengths.",
    ],
}
QUESTIONS = [
    "How sensitive is the method to {hp}?",
    "Could you report results on {d3}?",
    "How does the method compare to {b3} under the same compute budget?",
    "What is the computational overhead compared to {b0}?",
    "Does the approach apply to {other}?",
    "Are there settings in which the key observation (that {idea}) fails, and what happens then?",
    "Were the baselines re-run with the same tuning budget?",
]
SUMMARY_FORMS = [
    "This paper addresses {problem}. It proposes {method}, based on the observation that {idea}. "
    "Experiments on {d0} and {d1} compare against {b0} and {b1}.",
    "The authors study {problem} and introduce {Method}, {method}. The key claim is that {idea}. "
    "The method is evaluated on {d0}, {d1} and {d2}.",
    "The submission proposes {method} for {object}. The motivation is that {idea}. "
    "Results are reported on {d0} and {d1}, with {metric} as the main metric.",
]
UPDATES = {
    "up": "Update after the rebuttal: the authors added the missing comparison with {b2} and results on {d3}. "
          "My main concerns are addressed and I have raised my score.",
    "up2": "Second update: after the discussion with the other reviewers and the new ablation on {hp}, "
           "I raise my score once more.",
    "down": "Update after the discussion: on closer inspection the gains over {b0} are within noise on {d1}; "
            "I have lowered my score.",
}


def level(rating: int) -> str:
    return "neg" if rating <= 3 else ("mid" if rating <= 6 else "pos")


def fill(text: str, ctx: dict) -> str:
    return text.format(**ctx)


# ------------------------------------------------------------------------------------------------ note builders
def wrap(content: dict) -> dict:
    return {k: {"value": v} for k, v in content.items()}


def reply(note_id, forum, invitations, content, cdate, tmdate, signature, number, parent, writers=None,
          nonreaders=True):
    note = {"content": wrap(content), "id": note_id, "forum": forum, "replyto": forum, "signatures": [signature]}
    if nonreaders:
        note["nonreaders"] = []
    note["readers"] = ["everyone"]
    note["writers"] = writers if writers is not None else [CONF, signature]
    note["number"] = number
    note["invitations"] = invitations
    note["domain"] = CONF
    note["tcdate"] = cdate
    note["cdate"] = cdate
    note["tmdate"] = tmdate
    note["mdate"] = tmdate
    note["parentInvitations"] = parent
    note["license"] = "CC BY 4.0"
    note["version"] = 2
    return note


class Ids:
    def __init__(self, rng: Rng) -> None:
        self.rng = rng
        self.used: dict[str, None] = {}

    def new(self) -> str:
        while True:
            candidate = "".join(ID_ALPHABET[self.rng.below(len(ID_ALPHABET))] for _ in range(10))
            if candidate not in self.used:
                self.used[candidate] = None
                return candidate

    def short(self, n: int = 4) -> str:
        alnum = ID_ALPHABET[:62]
        return "".join(alnum[self.rng.below(len(alnum))] for _ in range(n))


def snap(value_x10: int) -> int:
    """Nearest rating on the 1/3/5/6/8/10 scale to value_x10 / 10 (ties go down)."""
    best = RATING_SCALE[0]
    for r in RATING_SCALE:
        if abs(r * 10 - value_x10) < abs(best * 10 - value_x10):
            best = r
    return best


def clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


# ------------------------------------------------------------------------------------------------ generation
def make_paper(rng: Rng, ids: Ids, index: int, topic: dict, titles: dict[str, None]) -> dict:
    ctx = dict(topic)
    data = rng.sample(topic["data"], 4)
    base = rng.sample(topic["base"], 4)
    for i in range(4):
        ctx[f"d{i}"] = data[i]
        ctx[f"b{i}"] = base[i]
    name = rng.choice(NAME_PARTS) + rng.choice(NAME_ENDS)
    name = name[0].upper() + name[1:]
    ctx["Name"] = name.upper() if rng.chance(1, 3) else name
    start = index + rng.below(len(TITLE_FORMS))
    for shift in range(len(TITLE_FORMS)):  # titles are unique
        form = TITLE_FORMS[(start + shift) % len(TITLE_FORMS)]
        title = form.format(Name=ctx["Name"], Method=topic["Method"], Task=topic["task"],
                            Object=title_case(topic["object"]))
        title = title[0].upper() + title[1:]
        if title not in titles:
            break
    titles[title] = None
    n_auth = rng.randint(2, 5)
    authors: list[str] = []
    while len(authors) < n_auth:
        a = rng.choice(FIRST) + " " + rng.choice(LAST)
        if a not in authors:
            authors.append(a)
    quality_x10 = rng.randint(28, 80)  # latent quality on the 1-10 scale, x10
    paper = {
        "id": ids.new(),
        "topic": topic,
        "ctx": ctx,
        "title": title,
        "authors": authors,
        "quality": quality_x10,
        "keywords": list(topic["keywords"]),
        "tldr": None,
    }
    sign = "reduces" if topic["lower_better"] else "improves"
    paper["abstract"] = (
        f"We study {topic['problem']}. Existing approaches such as {base[0]} and {base[1]} either require "
        f"substantial extra computation or fail when the setting shifts. We propose {name}, {topic['method']}. "
        f"Our approach rests on the observation that {topic['idea']}. On {data[0]}, {data[1]} and {data[2]}, "
        f"{name} {sign} {topic['metric']} compared with strong baselines, and ablations show which components matter."
    )
    if rng.chance(2, 3):
        paper["tldr"] = f"{name}: {topic['method']}, which {sign} {topic['metric']} on {data[0]} and {data[1]}."
    return paper


def review_content(rng: Rng, ctx: dict, rating: int | None, tone_rating: int, confidence: int,
                   update: str | None = None, updates: tuple[str, ...] = ()) -> dict:
    lv = level(tone_rating)
    n_s = {"pos": 4, "mid": 3, "neg": 2}[lv]
    n_w = {"pos": 2, "mid": 3, "neg": 4}[lv]
    strengths = rng.sample(STRENGTHS[lv], min(n_s, len(STRENGTHS[lv])))
    weaknesses = rng.sample(WEAKNESSES[lv], n_w)
    if lv != "pos" and rng.chance(1, 3):  # mixed reviews borrow a phrase from the next level up
        strengths.append(rng.choice(STRENGTHS["pos" if lv == "mid" else "mid"]))
    questions = rng.sample(QUESTIONS, rng.randint(2, 3))
    weak_text = "\n".join(f"{i + 1}. {fill(w, ctx)}" for i, w in enumerate(weaknesses))
    weak_text += "\n\n" + rng.choice(OVERALL[lv])
    for key in updates:
        weak_text += "\n\n" + fill(UPDATES[key], ctx)
    s_base = (tone_rating + 1) // 3  # 1..3
    content = {
        "summary": fill(rng.choice(SUMMARY_FORMS), ctx),
        "soundness": clamp(s_base + rng.randint(0, 1), 1, 4),
        "presentation": clamp(s_base + rng.randint(-1, 1), 1, 4),
        "contribution": clamp(s_base + rng.randint(-1, 0), 1, 4),
        "strengths": "\n".join(f"- {fill(s, ctx)}" for s in strengths),
        "weaknesses": weak_text,
        "questions": "\n".join(f"- {fill(q, ctx)}" for q in questions),
        "flag_for_ethics_review": ["No ethics review needed."],
    }
    if rating is not None:
        content["rating"] = rating
    content["confidence"] = confidence
    content["code_of_conduct"] = "Yes"
    return content


def build(rng: Rng) -> tuple[list[dict], dict[str, str], dict]:
    ids = Ids(rng)
    topics = [TOPICS[i % len(TOPICS)] for i in range(N_PAPERS)]
    rng.shuffle(topics)
    titles: dict[str, None] = {}
    papers = [make_paper(rng, ids, i, t, titles) for i, t in enumerate(topics)]
    numbers = rng.sample(range(100, 13500), N_PAPERS)
    for p, n in zip(papers, numbers):
        p["number"] = n

    desk = papers[rng.below(N_PAPERS)]
    desk["status"] = "desk_rejected"
    reviewed = [p for p in papers if p is not desk]

    # ratings: latent quality + per-reviewer noise, snapped to the 1/3/5/6/8/10 scale
    for p in reviewed:
        p["reviews"] = []
        for k in range(rng.randint(3, 5)):
            r = snap(p["quality"] + rng.noise(11))
            p["reviews"].append({"rating": r, "confidence": rng.randint(2, 5), "who": ids.short(),
                                 "id": ids.new(), "k": k + 1, "versions": None})
        p["mean_x100"] = sum(r["rating"] for r in p["reviews"]) * 100 // len(p["reviews"])

    # 3 withdrawn papers among the 8 lowest-rated
    lowest = sorted(reviewed, key=lambda p: (p["mean_x100"], p["id"]))[:8]
    for p in rng.sample(lowest, N_WITHDRAWN):
        p["status"] = "withdrawn"
    decided = [p for p in reviewed if "status" not in p]

    # 2 papers with one review edited twice (3 versions), 1 paper with an extra ratingless review
    edit_pool = [p for p in decided if 4 <= p["mean_x100"] // 100 <= 7]
    edited = rng.sample(edit_pool, 2)
    for j, p in enumerate(edited):
        fits = [r for r in p["reviews"] if (r["rating"] >= 5 if j == 0 else r["rating"] <= 8)] or p["reviews"]
        rv = fits[rng.below(len(fits))]
        final = rv["rating"]
        if j == 0:  # score goes up twice
            lower = [r for r in RATING_SCALE if r < final]
            first = lower[-2] if len(lower) >= 2 else (lower[-1] if lower else final)
            mid = lower[-1] if lower else final
            rv["versions"] = [(first, ()), (mid, ("up",)), (final, ("up", "up2"))]
        else:  # up, then down again after discussion
            higher = [r for r in RATING_SCALE if r > final]
            mid = higher[0] if higher else final
            rv["versions"] = [(final, ()), (mid, ("up",)), (final, ("up", "down"))]
        p["edited_review"] = rv["id"]
    p_noscore = rng.choice([p for p in decided if p not in edited])
    p_noscore["reviews"].append({"rating": None, "confidence": 2, "who": ids.short(), "id": ids.new(),
                                 "k": len(p_noscore["reviews"]) + 1, "versions": None})
    p_noscore["ratingless_review"] = p_noscore["reviews"][-1]["id"]
    for p in reviewed:
        rated = [r["rating"] for r in p["reviews"] if r["rating"] is not None]
        p["mean_x100"] = sum(rated) * 100 // len(rated)

    # decisions: rank by mean rating plus a little noise, accept the top N_ACCEPT
    ranked = sorted(decided, key=lambda p: (-(p["mean_x100"] + rng.noise(25)), p["id"]))
    for i, p in enumerate(ranked):
        if i < N_ACCEPT:
            p["status"] = "accept"
            p["presentation"] = "Oral" if i < 1 else ("Spotlight" if i < 4 else "Poster")
        else:
            p["status"] = "reject"
    for p in rng.sample(decided, N_NO_DECISION_NOTES):
        p["no_decision_notes"] = True

    notes = [submission_note(rng, ids, p) for p in papers]
    notes.sort(key=lambda n: n["id"])
    md = {p["id"]: paper_markdown(rng, p) for p in papers}
    return notes, md, {"papers": papers}


def submission_note(rng: Rng, ids: Ids, p: dict) -> dict:
    num = p["number"]
    forum = p["id"]
    ctx = p["ctx"]
    sub = f"{CONF}/Submission{num}"
    status = p["status"]
    replies: list[dict] = []
    t_sub = T_SUBMIT - rng.randint(0, 5) * DAY - rng.randint(0, 86_399_999)

    for rv in p.get("reviews", []):
        cdate = T_REVIEW + rng.randint(0, 9) * DAY + rng.randint(0, 86_399_999)
        sig = f"{sub}/Reviewer_{rv['who']}"
        inv = [f"{sub}/-/Official_Review"] + ([] if rng.chance(1, 25) else [EDIT])
        if rv["versions"]:
            tm = cdate
            versions = []
            for rating, updates in rv["versions"]:
                c = review_content(Rng(hash_seed(rv["id"])), ctx, rating, rating, rv["confidence"], None, updates)
                versions.append(reply(rv["id"], forum, inv, c, cdate, tm, sig, rv["k"],
                                      CONF + "/-/Official_Review"))
                tm += rng.randint(8, 12) * DAY + rng.randint(0, 86_399_999)
            order = [2, 0, 1] if p.get("edited_review") == rv["id"] and num % 2 else [0, 2, 1]
            replies.extend(versions[i] for i in order)
        else:
            tone = rv["rating"] if rv["rating"] is not None else 5
            c = review_content(rng, ctx, rv["rating"], tone, rv["confidence"])
            if rv["rating"] is None:
                c["weaknesses"] = ("I was assigned this paper late and could only skim it, so I do not give a "
                                   "score; please rely on the other reviews.\n\n" + c["weaknesses"])
            tm = cdate + (rng.randint(10, 20) * DAY if rng.chance(1, 4) else 0)
            replies.append(reply(rv["id"], forum, inv, c, cdate, tm, sig, rv["k"], CONF + "/-/Official_Review"))

    k = len(p.get("reviews", [])) + 1
    if status in ("accept", "reject", "withdrawn") and rng.chance(3, 5):
        for _ in range(rng.randint(1, 2)):
            t = T_REBUTTAL + rng.randint(0, 10) * DAY + rng.randint(0, 86_399_999)
            target = rng.choice(p["reviews"])
            text = (f"We thank Reviewer {target['who']} for the detailed feedback. Following the suggestions, we "
                    f"added a comparison with {ctx['b2']}, results on {ctx['d3']}, and a study of {ctx['hp']} "
                    f"(Appendix {'BCDE'[rng.below(4)]}).")
            replies.append(reply(ids.new(), forum, [f"{sub}/-/Official_Comment"],
                                 {"title": f"Response to Reviewer {target['who']}", "comment": text}, t, t,
                                 f"{sub}/Authors", k, CONF + "/-/Official_Comment", nonreaders=False))
            k += 1
        if rng.chance(1, 3):
            target = rng.choice(p["reviews"])
            t = T_REBUTTAL + 12 * DAY + rng.randint(0, 86_399_999)
            replies.append(reply(ids.new(), forum, [f"{sub}/-/Official_Comment"],
                                 {"title": "Thank you for the response",
                                  "comment": "Thank you for the clarifications; I have read the other reviews and "
                                             "the rebuttal."}, t, t,
                                 f"{sub}/Reviewer_{target['who']}", k, CONF + "/-/Official_Comment",
                                 nonreaders=False))
            k += 1

    if status == "withdrawn":
        t = T_REBUTTAL + rng.randint(0, 8) * DAY + rng.randint(0, 86_399_999)
        replies.append(reply(ids.new(), forum, [f"{sub}/-/Withdrawal"],
                             {"withdrawal_confirmation": "I have read and agree with the venue's withdrawal policy "
                                                         "on behalf of myself and my co-authors."},
                             t, t, f"{sub}/Authors", k, CONF + "/-/Withdrawal", writers=[CONF], nonreaders=False))
        p["t_final"] = t
    elif status == "desk_rejected":
        t = T_OPEN + rng.randint(3, 20) * DAY + rng.randint(0, 86_399_999)
        replies.append(reply(ids.new(), forum, [f"{sub}/-/Desk_Rejection"],
                             {"desk_reject_comments": rng.choice([
                                 "The submission exceeds the 10-page limit for the main text.",
                                 "The submission is not anonymised: the authors' names appear in the PDF metadata.",
                                 "The submission uses a modified style file."])},
                             t, t, f"{CONF}/Program_Chairs", 1, CONF + "/-/Desk_Rejection", writers=[CONF],
                             nonreaders=False))
        p["t_final"] = t
    elif not p.get("no_decision_notes"):
        ratings = sorted(r["rating"] for r in p["reviews"] if r["rating"] is not None)
        if status == "accept":
            verdict = rng.choice([
                "The reviewers agree that the contribution is solid and the rebuttal resolved the main concerns.",
                "The paper makes a clear and useful contribution; remaining concerns are minor.",
                "After the discussion, the reviewers converged on acceptance."])
            rec = f"Accept ({p['presentation']})"
        else:
            verdict = rng.choice([
                "The reviewers remain unconvinced that the gains are significant, and the novelty is limited.",
                "Important baselines are missing and the main claims are not sufficiently supported.",
                "Despite the rebuttal, the concerns about the evaluation were not resolved."])
            rec = "Reject"
        meta = (f"The paper proposes {ctx['method']} for {ctx['problem']}. Reviewer scores: "
                f"{', '.join(str(r) for r in ratings)}. {verdict}")
        t = T_META + rng.randint(0, 8) * DAY + rng.randint(0, 86_399_999)
        replies.append(reply(ids.new(), forum, [f"{sub}/-/Meta_Review", EDIT],
                             {"metareview": meta,
                              "additional_comments_on_reviewer_discussion": "The AC read the reviews, the rebuttal "
                                                                            "and the discussion."},
                             t, t, f"{sub}/Area_Chair_{ids.short()}", k, CONF + "/-/Meta_Review"))
        k += 1
        t = T_DECISION + rng.randint(0, 3_600_000)
        replies.append(reply(ids.new(), forum, [f"{sub}/-/Decision", EDIT],
                             {"title": "Paper Decision", "decision": rec}, t, t, f"{CONF}/Program_Chairs", k,
                             CONF + "/-/Decision", writers=[CONF]))

    # submission note
    authors = p["authors"]
    if status == "accept":
        venue, venueid = f"ICLR 2025 {p['presentation']}", CONF
    elif status == "reject":
        venue, venueid = "Submitted to ICLR 2025", CONF + "/Rejected_Submission"
    elif status == "withdrawn":
        venue, venueid = "ICLR 2025 Conference Withdrawn Submission", CONF + "/Withdrawn_Submission"
    else:
        venue, venueid = "ICLR 2025 Conference Desk Rejected Submission", CONF + "/Desk_Rejected_Submission"
    first_word = "".join(ch for ch in p["title"].split()[0].lower() if ch.isalnum())
    plain = unicodedata.normalize("NFKD", authors[0].split()[-1].lower())
    surname = "".join(ch for ch in plain if ch.isascii() and ch.isalnum()) or "anon"
    shown = ["Anonymous"] if status == "desk_rejected" else authors
    key = ("anonymous" if status == "desk_rejected" else surname) + "2025" + first_word
    if status == "accept":
        bib = ("@inproceedings{\n%s,\ntitle={%s},\nauthor={%s},\nbooktitle={The Thirteenth International Conference "
               "on Learning Representations},\nyear={2025},\nurl={https://openreview.net/forum?id=%s}\n}"
               % (key, p["title"], " and ".join(shown), forum))
    else:
        bib = ("@misc{\n%s,\ntitle={%s},\nauthor={%s},\nyear={2025},\nurl={https://openreview.net/forum?id=%s}\n}"
               % (key, p["title"], " and ".join(shown), forum))
    words = "".join(ch if ch.isalnum() or ch == " " else " " for ch in p["title"].lower()).split()
    content = {"title": p["title"], "authors": authors,
               "authorids": ["~" + a.replace(" ", "_") + str(1 + rng.below(3)) for a in authors],
               "keywords": p["keywords"]}
    if p["tldr"]:
        content["TLDR"] = p["tldr"]
    content["abstract"] = p["abstract"]
    content["primary_area"] = p["topic"]["area"]
    content["venue"] = venue
    content["venueid"] = venueid
    content["pdf"] = "/pdf/" + "".join("0123456789abcdef"[rng.below(16)] for _ in range(40)) + ".pdf"
    content["_bibtex"] = bib
    content["paperhash"] = (surname if status != "desk_rejected" else "anonymous") + "|" + "_".join(words)

    invitations = [CONF + "/-/Submission", CONF + "/-/Post_Submission", f"{sub}/-/Full_Submission"]
    if status in ("accept", "reject"):
        invitations.append(f"{sub}/-/Rebuttal_Revision")
    if status == "withdrawn":
        invitations.append(CONF + "/-/Withdrawn_Submission")
    if status == "desk_rejected":
        invitations.append(CONF + "/-/Desk_Rejected_Submission")
    invitations.append(EDIT)
    if status == "accept":
        invitations.append(f"{sub}/-/Camera_Ready_Revision")
        tmdate = T_CAMERA + rng.randint(0, 20) * DAY + rng.randint(0, 86_399_999)
    elif status == "reject":
        tmdate = T_DECISION + rng.randint(1, 30) * DAY + rng.randint(0, 86_399_999)
    else:
        tmdate = p["t_final"] + rng.randint(0, 3_600_000)

    note = {"content": wrap(content), "id": forum, "forum": forum, "license": "CC BY 4.0",
            "signatures": [f"{sub}/Authors"], "readers": ["everyone"], "writers": [CONF, f"{sub}/Authors"],
            "number": num, "odate": T_OPEN, "invitations": invitations, "domain": CONF,
            "tcdate": t_sub, "cdate": t_sub, "tmdate": tmdate, "mdate": tmdate}
    if status == "accept":
        note["pdate"] = T_DECISION + rng.randint(0, 86_399_999)
    note["version"] = 2
    note["details"] = {"directReplies": replies}
    return note


def hash_seed(text: str) -> int:
    """A stable 64-bit seed from a string (FNV-1a), so every version of an edited review shares its wording."""
    h = 0xCBF29CE484222325
    for b in text.encode("ascii"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ------------------------------------------------------------------------------------------------ markdown papers
INTRO = [
    "{Object_cap} are now used in a wide range of applications, yet {problem} remains a practical obstacle. "
    "Practitioners typically rely on {b0} or {b1}, which work well in the settings they were designed for but "
    "degrade when the data or the compute budget changes.",
    "A growing body of work has documented {problem}. The most common remedies, {b0} and {b1}, trade accuracy "
    "for robustness or require expensive tuning, and it is still unclear which ingredients actually matter.",
]
INTRO2 = [
    "In this paper we take a different route. Our starting point is the observation that {idea}. Building on it, "
    "we propose {Name}, {method}. {Name} adds little overhead and can be combined with existing pipelines.",
    "We argue that the key to {problem} is simpler than previously thought: {idea}. We turn this observation into "
    "{Name}, {method}, and study when and why it helps.",
]
CONTRIB = [
    "We identify and analyse the mechanism behind {problem}.",
    "We propose {Name}, {method}.",
    "We evaluate {Name} on {d0}, {d1} and {d2} against {b0}, {b1} and {b2}.",
    "We release code and configuration files for all experiments.",
    "We provide ablations that isolate each component of {Name}.",
]
RELATED = [
    "**{B0_cap} and variants.** {B0_cap} is the standard approach to {problem}. Several extensions improve its "
    "efficiency, but they inherit its sensitivity to {hp}.",
    "**{B1_cap}.** {B1_cap} addresses a related failure mode by changing the training objective. Our method is "
    "complementary and can be applied on top of it.",
    "**Analyses of {object}.** Prior analyses studied {object} mostly in small-scale settings; we extend them to "
    "{d0} and {d1}.",
]
METHOD = [
    "Let $x$ denote an input and $f_\\theta$ the model. {Name} augments the standard objective with a term that "
    "reflects the observation that {idea}. Concretely, we minimise $\\mathcal{{L}}(\\theta) = "
    "\\mathcal{{L}}_{{\\text{{task}}}}(\\theta) + \\lambda \\, \\mathcal{{R}}(\\theta)$, where $\\mathcal{{R}}$ "
    "is computed from quantities that are already available during training.",
    "The procedure has three steps. First, we estimate the relevant statistics on a small calibration set. "
    "Second, we apply {method}. Third, we train or fine-tune as usual. The additional cost is below 5% of a "
    "training step in all our experiments.",
    "**Why it works.** Under mild assumptions the regulariser upper-bounds the quantity that drives "
    "{problem}; Appendix A gives the derivation. In practice the bound is loose, but it predicts the right "
    "ranking of configurations.",
]
EXPER = [
    "**Setup.** We follow the standard protocols for {d0}, {d1} and {d2}. All methods share the same backbone "
    "and training budget, and we report the mean over three seeds.",
    "**Main results.** Table 1 reports {metric}. {Name} is best on every dataset. The gains are largest on "
    "{d1}, where {b0} is known to struggle.",
    "**Ablations.** Removing the regulariser recovers the baseline, and replacing the learned component by a "
    "fixed one loses about half of the improvement. Results are stable across a wide range of {hp}.",
]
CONCL = [
    "We presented {Name}, {method}, and showed that it mitigates {problem} across several benchmarks. "
    "A limitation is that our experiments are restricted to moderate scales; extending {Name} to {other} is "
    "an interesting direction for future work.",
    "{Name} is a simple and effective remedy for {problem}. We hope that the analysis in this paper helps "
    "practitioners decide when the extra step is worth it, and we plan to study {other} next.",
]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def paper_markdown(rng: Rng, p: dict) -> str:
    ctx = dict(p["ctx"])
    ctx["Name"] = p["ctx"]["Name"]
    ctx["Object_cap"] = cap(ctx["object"])
    ctx["B0_cap"] = cap(ctx["b0"])
    ctx["B1_cap"] = cap(ctx["b1"])
    lines: list[str] = []
    if rng.chance(2, 5):
        lines += ["Under review as a conference paper at ICLR 2025", ""]
    lines += [f"# {p['title']}", ""]
    lines += ["Anonymous authors", "Paper under double-blind review", ""]
    lines += ["## Abstract", "", p["abstract"], ""]
    lines += ["## 1 Introduction", "", fill(rng.choice(INTRO), ctx), "", fill(rng.choice(INTRO2), ctx), "",
              "Our contributions are:", ""]
    lines += [f"- {fill(c, ctx)}" for c in rng.sample(CONTRIB, 3)]
    lines += ["", "## 2 Related Work", ""]
    for para in rng.sample(RELATED, 2):
        lines += [fill(para, ctx), ""]
    lines += ["## 3 Method", ""]
    lines += ["### 3.1 Problem setting", "", fill(METHOD[0], ctx), ""]
    lines += ["### 3.2 " + p["topic"]["Method"], "", fill(METHOD[1], ctx), ""]
    if rng.chance(1, 2):
        lines += [fill(METHOD[2], ctx), ""]
    lines += ["## 4 Experiments", ""]
    for para in EXPER[:2]:
        lines += [fill(para, ctx), ""]
    arrow = "lower is better" if p["topic"]["lower_better"] else "higher is better"
    lines += [f"Table 1: {ctx['metric']} ({arrow}), mean over three seeds.", ""]
    cols = [ctx["d0"], ctx["d1"], ctx["d2"]]
    lines += ["| Method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    base_vals = [rng.randint(300, 800) for _ in cols]
    for j, method in enumerate([ctx["b0"], ctx["b1"], ctx["b2"], ctx["Name"] + " (ours)"]):
        row = []
        for v in base_vals:
            delta = (3 - j) * rng.randint(8, 30) if j < 3 else 0
            x = v + delta if p["topic"]["lower_better"] else v - delta
            if j == 3:
                x = v
            row.append(f"{x / 10:.1f}")
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    lines += ["", fill(EXPER[2], ctx), ""]
    lines += ["## 5 Conclusion", "", fill(rng.choice(CONCL), ctx), ""]
    lines += ["## References", ""]
    refs = []
    whats = [f"A study of {ctx['problem']}", f"Revisiting {ctx['b' + str(rng.below(4))]}",
             f"Scalable methods for {ctx['object']}", f"Benchmarking {ctx['object']} on {ctx['d3']}",
             f"Understanding {ctx['b' + str(rng.below(4))]} through its training dynamics"]
    for what in rng.sample(whats, rng.randint(3, 5)):
        a1 = rng.choice(LAST)
        a2 = rng.choice(LAST)
        year = rng.randint(2017, 2024)
        venue = rng.choice(VENUES)
        refs.append(f"{a1}, {rng.choice(FIRST)[0]}. and {a2}, {rng.choice(FIRST)[0]}. ({year}). {cap(what)}. "
                    f"In *{venue}*.")
    refs.sort()
    lines += [f"- {r}" for r in refs]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ README + output
def readme(notes: list[dict], papers: list[dict]) -> str:
    status = {p["id"]: p["status"] for p in papers}
    counts = {s: sum(1 for v in status.values() if v == s) for s in ("accept", "reject", "withdrawn", "desk_rejected")}
    pres = {}
    for p in papers:
        if p["status"] == "accept":
            pres[p["presentation"]] = pres.get(p["presentation"], 0) + 1
    n_entries = sum(1 for n in notes for r in n["details"]["directReplies"] if r["invitations"][0].endswith("/-/Official_Review"))
    distinct = len({r["id"] for n in notes for r in n["details"]["directReplies"] if r["invitations"][0].endswith("/-/Official_Review")})
    meta = sum(1 for n in notes for r in n["details"]["directReplies"] if r["invitations"][0].endswith("/-/Meta_Review"))
    dec = sum(1 for n in notes for r in n["details"]["directReplies"] if r["invitations"][0].endswith("/-/Decision"))
    com = sum(1 for n in notes for r in n["details"]["directReplies"] if r["invitations"][0].endswith("/-/Official_Comment"))
    edited = sorted((p["id"], p["edited_review"]) for p in papers if "edited_review" in p)
    noscore = [(p["id"], p["ratingless_review"]) for p in papers if "ratingless_review" in p]
    nodec = sorted(p["id"] for p in papers if p.get("no_decision_notes"))
    withdrawn = sorted(p["id"] for p in papers if p["status"] == "withdrawn")
    desk = sorted(p["id"] for p in papers if p["status"] == "desk_rejected")
    headered = sorted(p["id"] for p in papers if p["md"].startswith("Under review"))
    return f"""# iclr_sample: a synthetic ICLR-2025-style OpenReview sample

**Everything in this folder is synthetic.** `scripts/make_sample.py` (standard library only, fixed seed
{SEED}) wrote it for cyclebench. The titles, authors, abstracts, reviews, scores, decisions and papers are
invented from templates. None of it is copied from OpenReview or from any real paper or review, and any
resemblance to real work is coincidental. You are free to use, copy, modify and redistribute it for any
purpose without attribution. Each note has a `"license": "CC BY 4.0"` field only because real OpenReview notes
carry that field and the sample copies their shape.

Regenerate with `python scripts/make_sample.py`. The output is byte-identical on every run, and
`python scripts/make_sample.py --check` verifies the copy on disk.

## Files

* `openreview.jsonl`: {len(notes)} submissions, one JSON object per line, sorted by `id` (ASCII order). Each line has
  the raw OpenReview **API v2** shape that `openreview-py` returns from
  `client.get_all_notes(invitation="ICLR.cc/2025/Conference/-/Submission", details="directReplies")`: the
  submission note with its replies in `details.directReplies`. Content values are wrapped `{{"value": ...}}`,
  and replies are classified by `invitations[0]` (`.../Submission{{N}}/-/Official_Review`, `/-/Official_Comment`,
  `/-/Meta_Review`, `/-/Decision`, `/-/Withdrawal`, `/-/Desk_Rejection`). The file is pure ASCII: non-ASCII
  author names are `\\uXXXX` escapes.
* `papers/<id>.md`: a short invented paper for every submission (title, `## Abstract`, sections, a results table,
  `## References`). {len(headered)} of them start with the running header "Under review as a conference paper at
  ICLR 2025". Ids may start with `-` or contain `_`, so quote file names in shells (`./papers/-abc.md`).

## Scores and fields (ICLR 2025)

Reviews have `summary`, `soundness`, `presentation`, `contribution` (integers 1-4), `strengths`, `weaknesses`,
`questions`, `flag_for_ethics_review`, `rating` (integer on 1/3/5/6/8/10), `confidence` (integer 1-5) and
`code_of_conduct`. Meta reviews have `metareview` and `additional_comments_on_reviewer_discussion`. Decisions have
`decision` ("Accept (Oral)", "Accept (Spotlight)", "Accept (Poster)" or "Reject"). The tone of a review's text
follows its rating (negative wording for 1/3, hedged for 5/6, positive for 8/10), so a bag-of-words baseline has
something to learn. Each paper's ratings scatter around a hidden quality score, and the decisions follow the mean
rating plus some noise.

## Counts

| what | n |
|---|---|
| submissions | {len(notes)} |
| accepted (`venueid` `ICLR.cc/2025/Conference`) | {counts['accept']} ({', '.join(f'{k.lower()} {v}' for k, v in sorted(pres.items()))}) |
| rejected (`.../Rejected_Submission`, venue "Submitted to ICLR 2025") | {counts['reject']} |
| withdrawn (`.../Withdrawn_Submission`, with a `/-/Withdrawal` reply) | {counts['withdrawn']} |
| desk rejected (`.../Desk_Rejected_Submission`, with a `/-/Desk_Rejection` reply, no reviews) | {counts['desk_rejected']} |
| `/-/Official_Review` entries (incl. repeated versions) | {n_entries} |
| distinct review ids | {distinct} |
| `/-/Meta_Review` notes | {meta} |
| `/-/Decision` notes | {dec} |
| `/-/Official_Comment` notes (authors and reviewers) | {com} |

## Quirks on purpose (as in real snapshots)

* **Edited reviews:** in {', '.join(f'`{a}` (review `{b}`)' for a, b in edited)}, one review appears three
  times with the same `id` and increasing `tmdate`, and its rating changes between versions. They are not listed
  in time order. Keep the version with the largest `tmdate`.
* **Review without a rating:** {', '.join(f'`{a}` (review `{b}`)' for a, b in noscore)} has a short review with no
  `rating` field.
* **Decision only in `venueid`:** {', '.join(f'`{i}`' for i in nodec)} have reviews but no Meta_Review or
  Decision reply. Their outcome is only in `content.venueid` / `content.venue`.
* Withdrawn: {', '.join(f'`{i}`' for i in withdrawn)}. Desk rejected: {', '.join(f'`{i}`' for i in desk)}.
* About 1 in 25 reviews lists only its per-paper invitation (no `ICLR.cc/2025/Conference/-/Edit`). Comments,
  withdrawals and desk rejections have no `nonreaders` key. Accepted papers have `pdate`.
"""


def render(seed: int = SEED) -> dict[str, bytes]:
    rng = Rng(seed)
    notes, md, info = build(rng)
    papers = info["papers"]
    for p in papers:
        p["md"] = md[p["id"]]
    files: dict[str, bytes] = {}
    files["openreview.jsonl"] = "".join(
        json.dumps(n, ensure_ascii=True, separators=(",", ":")) + "\n" for n in notes).encode("ascii")
    for pid in sorted(md):
        files[f"papers/{pid}.md"] = md[pid].encode("utf-8")
    files["README.md"] = readme(notes, papers).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = parser.parse_args(argv)
    files = render()
    out: Path = args.out
    existing = {str(p.relative_to(out)).replace("\\", "/") for p in out.rglob("*") if p.is_file()} if out.exists() else set()
    if args.check:
        bad = sorted(name for name, data in files.items() if not (out / name).is_file() or (out / name).read_bytes() != data)
        extra = sorted(existing - set(files))
        for name in bad:
            print(f"differs or missing: {name}", file=sys.stderr)
        for name in extra:
            print(f"not written by this script: {name}", file=sys.stderr)
        return 1 if bad or extra else 0
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for name in sorted(existing - set(files)):
        if name.startswith("papers/") and name.endswith(".md"):
            (out / name).unlink()  # a paper from an older run of this script
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} files, {total:,} bytes, to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
