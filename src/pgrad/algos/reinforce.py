"""REINFORCE: one policy step on m complete episodes, then optional value regression.

    g_hat = (1/m) sum_i sum_t grad log pi(a_t^i | s_t^i) Psi_t^i

With Psi_t = R(tau_i) (``--psi return --baseline none``) this is the policy-gradient theorem's
estimator as stated; the defaults keep its expectation and lower its variance (reward-to-go minus
the other trajectories' mean). Data flow of one update: episode batch -> Psi_t
(:func:`pgrad.estimators.psi_weights` with :attr:`ReinforceConfig.recipe`) -> surrogate loss
(:func:`pgrad.losses.score_function_loss`, averaged over trajectories) -> one optimiser step ->
``value_epochs`` full-batch steps on the value loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from gymnasium.vector import VectorEnv

from pgrad.algos.adam import Adam
from pgrad.algos.common import estimate, require_discount, step
from pgrad.config import (
    EnvConfig,
    EvalConfig,
    OptimConfig,
    PolicyConfig,
    TrainConfig,
    require,
    require_nonnegative,
    require_positive_int,
)
from pgrad.estimators.psi import Baseline, PsiKind, PsiRecipe
from pgrad.losses.policy import score_function_loss
from pgrad.losses.value import value_loss
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.batch import Batch
from pgrad.rollout.episodes import EpisodeSampler
from pgrad.types import Metrics


@dataclass(frozen=True)
class ReinforceConfig(TrainConfig):
    """Train REINFORCE (Williams, 1992): the policy-gradient theorem's estimator g_hat on m complete
    episodes per update, one Adam step per batch. Defaults: reward-to-go minus the other
    trajectories' mean (unbiased), standardised observations, m = 48 on 48 copies; `--psi return
    --baseline none` is the formula as stated, Psi_t = R(tau). Stops when solved or when the step
    budget is spent."""

    algo: ClassVar[str] = "reinforce"

    episodes_per_update: int = 48
    """m: complete episodes per update (the 1/m in the loss)."""
    psi: PsiKind = "reward_to_go"
    """Psi_t: return (R(tau), the theorem's), reward_to_go (sum_{t'>=t} gamma^t' r_t') or gae."""
    baseline: Baseline = "mean"
    """Subtracted from Psi_t: none, mean (the other trajectories' mean Psi_t: unbiased) or value
    (a learned gamma^t V(s_t)); gae needs value."""
    gamma: float = 1.0
    """Discount; 1.0 is the undiscounted return of the theorem."""
    gae_lambda: float = 0.95
    """lambda of GAE (psi gae only)."""
    normalize_advantages: bool = False
    """Standardise Psi_t over the batch."""
    normalize_rewards: bool = False
    """Divide rewards by a running standard deviation of the discounted return."""
    value_epochs: int = 0
    """Full-batch value-regression steps after each policy step (baseline value)."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus."""
    env: EnvConfig = EnvConfig(num_envs=48)
    policy: PolicyConfig = PolicyConfig(hidden_sizes=(32,), normalize_observations=True)
    optim: OptimConfig = OptimConfig(lr=0.05, value_lr=0.05)
    eval: EvalConfig = EvalConfig(eval_interval=5)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive_int(self, "episodes_per_update", "e.g. --episodes-per-update 16")
        require_discount(self)
        require(
            isinstance(self.value_epochs, int) and self.value_epochs >= 0,
            f"value_epochs must be an integer >= 0 (got {self.value_epochs})",
        )
        require_nonnegative(self, "entropy_coef")
        self.recipe  # noqa: B018  (checks psi, baseline and gae_lambda together)

    @property
    def recipe(self) -> PsiRecipe:
        """The weighting Psi_t this config trains (``pgrad lab --estimators NAME`` measures it)."""
        return PsiRecipe(self.psi, self.baseline, self.gae_lambda, self.normalize_advantages)

    @property
    def needs_value(self) -> bool:
        """Whether the policy learns V(s) (a value baseline or gae)."""
        return self.baseline == "value"


Config = ReinforceConfig


def make_sampler(cfg: ReinforceConfig, envs: VectorEnv, seed: int) -> EpisodeSampler:
    """m complete episodes per batch (no log pi_old: the loss evaluates its own)."""
    return EpisodeSampler(envs, cfg.episodes_per_update, seed=seed)


def loss(policy: MLPPolicy, batch: Batch, cfg: ReinforceConfig) -> tuple[torch.Tensor, Metrics]:
    """The policy loss of ``batch`` (gradient -g_hat, minus the entropy bonus) and statistics.

    Psi_t is ``batch.advantages`` once :func:`pgrad.algos.common.estimate` has filled it.
    """
    if batch.advantages is None:
        batch = estimate(batch, cfg)
    mask = batch.mask
    log_probs, entropy_steps, _ = policy.evaluate_steps(
        batch.obs, batch.actions, mask, batch.starts, batch.initial_state
    )
    entropy = entropy_steps.sum() / mask.sum().clamp_min(1.0)
    value = score_function_loss(log_probs, batch.advantages, batch.mask)
    if cfg.entropy_coef > 0:  # (a zero-weighted term would still cost a backward pass)
        value = value - cfg.entropy_coef * entropy
    return value, {"loss/policy": value.detach().item(), "policy/entropy": entropy.item()}


def update(
    policy: MLPPolicy,
    optimizer: Adam,
    batch: Batch,
    cfg: ReinforceConfig,
    generator: torch.Generator,
) -> Metrics:
    """One gradient-ascent step along g_hat, then ``value_epochs`` value-function steps."""
    batch = estimate(batch, cfg)
    policy_loss, metrics = loss(policy, batch, cfg)
    metrics["opt/grad_norm"] = step(optimizer, policy_loss, policy, cfg.optim.max_grad_norm)
    if cfg.needs_value and cfg.value_epochs > 0:
        assert batch.targets is not None
        rows = (batch.obs, batch.mask, batch.starts, batch.initial_state)
        for _ in range(cfg.value_epochs):
            v_loss = value_loss(policy.value_steps(*rows), batch.targets, batch.mask)
            step(optimizer, v_loss, policy, cfg.optim.max_grad_norm)
        metrics["loss/value"] = v_loss.item()
    return metrics
