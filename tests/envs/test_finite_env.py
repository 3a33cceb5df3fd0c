"""The finite MDPs as Gymnasium environments, trained by the normal trainer."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

import pgrad
from pgrad.envs.finite import ENV_IDS, register_envs
from pgrad.exact import NAMED_MDPS, expected_return


def test_one_hot_observations_and_fixed_horizon() -> None:
    register_envs()
    mdp = NAMED_MDPS["gridworld"]()
    env = gym.make("pgrad/FiniteMDP-v0", mdp=mdp)
    obs, info = env.reset(seed=0)
    steps = 0
    while True:
        assert obs.sum() == 1.0 and obs[info["state"]] == 1.0
        before = info["state"]
        action = env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        assert reward == mdp.rewards[before, action]
        assert mdp.transitions[before, action, info["state"]] > 0
        steps += 1
        assert not truncated
        if terminated:
            break
    assert steps == mdp.horizon


def test_named_instances_are_registered() -> None:
    register_envs()
    for name, env_id in ENV_IDS.items():
        env = gym.make(env_id)
        assert env.unwrapped.mdp.num_states == NAMED_MDPS[name]().num_states


def test_the_trainer_improves_the_exact_return(tmp_path: Path) -> None:
    mdp = NAMED_MDPS["chain"]()
    result = pgrad.train(
        env="pgrad/Chain-v0", hidden_sizes=(), lr=0.05, total_env_steps=20_000, eval_episodes=200,
        run_dir=tmp_path / "run", progress=False, tensorboard=False,
    )  # fmt: skip
    weight = result.policy.net[0].weight.detach().double().numpy()
    bias = result.policy.net[0].bias.detach().double().numpy()
    start = expected_return(mdp, np.zeros((mdp.num_states, mdp.num_actions)))
    learned = expected_return(mdp, weight.T + bias)
    assert learned > start + 1.0
    # The batched evaluation's mean return estimates the same J: within 5 standard errors.
    ev = result.evaluation
    assert abs(ev.mean - learned) < 5 * ev.std / np.sqrt(ev.episodes) + 1e-9
