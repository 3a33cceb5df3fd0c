"""A recurrent policy's rollout and its losses see the same features.

While collecting, the actor steps the core one observation at a time, zeroing its state where an
episode starts; the losses re-run each row from the state it started with
(:meth:`MLPPolicy.rollout_outputs`, :meth:`MLPPolicy.evaluate_steps`). Both must give the same
log-probabilities, and the state a rollout ends with must be the next rollout's start.
"""

from __future__ import annotations

import torch

from pgrad.envs.make import make_vector_env
from pgrad.policies.mlp import PolicySpec, build_policy
from pgrad.rollout.episodes import EpisodeSampler
from pgrad.rollout.fixed import FixedLengthSampler


def _policy(info, kind: str = "lstm"):
    spec = PolicySpec(info, (16,), "tanh", value="separate", recurrent=kind, recurrent_size=8)
    return build_policy(spec, seed=0)


def _record_online(policy, monkeypatch) -> list[torch.Tensor]:
    """Patch ``policy.step`` to keep the head inputs the actor acted with, step by step."""
    outs: list[torch.Tensor] = []
    step = policy.step

    def recording(obs, state):
        out, new = step(obs, state)
        outs.append(out.clone())
        return out, new

    monkeypatch.setattr(policy, "step", recording)
    return outs


def test_fixed_length_rollouts_recompute_what_the_actor_acted_with(monkeypatch) -> None:
    envs, info = make_vector_env("pgrad/Memory-v0", 3)  # 8-step episodes across 5-step rollouts
    policy = _policy(info)
    sampler = FixedLengthSampler(envs, num_steps=5, seed=1)
    outs = _record_online(policy, monkeypatch)
    batches = [sampler.collect(policy) for _ in range(4)]
    sampler.close()
    online = torch.stack(outs).reshape(4, 5, 3, -1)  # [rollout, t, copy, outputs]
    for k, batch in enumerate(batches):
        actions = batch.actions.transpose(0, 1).reshape(15, *batch.actions.shape[2:])
        log_prob = policy.head.log_prob_entropy(online[k].reshape(15, -1), actions)[0]
        expected = log_prob.reshape(5, 3).T * batch.mask
        torch.testing.assert_close(batch.log_probs, expected, rtol=1e-5, atol=1e-5)
        recomputed = policy.evaluate_steps(batch.obs, batch.actions, batch.mask, batch.starts,
                                           batch.initial_state)[0]  # fmt: skip
        torch.testing.assert_close(recomputed.detach(), expected, rtol=1e-5, atol=1e-5)
    assert any(bool(b.starts[:, 1:].any()) for b in batches)  # episodes started mid-rollout
    assert any(bool(b.initial_state.abs().sum() > 0) for b in batches[1:])  # state carried


def test_episode_batches_start_every_row_from_zero_state(monkeypatch) -> None:
    envs, info = make_vector_env("pgrad/Memory-v0", 2)
    policy = _policy(info, "gru")
    sampler = EpisodeSampler(envs, num_episodes=5, seed=2, log_probs=True)
    batch = sampler.collect(policy)
    sampler.close()
    assert batch.starts[:, 0].all() and not batch.starts[:, 1:].any()
    assert batch.initial_state.shape == (5, 8) and not batch.initial_state.any()
    recomputed = policy.evaluate_steps(batch.obs, batch.actions, batch.mask, batch.starts,
                                       batch.initial_state)[0]  # fmt: skip
    torch.testing.assert_close(recomputed.detach(), batch.log_probs)
