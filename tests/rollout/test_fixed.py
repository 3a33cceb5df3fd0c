"""Fixed-length rollouts: step alignment across autoresets, bootstrapping values, continuation."""

from __future__ import annotations

import numpy as np
import torch

from _envs import COUNTER_ID
from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.fixed import FixedLengthSampler


def test_alignment_across_episode_ends() -> None:
    envs, info = make_vector_env(COUNTER_ID, 3)
    policy = build_policy(PolicySpec(info, (8,), "tanh", value="separate"), seed=0)
    sampler = FixedLengthSampler(envs, num_steps=12, seed=0)
    first, second = sampler.collect(policy), sampler.collect(policy)
    ended_total = 0
    for rollout in (first, second):
        obs, mask = rollout.obs.numpy(), rollout.mask.numpy()
        ended = (rollout.terminated | rollout.truncated).numpy()
        for n in range(3):
            for t in range(12):
                if not mask[n, t]:
                    # an autoreset step follows an ended step, its observation the final one
                    assert t == 0 or ended[n, t - 1]
                    continue
                assert rollout.rewards[n, t] == 10 * obs[n, t, 1] + rollout.actions[n, t]
                if t + 1 < 12:
                    nxt = obs[n, t + 1]
                    assert nxt[0] == obs[n, t, 0] and nxt[1] == obs[n, t, 1] + 1
                if ended[n, t]:
                    ended_total += 1
                    assert t + 1 == 12 or not mask[n, t + 1]
        # next_values are the values of the following observations, bootstrapping the last one
        following = (rollout.mask[:, :-1] * rollout.mask[:, 1:]).bool()  # both steps real
        torch.testing.assert_close(rollout.next_values[:, :-1][following],
                                   rollout.values[:, 1:][following])  # fmt: skip
        with torch.no_grad():
            expected = policy.value(rollout.obs.reshape(36, -1)).reshape(3, 12) * rollout.mask
            torch.testing.assert_close(rollout.values, expected)
        assert rollout.env_steps == int(mask.sum())
    # the second rollout continues the episodes the first was running
    continuing = first.mask[:, -1].bool() & ~(first.terminated | first.truncated)[:, -1]
    for n in np.flatnonzero(continuing.numpy()):
        assert second.obs[n, 0, 0] == first.obs[n, -1, 0]
        assert second.obs[n, 0, 1] == first.obs[n, -1, 1] + 1
    assert ended_total == len(first.episode_returns) + len(second.episode_returns)
    envs.close()


def test_finished_episodes_match_a_step_by_step_count() -> None:
    """Returns and lengths reported per rollout equal a plain loop over the recorded steps."""
    envs, info = make_vector_env(COUNTER_ID, 4)
    policy = build_policy(PolicySpec(info, (8,), "tanh", value="separate"), seed=1)
    sampler = FixedLengthSampler(envs, num_steps=5, seed=1)  # shorter than most episodes
    rollouts = [sampler.collect(policy) for _ in range(6)]
    envs.close()
    expected: list[tuple[int, int, float, int]] = []
    running = np.zeros(4)
    length = np.zeros(4, np.int64)
    for k, rollout in enumerate(rollouts):
        ended = (rollout.terminated | rollout.truncated).numpy()
        for t in range(5):
            for n in range(4):
                if rollout.mask[n, t]:
                    running[n] += float(rollout.rewards[n, t])
                    length[n] += 1
                if ended[n, t]:
                    expected.append((5 * k + t, n, running[n], int(length[n])))
                    running[n], length[n] = 0.0, 0
    expected.sort()
    got_returns = [r for rollout in rollouts for r in rollout.episode_returns]
    got_lengths = [n for rollout in rollouts for n in rollout.episode_lengths]
    assert len(expected) > 4  # several episodes span rollouts
    assert got_returns == [e[2] for e in expected]
    assert got_lengths == [e[3] for e in expected]
    assert not any(r.complete_episodes for r in rollouts)
