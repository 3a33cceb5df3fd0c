"""The NumPy forward and backward pass gives autograd's outputs and gradients, for every head
with a NumPy gradient, value layout, activation and depth; the flat parameter buffers keep the
module a normal PyTorch module."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from pgrad.envs.make import EnvInfo
from pgrad.policies.backprop import AutogradBackprop, NumpyBackprop, make_backprop
from pgrad.policies.flat import flat_span, is_flat
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy
from pgrad.rollout.batch import Batch

BOX = gym.spaces.Box(np.array([-1.0, -2.0], np.float32), np.array([1.0, 2.0], np.float32))
SPACES = {"gaussian": BOX, "categorical": gym.spaces.Discrete(5)}
B, OBS = 48, 6


def _policy(head: str, value: str, activation: str, hidden: tuple[int, ...]) -> MLPPolicy:
    spec = PolicySpec(EnvInfo("test", OBS, SPACES[head]), hidden, activation, init_log_std=-0.3,
                      value=value, normalize_observations=True)  # fmt: skip
    policy = build_policy(spec, seed=1)
    rng = np.random.default_rng(2)
    policy.update_observation_stats(torch.from_numpy(rng.normal(2.0, 3.0, (100, OBS))).float())
    return policy


def _steps(policy: MLPPolicy, seed: int) -> Batch:
    rng = np.random.default_rng(seed)
    obs = torch.from_numpy(rng.normal(2.0, 4.0, (B, OBS)).astype(np.float32))
    if policy.head.action_shape:
        actions = torch.from_numpy(rng.normal(size=(B, 2)).astype(np.float32) * 2)
    else:
        actions = torch.from_numpy(rng.integers(0, 5, B))
    mask = torch.from_numpy((rng.random(B) > 0.15).astype(np.float32))
    zeros = torch.zeros(B)
    return Batch(obs=obs, actions=actions, rewards=zeros, terminated=zeros.bool(),
                 truncated=zeros.bool(), mask=mask, starts=zeros.bool(),
                 initial_state=torch.zeros(B, 0), values=zeros, next_values=zeros,
                 log_probs=zeros, episode_returns=np.zeros(0),
                 episode_lengths=np.zeros(0, np.int64), env_steps=B,
                 complete_episodes=False)  # fmt: skip


def _gradients(policy: MLPPolicy, learner, steps: Batch, upstream) -> tuple:
    for p in policy.parameters():
        if p.grad is not None:
            p.grad.zero_()
    out = learner.forward(steps)
    learner.backward(*upstream)
    return out, {name: p.grad.clone() for name, p in policy.named_parameters()}


@pytest.mark.parametrize("head", ["gaussian", "categorical"])
@pytest.mark.parametrize("value", ["separate", "shared", "none"])
@pytest.mark.parametrize(("activation", "hidden"), [("tanh", (16, 8)), ("relu", (12,)),
                                                    ("tanh", ())])  # fmt: skip
def test_numpy_backprop_matches_autograd(head: str, value: str, activation: str,
                                         hidden: tuple[int, ...]) -> None:  # fmt: skip
    policy = _policy(head, value, activation, hidden)
    steps = _steps(policy, 3)
    rng = np.random.default_rng(4)
    mask = steps.mask.numpy()
    upstream = tuple((rng.normal(size=B) * mask).astype(np.float32) for _ in range(3))
    assert isinstance(make_backprop(policy), NumpyBackprop)
    out, grads = _gradients(policy, NumpyBackprop(policy), steps, upstream)
    ref, ref_grads = _gradients(policy, AutogradBackprop(policy), steps, upstream)
    for mine, theirs in zip(out, ref, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)
    assert grads.keys() == ref_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, ref_grads[name], rtol=1e-4, atol=1e-5, msg=name)
    assert any(bool(g.abs().sum() > 0) for g in grads.values())


def test_log_std_outside_its_bounds_gets_no_gradient() -> None:
    policy = _policy("gaussian", "separate", "tanh", (8,))
    with torch.no_grad():
        policy.head.log_std[0] = 5.0  # above the upper bound of 2: clamped, gradient 0
    steps = _steps(policy, 5)
    upstream = tuple(np.full(B, 0.1, np.float32) for _ in range(3))
    _, grads = _gradients(policy, NumpyBackprop(policy), steps, upstream)
    _, ref = _gradients(policy, AutogradBackprop(policy), steps, upstream)
    assert grads["head.log_std"][0] == 0.0 == ref["head.log_std"][0]
    torch.testing.assert_close(grads["head.log_std"], ref["head.log_std"], rtol=1e-4, atol=1e-6)


def test_policies_the_numpy_pass_cannot_run_learn_through_autograd() -> None:
    spec = PolicySpec(EnvInfo("test", OBS, BOX), (8,), "tanh", value="separate",
                      recurrent="gru", recurrent_size=4)  # fmt: skip
    assert isinstance(make_backprop(build_policy(spec, 0)), AutogradBackprop)
    multi = PolicySpec(EnvInfo("test", OBS, gym.spaces.MultiDiscrete([2, 3])), (8,), "tanh")
    assert isinstance(make_backprop(build_policy(multi, 0)), AutogradBackprop)
    with pytest.raises(ValueError, match="autograd"):
        make_backprop(build_policy(multi, 0), backend="numpy")


def test_flat_parameters_are_one_buffer_and_a_normal_module() -> None:
    policy = _policy("gaussian", "separate", "tanh", (16, 8))
    order = [*policy.policy_parameters(), *policy.value_parameters()]
    assert is_flat(order)
    span = flat_span(order)
    assert span is not None and span.numel() == sum(p.numel() for p in order)
    state = {k: v.clone() for k, v in policy.state_dict().items()}
    twin = build_policy(policy.spec, seed=1)
    twin.load_state_dict(state)  # in place: the twin's parameters stay views of its buffer
    assert is_flat([*twin.policy_parameters(), *twin.value_parameters()])
    for a, b in zip(policy.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    unflat = MLPPolicy(policy.spec)  # flattening changes no value: same seed, same weights
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        unflat = MLPPolicy(policy.spec)
    fresh = build_policy(policy.spec, seed=1)
    for a, b in zip(unflat.parameters(), fresh.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
