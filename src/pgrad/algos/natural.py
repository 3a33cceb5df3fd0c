"""Natural policy gradient (Kakade, 2001) and TRPO (Schulman et al., 2015): what both share.

One update, on complete episodes or fixed-length rollouts:

1. Psi_t from the config's recipe (GAE over a learned V by default);
2. g = grad L at theta_old, for the surrogate
   L(theta) = sum_t mask_t pi_theta(a_t|s_t) / pi_old(a_t|s_t) Psi_t / sum_t mask_t
   (at theta_old its gradient is the per-step score-function gradient);
3. x ~= (F + damping I)^-1 g by conjugate gradient, where F v is the double backward of the
   mean KL(pi_old || pi_theta) over the batch's steps (the heads' closed-form KL), whose Hessian
   at theta_old is the Fisher information;
4. the step sqrt(2 max_kl / x^T (F + damping I) x) x, for which the quadratic model of the KL
   equals max_kl: NPG takes it; TRPO backtracks it until the exact mean KL is within max_kl
   and L has improved, else keeps theta_old;
5. ``value_epochs`` full-batch Adam steps on the value loss.

:func:`conjugate_gradient` and :func:`fisher_vector_product` are the maths; the lab checks them
against :func:`pgrad.exact.natural_gradient` on finite MDPs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from gymnasium.vector import VectorEnv
from torch import Tensor, nn

from pgrad.algos.adam import Adam
from pgrad.algos.common import MAX_ROLLOUT_STEPS, estimate, require_discount, step
from pgrad.config import (
    EnvConfig,
    OptimConfig,
    PolicyConfig,
    TrainConfig,
    require,
    require_positive_int,
)
from pgrad.errors import NonFiniteError
from pgrad.estimators.psi import Baseline, PsiKind, PsiRecipe
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch, Sampler
from pgrad.rollout.episodes import EpisodeSampler
from pgrad.rollout.fixed import FixedLengthSampler
from pgrad.types import Metrics


def conjugate_gradient(product: Callable[[Tensor], Tensor], b: Tensor, *, iters: int,
                       tol: float = 1e-10) -> Tensor:  # fmt: skip
    """x with A x ~= b for a symmetric positive-definite A given as ``product(v) = A v``: at most
    ``iters`` conjugate-gradient steps from x = 0 (Hestenes and Stiefel, 1952), stopping early
    once ||r||^2 <= tol^2 ||b||^2. Shapes: b, x [P]."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()
    rr, stop = r @ r, tol**2 * (b @ b)
    for _ in range(iters):
        if rr <= stop:
            break
        ap = product(p)
        alpha = rr / (p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr_next = r @ r
        p = r + (rr_next / rr) * p
        rr = rr_next
    return x


def fisher_vector_product(kl: Callable[[], Tensor], params: list[nn.Parameter], *,
                          damping: float) -> Callable[[Tensor], Tensor]:  # fmt: skip
    """v -> (F + damping I) v, F the Hessian of ``kl()`` at the current ``params`` (a KL
    divergence from a frozen copy of the policy, so F is its Fisher information): the gradient
    of ``kl`` is built once with its graph, each product is one more backward pass."""
    grads = torch.autograd.grad(kl(), params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])

    def product(v: Tensor) -> Tensor:
        hv = torch.autograd.grad(flat @ v, params, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]) + damping * v

    return product


def flat_grad(value: Tensor, params: list[nn.Parameter]) -> Tensor:
    """The gradient of scalar ``value`` with respect to ``params``, as one vector [P]."""
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(value, params)])


