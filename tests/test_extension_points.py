"""The seams: a new algorithm, sampler, head or Psi recipe plugs in without touching the trainer.

Each test adds its part the way a contributor would (a module-like object and one registration)
and runs it through the normal entry points.
"""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path
from typing import ClassVar

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.classic_control import CartPoleEnv

import pgrad
from pgrad.algos import ALGORITHMS, reinforce
from pgrad.cli import main
from pgrad.envs.make import make_vector_env
from pgrad.exact import NAMED_MDPS, per_trajectory_gradients
from pgrad.lab.sampling import Trajectories
from pgrad.policies import heads
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.batch import Batch
from pgrad.rollout.episodes import EpisodeSampler

QUICK = ["--total-env-steps", "300", "--episodes-per-update", "4", "--num-envs", "4",
         "--eval-episodes", "2", "--no-progress", "--no-tensorboard"]  # fmt: skip


class CountingSampler:
    """A new sampler: implements the protocol by delegation, and counts its batches."""

    def __init__(self, envs, num_episodes: int, seed: int) -> None:
        self.inner = EpisodeSampler(envs, num_episodes, seed=seed)
        self.num_envs = envs.num_envs
        self.batches = 0

    def collect(self, policy) -> Batch:
        self.batches += 1
        return self.inner.collect(policy)

    def close(self) -> None:
        self.inner.close()

    def state_dict(self) -> dict:
        return {"inner": self.inner.state_dict(), "batches": self.batches}

    def load_state_dict(self, state: dict) -> None:
        self.inner.load_state_dict(state["inner"])
        self.batches = state["batches"]


@dataclasses.dataclass(frozen=True)
class TwoStepConfig(reinforce.ReinforceConfig):
    """Train REINFORCE with two policy steps per batch (a test algorithm)."""

    algo: ClassVar[str] = "reinforce-two-step"
    steps: int = 2
    """Policy steps per batch."""


def test_a_new_algorithm_and_sampler_are_one_module_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    made: list[CountingSampler] = []

    def make_sampler(cfg, envs, seed):
        made.append(CountingSampler(envs, cfg.episodes_per_update, seed))
        return made[-1]

    def update(policy, optimizer, batch, cfg, generator):
        for _ in range(cfg.steps):
            metrics = reinforce.update(policy, optimizer, batch, cfg, generator)
        return metrics

    module = types.SimpleNamespace(Config=TwoStepConfig, make_sampler=make_sampler, update=update)
    monkeypatch.setitem(ALGORITHMS, "reinforce-two-step", module)  # the registration line
    run = tmp_path / "run"
    argv = ["train", "reinforce-two-step", "--steps", "3", *QUICK, "--run-dir", str(run)]
    assert main(argv) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert made[0].batches == summary["updates"] >= 1
    assert json.loads((run / "config.json").read_text())["steps"] == 3


class TorchOnlyCategorical(heads.CategoricalHead):
    """A new head without a NumPy form: the policy must act through PyTorch."""

    numpy_form = False
    calls = 0

    def sample(self, out: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        TorchOnlyCategorical.calls += 1
        return super().sample(out, noise)

    def sample_np(self, out: np.ndarray, noise: np.ndarray) -> np.ndarray:
        raise AssertionError("a torch-only head was asked for its NumPy form")


class Coin(gym.spaces.Discrete):
    """A new kind of action space (two actions)."""


class CoinCartPole(CartPoleEnv):
    def __init__(self) -> None:
        super().__init__()
        self.action_space = Coin(2)


def test_a_new_head_is_one_module_and_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(heads.HEADS, "coin", (Coin, lambda s, _: TorchOnlyCategorical(int(s.n))))
    if "pgrad-test/CoinCartPole-v0" not in gym.registry:
        gym.register("pgrad-test/CoinCartPole-v0", CoinCartPole, max_episode_steps=100)
    TorchOnlyCategorical.calls = 0
    result = pgrad.train(env="pgrad-test/CoinCartPole-v0", total_env_steps=300,
                         episodes_per_update=4, num_envs=4, eval_episodes=2, progress=False,
                         tensorboard=False, run_dir=tmp_path / "run")  # fmt: skip
    assert isinstance(result.policy.head, TorchOnlyCategorical)
    assert TorchOnlyCategorical.calls > 0 and result.env_steps >= 300


@pytest.mark.parametrize(
    "settings",
    [dict(psi="return", baseline="none"), dict(psi="reward_to_go", baseline="none"),
     dict(psi="return", baseline="mean"), dict(psi="reward_to_go", baseline="mean"),
     dict(psi="reward_to_go", baseline="mean", normalize_advantages=True)],
    ids=lambda s: "+".join(str(v) for v in s.values()),
)  # fmt: skip
def test_the_lab_measures_exactly_the_weighting_the_trainer_optimises(settings: dict) -> None:
    """A Psi recipe is one function: on the same trajectories, the trainer's gradient and the
    lab's gradient for the recipe's name are the same numbers. A new recipe in
    ``estimators/psi.py`` is therefore measured by ``pgrad lab`` as it is trained."""
    mdp = NAMED_MDPS["chain"]()
    envs, info = make_vector_env("pgrad/Chain-v0", 8)
    policy = build_policy(PolicySpec(info, (), "tanh"), seed=0)  # a tabular softmax
    sampler = EpisodeSampler(envs, 64, seed=3)
    batch = sampler.collect(policy)
    sampler.close()
    cfg = pgrad.make_config(gamma=mdp.discount, **settings)
    loss, _ = reinforce.loss(policy, batch, cfg)
    loss.backward()
    trainer = -policy.net[0].weight.grad.T.double().numpy()  # d/d logits[s] = d/d W[:, s]
    logits = (policy.net[0].weight.T + policy.net[0].bias).detach().double().numpy()
    draws = Trajectories(batch.obs.argmax(-1).numpy(), batch.actions.numpy(),
                         batch.rewards.double().numpy())  # fmt: skip
    lab = per_trajectory_gradients(mdp, logits, draws, cfg.recipe.name).mean(axis=0)
    np.testing.assert_allclose(trainer, lab, rtol=1e-4, atol=1e-6)
