"""The Python API: train, load a trained policy, act with it, evaluate it.

>>> import pgrad
>>> result = pgrad.train(pgrad.Config(env="CartPole-v1", seed=1))      # doctest: +SKIP
>>> policy = pgrad.load_policy(result.run_dir)                          # doctest: +SKIP
>>> action = policy.act(observation)                                    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pgrad.config import Config
from pgrad.errors import PgradError
from pgrad.policies.actor import Actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.evaluate import Evaluation, Evaluator
from pgrad.trainer import checkpoint
from pgrad.trainer.loop import TrainResult
from pgrad.trainer.loop import train as _train


def train(config: Config | None = None, **overrides: Any) -> TrainResult:
    """Train with ``config``, fields overridden by keyword; without one, ``Config(**overrides)``.

    >>> pgrad.train(algo="ppo", env="Acrobot-v1", seed=3, progress=False)   # doctest: +SKIP
    """
    if config is None:
        return _train(Config(**overrides))
    if "algo" in overrides and overrides["algo"] != config.algo:
        raise PgradError(
            f"cannot switch algo from {config.algo} to {overrides['algo']} with an override: "
            f"its defaults differ; pass Config(algo={overrides['algo']!r}, ...)"
        )
    cfg = Config.from_json({**config.to_json(), **overrides}) if overrides else config
    return _train(cfg)


@dataclass
class TrainedPolicy:
    """A loaded policy that acts on raw observations (NumPy arrays)."""

    module: MLPPolicy
    metadata: dict[str, Any]

    @property
    def env_id(self) -> str:
        """The environment it was trained on."""
        return self.module.spec.env.env_id

    def act(
        self, obs: np.ndarray, deterministic: bool = False, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Action(s) for one observation [obs_dim...] or a batch [B, obs_dim...].

        Sampled actions draw from ``rng`` (default: a generator seeded from the OS). Box actions
        come clipped to the action bounds, ready for ``env.step``.
        """
        obs_dim = self.module.spec.env.obs_dim
        x = np.asarray(obs, dtype=np.float32)
        single = x.size == obs_dim
        x = x.reshape(1 if single else -1, obs_dim)
        if deterministic:
            a = self._actor.mode(x)
        else:
            a = self._actor.sample(x, rng if rng is not None else self._rng)
        out = self._actor.env_action(a)
        return out[0] if single else out

    def __post_init__(self) -> None:
        self._actor = Actor(self.module)
        self._rng = np.random.default_rng()


def load_policy(path: str | Path) -> TrainedPolicy:
    """Load a run directory's final policy, or a checkpoint file, for acting or evaluation."""
    module, meta = checkpoint.load_policy(path)
    return TrainedPolicy(module, meta)


def evaluate(
    policy: TrainedPolicy | MLPPolicy,
    episodes: int = 100,
    deterministic: bool = False,
    seed: int = 0,
) -> Evaluation:
    """Run ``episodes`` episodes of the policy's environment, all stepped together."""
    module = policy.module if isinstance(policy, TrainedPolicy) else policy
    max_steps = None
    if isinstance(policy, TrainedPolicy):
        max_steps = policy.metadata.get("config", {}).get("max_episode_steps")
    evaluator = Evaluator(module.spec.env.env_id, episodes, seed, max_steps)
    try:
        return evaluator.run(module, deterministic=deterministic)
    finally:
        evaluator.close()
