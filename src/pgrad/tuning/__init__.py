"""Hyperparameter tuning with Optuna: ``pgrad tune ALGO`` and :func:`pgrad.tune`.

- :mod:`pgrad.tuning.space`: search spaces (``spaces.toml`` ships one per algorithm);
- :mod:`pgrad.tuning.config`: the study's settings (:class:`TuneConfig`);
- :mod:`pgrad.tuning.study`: trials, pruning on evaluations, the results directory.

Optuna is imported only when a study runs (``pip install -e ".[tune]"``).
"""
