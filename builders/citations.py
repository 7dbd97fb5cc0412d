"""BibTeX of the works and data sources the dataset cards cite, and the card's citation section.

Each card cites the work whose dataset it rebuilds (CycleResearcher, DeepReview, the AI Scientist) and where
its rows come from (OpenReview, arXiv, the AI Scientist repository), so a user of a rebuild can credit both.
"""

from __future__ import annotations

from typing import Final

CYCLERESEARCHER: Final = """@inproceedings{weng2025cycleresearcher,
  title     = {CycleResearcher: Improving Automated Research via Automated Review},
  author    = {Weng, Yixuan and Zhu, Minjun and Bao, Guangsheng and Zhang, Hongbo and Wang, Jindong and Zhang, Yue and Yang, Linyi},
  booktitle = {International Conference on Learning Representations},
  year      = {2025}
}"""

DEEPREVIEW: Final = """@inproceedings{zhu2025deepreview,
  title     = {DeepReview: Improving LLM-based Paper Review with Human-like Deep Thinking Process},
  author    = {Zhu, Minjun and Weng, Yixuan and Yang, Linyi and Zhang, Yue},
  booktitle = {Proceedings of the 63rd Annual Meeting of the Association for Computational Linguistics},
  year      = {2025}
}"""

AI_SCIENTIST: Final = """@article{lu2024aiscientist,
  title   = {The {AI} {S}cientist: Towards Fully Automated Open-Ended Scientific Discovery},
  author  = {Lu, Chris and Lu, Cong and Lange, Robert Tjarko and Foerster, Jakob and Clune, Jeff and Ha, David},
  journal = {arXiv preprint arXiv:2408.06292},
  year    = {2024}
}"""

# Data sources.
OPENREVIEW: Final = """@misc{openreview,
  title        = {OpenReview: submissions, reviews, meta reviews and decisions of ICLR},
  howpublished = {\\url{https://openreview.net}},
  note         = {Notes licensed CC BY 4.0}
}"""

ARXIV: Final = """@misc{arxiv,
  title        = {arXiv e-prints (LaTeX sources)},
  howpublished = {\\url{https://arxiv.org}},
  note         = {Each paper under the license its authors chose}
}"""

AI_SCIENTIST_REPO: Final = """@misc{sakana2024aiscientistrepo,
  title        = {{AI-Scientist}: review\\_iclr\\_bench (ICLR 2022 ratings and paper texts)},
  author       = {{Sakana AI}},
  howpublished = {\\url{https://github.com/SakanaAI/AI-Scientist}},
  year         = {2024},
  note         = {Apache-2.0}
}"""


def bibtex_block(*entries: str) -> str:
    """Entries in one fenced ``bibtex`` block, as Hub cards show citations."""
    return "```bibtex\n" + "\n\n".join(entries) + "\n```"


def citation_section(work: tuple[str, ...], data: tuple[str, ...]) -> str:
    """The card's ``## Citation`` section: the original work, then the data source."""
    return ("## Citation\n\nThe original work:\n\n" + bibtex_block(*work)
            + "\n\nThe data source:\n\n" + bibtex_block(*data) + "\n")
