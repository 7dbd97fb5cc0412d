"""Reference trainers for the CycleResearcher / CycleReviewer / DeepReviewer recipes (REFERENCE section 6).

One module per job; nothing heavy is imported here:

``configs``          recipe dataclasses (trl's ``SFTConfig`` / ``CPOConfig`` plus project fields) and the parser
``data``             Review-5K ``sft`` / DeepReview-13K / Research-14K rows -> tokens with assistant-only masks
``sft``              ``main(script_args, training_args, model_args)``: supervised fine-tuning from a recipe
``simpo``            SimPO + lambda * NLL over ``trl.experimental.cpo`` and the loss as a pure function
``trl_cpo``          trl's experimental CPO trainer and config (the only import of trl's experimental API)
``iterative_simpo``  the Iterative SimPO loop: sample, judge, pair, train, check with a second judge, resume
``judges``           a review protocol + backend that scores generated papers
``generation``       what the loop needs from a paper-generation protocol (CycleResearcher format)
``evaluate_run``     after a reviewer run: review evaluation + leaderboard submission
``recipes/``         one YAML per published size and method; ``accelerate/`` the launcher configs

Run a recipe with ``cyclebench train trainers/recipes/<recipe>.yaml --run`` (``--print-launch`` shows the
``accelerate launch`` command).
"""