def add_to_params(params: list[nn.Parameter], delta: Tensor) -> None:
    """params += delta, in place (parameters may be views of one buffer)."""
    offset = 0
    with torch.no_grad():
        for p in params:
            p.add_(delta[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


@dataclass(frozen=True)
class NaturalConfig(TrainConfig):
    """Fields of NPG and TRPO."""

    rollout: Literal["episodes", "steps"] = "steps"
    """What an update learns from: episodes (episodes_per_update complete episodes, any Psi_t)
    or steps (num_steps steps of every copy; Psi_t is GAE over the learned V)."""
    episodes_per_update: int = 16
    """With rollout episodes: complete episodes per update."""
    num_steps: int = 512
    """With rollout steps: steps per copy in each fixed-length rollout."""
    psi: PsiKind = "gae"
    """Psi_t: return, reward_to_go or gae (rollout steps: gae)."""
    baseline: Baseline = "value"
    """Subtracted from Psi_t: none, mean or value (gae needs value)."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.97
    """lambda of GAE."""
    normalize_advantages: bool = True
    """Standardise Psi_t over the batch."""
    normalize_rewards: bool = False
    """Divide rewards by a running standard deviation of the discounted return."""
    max_kl: float = 0.01
    """delta: the mean KL(pi_old || pi_new) over the batch's states that one step may reach."""
    damping: float = 0.1
    """Added to the Fisher's diagonal: conjugate gradient solves (F + damping I) x = g."""
    cg_iters: int = 10
    """Conjugate-gradient iterations per update."""
    value_epochs: int = 5
    """Passes of Adam (value_lr) over the batch on the value loss after each policy step."""
    value_minibatches: int = 16
    """Minibatches per pass (a recurrent policy takes whole batches)."""
    env: EnvConfig = EnvConfig(num_envs=8)
    policy: PolicyConfig = PolicyConfig(hidden_sizes=(64, 64))
    optim: OptimConfig = OptimConfig(value_lr=1e-3)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name, example in (("episodes_per_update", "16"), ("num_steps", "512"),
                              ("cg_iters", "10"), ("value_minibatches", "16")):  # fmt: skip
            require_positive_int(self, name, f"e.g. --{name.replace('_', '-')} {example}")
        require(isinstance(self.value_epochs, int) and self.value_epochs >= 0,
                f"value_epochs must be an integer >= 0 (got {self.value_epochs!r})")  # fmt: skip
        require_discount(self)
        for name in ("max_kl", "damping"):
            value = getattr(self, name)
            require(isinstance(value, int | float) and math.isfinite(value) and value > 0,
                    f"{name} must be a positive number (got {value!r}), e.g. --"
                    f"{name.replace('_', '-')} 0.01")  # fmt: skip
        self.recipe  # noqa: B018  (checks psi, baseline and gae_lambda together)
        require(self.rollout == "episodes" or (self.psi, self.baseline) == ("gae", "value"),
                "rollout steps cuts episodes, so Psi_t must bootstrap: --psi gae --baseline "
                "value (or --rollout episodes for return or reward_to_go)")  # fmt: skip
        require(not self.needs_value or self.policy.value_network == "separate",
                "npg and trpo fit V apart from the policy: --value-network separate")  # fmt: skip
        steps = self.env.num_envs * self.num_steps
        require(steps <= MAX_ROLLOUT_STEPS, f"num_envs * num_steps must be at most "
                f"{MAX_ROLLOUT_STEPS:,} (got {steps:,})")  # fmt: skip

    @property
    def recipe(self) -> PsiRecipe:
        """The weighting Psi_t this config trains."""
        return PsiRecipe(self.psi, self.baseline, self.gae_lambda, self.normalize_advantages)

    @property
    def needs_value(self) -> bool:
        """Whether the policy learns V(s)."""
        return self.baseline == "value"


def make_sampler(cfg: NaturalConfig, envs: VectorEnv, seed: int) -> Sampler:
    """Complete episodes, or fixed-length rollouts, as ``cfg.rollout`` says."""
    if cfg.rollout == "episodes":
        return EpisodeSampler(envs, cfg.episodes_per_update, seed=seed)
    return FixedLengthSampler(envs, cfg.num_steps, seed=seed, log_probs=True)


StepRule = Callable[["Objective", list[nn.Parameter], Tensor, float], float]
"""How the step is taken: (objective, params, full step, L before) -> the fraction taken."""


def full_step(objective: Objective, params: list[nn.Parameter], full: Tensor,
              before: float) -> float:  # fmt: skip
    """NPG: the whole step, always."""
    add_to_params(params, full)
    return 1.0


def natural_update(
    policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: NaturalConfig,
    generator: torch.Generator, *, take: StepRule = full_step,
) -> Metrics:  # fmt: skip
    """One natural-gradient policy step, taken by ``take`` (NPG: :func:`full_step`; TRPO: its
    line search), then the value regression; the module docstring gives the steps."""
    batch = estimate(batch, cfg)
    objective = Objective(policy, batch)
    params = policy.policy_parameters()
    surrogate, entropy = objective.surrogate()
    g = flat_grad(surrogate, params)
    product = fisher_vector_product(objective.mean_kl, params, damping=cfg.damping)
    x = conjugate_gradient(product, g, iters=cfg.cg_iters)
    full = torch.sqrt(2 * cfg.max_kl / (x @ product(x)).clamp_min(1e-20)) * x
    if not bool(torch.isfinite(full).all()):
        raise NonFiniteError("the natural-gradient step is not finite")
    taken = take(objective, params, full, surrogate.item())
    with torch.no_grad():
        after, kl = objective.surrogate()[0], objective.mean_kl()
    metrics = {"loss/policy": -float(after), "policy/entropy": entropy.item(),
               "policy/approx_kl": float(kl), "opt/grad_norm": float(g.norm()),
               "opt/lr": taken}  # fmt: skip
    if cfg.needs_value and cfg.value_epochs > 0:
        metrics["loss/value"] = fit_value(policy, optimizer, batch, cfg, generator)
    return metrics


class Objective:
    """The surrogate L and the mean KL from the policy as it was when the batch was taken."""

    def __init__(self, policy: MLPPolicy, batch: Batch) -> None:
        self.policy, self.batch = policy, batch
        self.valid = batch.mask.bool()
        self.rows = (batch.obs, batch.mask, batch.starts, batch.initial_state)
        assert batch.advantages is not None
        self.advantages = batch.advantages[self.valid]
        with torch.no_grad():
            self.old = policy.distribution_steps(*self.rows)
            self.old_log_probs = self._log_probs()[0]

    def _log_probs(self) -> tuple[Tensor, Tensor]:
        b = self.batch
        log_probs, entropy, _ = self.policy.evaluate_steps(b.obs, b.actions, b.mask, b.starts,
                                                           b.initial_state)  # fmt: skip
        return log_probs[self.valid], entropy[self.valid].mean()

    def surrogate(self) -> tuple[Tensor, Tensor]:
        """L(theta) (with autograd) and the mean entropy of pi_theta over the batch's states."""
        log_probs, entropy = self._log_probs()
        return (torch.exp(log_probs - self.old_log_probs) * self.advantages).mean(), entropy

    def mean_kl(self) -> Tensor:
        """Mean over the batch's states of KL(pi_old || pi_theta) (with autograd)."""
        return self.policy.head.kl(self.old, self.policy.distribution_steps(*self.rows)).mean()


def backtrack(objective: Objective, params: list[nn.Parameter], full: Tensor, before: float, *,
              max_kl: float, iters: int, coef: float) -> float:  # fmt: skip
    """TRPO's line search: the first fraction ``coef ** j`` of ``full`` (j < ``iters``) whose
    step keeps the mean KL within ``max_kl`` and improves L; the parameters are left there (or
    where they were, returning 0, when none does)."""
    done = 0.0
    for j in range(iters):
        fraction = coef**j
        add_to_params(params, (fraction - done) * full)
        done = fraction
        with torch.no_grad():
            kl, after = float(objective.mean_kl()), float(objective.surrogate()[0])
        if math.isfinite(kl) and kl <= max_kl and after > before:
            return fraction
    add_to_params(params, -done * full)
    return 0.0


def fit_value(policy: MLPPolicy, optimizer: Adam, batch: Batch, cfg: NaturalConfig,
              generator: torch.Generator) -> float:  # fmt: skip
    """``value_epochs`` passes of ``value_minibatches`` Adam steps on the value loss (shuffled by
    ``generator``; whole batches for a recurrent policy); the last loss."""
    assert batch.targets is not None
    if policy.recurrent:
        rows = (batch.obs, batch.mask, batch.starts, batch.initial_state)
        for _ in range(cfg.value_epochs):
            loss = value_loss(policy.value_steps(*rows), batch.targets, batch.mask)
            step(optimizer, loss, policy, cfg.optim.max_grad_norm)
        return float(loss.detach())
    valid = batch.mask.bool()
    obs, targets = batch.obs[valid], batch.targets[valid]
    for _ in range(cfg.value_epochs):
        order = torch.randperm(targets.shape[0], generator=generator)
        for chunk in order.chunk(cfg.value_minibatches):
            loss = value_loss(policy.value(obs[chunk]), targets[chunk],
                              torch.ones_like(targets[chunk]))  # fmt: skip
            step(optimizer, loss, policy, cfg.optim.max_grad_norm)
    return float(loss.detach())
