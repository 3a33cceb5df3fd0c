"""Episode batches: complete episodes, no transition across an episode boundary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _envs import COUNTER_ID
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeSampler


def _collect(env_id: str, num_envs: int, m: int, batches: int = 3, value: str = "none"):
    envs, info = make_vector_env(env_id, num_envs)
    policy = build_policy(PolicySpec(info, (8,), "tanh", value=value), seed=0)
    sampler = EpisodeSampler(envs, m, seed=0, capacity=4)  # tiny capacity: exercises growth
    out = [sampler.collect(policy) for _ in range(batches)]
    sampler.close()
    return (out, policy) if value != "none" else out


@pytest.mark.parametrize(("num_envs", "m"), [(1, 5), (3, 7), (8, 4), (4, 4)])
def test_each_trajectory_is_one_whole_episode(num_envs: int, m: int) -> None:
    seen: set[tuple[int, int]] = set()
    for batch in _collect(COUNTER_ID, num_envs, m):
        assert (
            batch.obs.shape[:2] == batch.mask.shape
            and batch.num_rows == m
            and batch.complete_episodes
        )
        for i in range(m):
            length = int(batch.episode_lengths[i])
            assert batch.mask[i, :length].all() and not batch.mask[i, length:].any()
            obs = batch.obs[i, :length].numpy()
            episode_ids = obs[:, 0]
            # One episode per trajectory, its steps in order from t = 0: a reset step or a step
            # of another episode would break one of these.
            assert (episode_ids == episode_ids[0]).all()
            np.testing.assert_array_equal(obs[:, 1], np.arange(length))
            expected = 10.0 * np.arange(length) + batch.actions[i, :length].numpy()
            np.testing.assert_array_equal(batch.rewards[i, :length].numpy(), expected)
            ends = (batch.terminated[i] | batch.truncated[i]).numpy()
            assert ends[length - 1] and not ends[: length - 1].any() and not ends[length:].any()
            assert not (batch.terminated[i, length - 1] and batch.truncated[i, length - 1])
            assert (batch.obs[i, length:] == 0).all() and (batch.rewards[i, length:] == 0).all()
            key = (int(episode_ids[0]), int(obs[0, 1]))
            assert key not in seen
            seen.add(key)


def test_batch_takes_the_first_episodes_started_so_length_is_unbiased() -> None:
    # m = N: each copy contributes exactly the one episode it starts after the reset, and the
    # longest is waited for. Taking the first m to *finish* would let a copy with short episodes
    # contribute several, biasing the batch towards short episodes.
    for batch in _collect(COUNTER_ID, num_envs=6, m=6):
        copies = {int(o) // 100_000 for o in batch.obs[:, 0, 0]}
        assert len(copies) == 6
        assert (
            int(batch.episode_lengths.sum())
            <= batch.env_steps
            <= int(batch.episode_lengths.max()) * 6
        )


def test_cartpole_native_vector_env_batches() -> None:
    for batch in _collect("CartPole-v1", num_envs=4, m=6):
        lengths = torch.from_numpy(batch.episode_lengths)
        assert torch.equal(batch.mask.sum(1).long(), lengths)
        np.testing.assert_array_equal(batch.episode_returns, batch.episode_lengths)  # 1 per step
        last = batch.terminated | batch.truncated
        assert torch.equal(last.sum(1), torch.ones(6, dtype=torch.long))
        assert torch.equal(last.float().argmax(1), lengths - 1)
        assert batch.env_steps >= int(lengths.sum())


def test_next_values_end_with_the_true_final_observation() -> None:
    batches, policy = _collect(COUNTER_ID, num_envs=3, m=5, value="separate")
    for batch in batches:
        for i in range(batch.num_rows):
            length = int(batch.episode_lengths[i])
            ids = batch.obs[i, 0, 0]
            # V(s_{t+1}) of every step, the last one of the final observation [id, length]
            following = torch.stack(
                [
                    torch.full((length,), float(ids)),
                    torch.arange(1, length + 1, dtype=torch.float32),
                ],
                1,
            )
            with torch.no_grad():
                expected = policy.value(following)
                current = policy.value(batch.obs[i, :length])
            torch.testing.assert_close(batch.next_values[i, :length], expected)
            torch.testing.assert_close(batch.values[i, :length], current)
            assert (batch.values[i, length:] == 0).all()


def test_env_steps_count_real_steps_only() -> None:
    # One copy runs the m episodes back to back: every real step is one of theirs, and the
    # autoreset step between two episodes is not an environment step.
    for batch in _collect(COUNTER_ID, num_envs=1, m=5):
        assert batch.env_steps == int(batch.episode_lengths.sum())
