"""Typed training configuration; the ``pgrad train`` command line is derived from it.

Every field carries a docstring, which becomes its ``--help`` text. Values are checked in
``__post_init__``, so a bad value fails before anything is created or written.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pgrad.errors import PgradError

Activation = Literal["tanh", "relu"]
Algo = Literal["reinforce", "vpg", "a2c", "ppo"]
Psi = Literal["return", "reward_to_go", "gae"]
Baseline = Literal["none", "mean", "value"]

EPISODIC_ALGOS = ("reinforce", "vpg")
"""Algorithms that update on m complete episodes; the others use fixed-length rollouts."""

COMMON_DEFAULTS: dict[str, Any] = dict(
    episodes_per_update=8,
    num_steps=128,
    gae_lambda=0.95,
    value_epochs=0,
    entropy_coef=0.0,
    update_epochs=1,
    num_minibatches=1,
    clip_coef=0.2,
    max_grad_norm=0.0,
    eval_interval=1,
    normalize_observations=False,
)
"""Values for fields that an algorithm's defaults leave unset."""

ALGO_DEFAULTS: dict[str, dict[str, Any]] = {
    # The theorem's estimator with the unbiased variance reductions that train CartPole-v1 fastest
    # in wall-clock time (benchmarks/sweep_reinforce.py, docs/performance.md): reward-to-go minus
    # the mean of the other trajectories, standardised observations, 48 episodes on 48 copies.
    "reinforce": dict(
        num_envs=48,
        episodes_per_update=48,
        gamma=1.0,
        psi="reward_to_go",
        baseline="mean",
        normalize_advantages=False,
        normalize_observations=True,
        hidden_sizes=(32,),
        lr=0.05,
        value_lr=0.05,
        value_epochs=0,
    ),
    # Spinning Up's VPG: GAE(0.99, 0.97) with a learned value function fitted after each step.
    "vpg": dict(
        num_envs=8,
        episodes_per_update=8,
        gamma=0.99,
        gae_lambda=0.97,
        psi="gae",
        baseline="value",
        normalize_advantages=True,
        hidden_sizes=(64, 64),
        lr=0.003,
        value_lr=0.003,
        value_epochs=20,
    ),
    # Synchronous n-step advantage actor-critic (Mnih et al., 2016), n = 5.
    "a2c": dict(
        num_envs=8,
        num_steps=5,
        gamma=0.99,
        gae_lambda=1.0,
        psi="gae",
        baseline="value",
        normalize_advantages=False,
        hidden_sizes=(64, 64),
        lr=7e-4,
        value_lr=7e-4,
        max_grad_norm=0.5,
        value_coef=0.5,
        eval_interval=250,  # an update is 40 steps: evaluate about every 10k steps
    ),
    # PPO with the clipped surrogate (Schulman et al., 2017), settings of the original Atari/MuJoCo
    # line of implementations scaled to classic control.
    "ppo": dict(
        num_envs=8,
        num_steps=128,
        gamma=0.99,
        gae_lambda=0.95,
        psi="gae",
        baseline="value",
        normalize_advantages=True,
        hidden_sizes=(64, 64),
        lr=2.5e-4,
        value_lr=2.5e-4,
        lr_schedule="linear",
        max_grad_norm=0.5,
        entropy_coef=0.01,
        value_coef=0.5,
        update_epochs=4,
        num_minibatches=4,
        clip_coef=0.2,
        eval_interval=10,  # an update is 1024 steps: evaluate about every 10k steps
    ),
}
"""Per-algorithm values of the fields left unset (None) in :class:`Config`."""


@dataclass(frozen=True)
class Config:
    """Train a policy-gradient agent on a Gymnasium environment.

    Every algorithm feeds weights Psi_t to the same score-function loss
    -E[log pi(a_t|s_t) Psi_t] (PPO: its clipped-ratio surrogate). reinforce: the policy-gradient
    theorem's g_hat (Williams, 1992), by default with reward-to-go and a leave-one-out mean
    baseline (unbiased; --psi return --baseline none is the formula as stated, R(tau)); vpg: GAE
    with a learned baseline, one policy
    step per batch of complete episodes; a2c: n-step returns on fixed-length rollouts; ppo:
    clipped surrogate, several epochs of minibatches. Fields left at None take the algorithm's
    default (`pgrad train --algo NAME --help` shows them). Training stops when the policy is
    solved or the step budget is spent.
    """

    algo: Algo = "reinforce"
    """Algorithm: reinforce, vpg, a2c or ppo."""

    # --- environment -------------------------------------------------------------------------
    env: str = "CartPole-v1"
    """Gymnasium id; needs a Box observation space and a Discrete or Box action space."""
    num_envs: int | None = None
    """Environment copies stepped together (one batched policy forward per step)."""
    max_episode_steps: int | None = None
    """Override the environment's time limit (None keeps the registered one)."""

    # --- sampling -----------------------------------------------------------------------------
    episodes_per_update: int | None = None
    """m: complete episodes per update (reinforce, vpg; the 1/m in the loss)."""
    num_steps: int | None = None
    """Steps per copy in each fixed-length rollout (a2c, ppo)."""

    # --- estimator: the weights Psi_t -----------------------------------------------------------
    gamma: float | None = None
    """Discount; reinforce's default 1.0 is the undiscounted return of the theorem."""
    psi: Psi | None = None
    """Psi_t: return (R(tau), the theorem's), reward_to_go (sum_{t'>=t} gamma^t' r_t') or gae."""
    baseline: Baseline | None = None
    """Subtracted from Psi_t: none, mean (the other trajectories' mean Psi_t: unbiased) or value
    (learned V(s_t)); gae needs value."""
    gae_lambda: float | None = None
    """lambda of GAE (1.0: bootstrapped n-step returns, 0.0: one-step TD residuals)."""
    normalize_advantages: bool | None = None
    """Standardise Psi_t over the batch."""
    normalize_rewards: bool = False
    """Divide rewards by a running standard deviation of the discounted return."""
    normalize_observations: bool | None = None
    """Standardise observations with running statistics (saved in checkpoints, frozen at eval);
    on by default for reinforce."""

    # --- policy, value function and optimiser ---------------------------------------------------
    hidden_sizes: tuple[int, ...] | None = None
    """Widths of the hidden layers (empty for a linear policy); the value network has the same."""
    activation: Activation = "tanh"
    """Non-linearity between hidden layers."""
    init_log_std: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box action spaces only)."""
    value_network: Literal["separate", "shared"] = "separate"
    """A separate value MLP, or a value head on the policy's hidden layers."""
    lr: float | None = None
    """Adam learning rate of the policy."""
    value_lr: float | None = None
    """Adam learning rate of a separate value network."""
    lr_schedule: Literal["constant", "linear"] = "constant"
    """constant, or linear decay to 0 over the step budget."""
    value_coef: float = 0.5
    """Weight of the value loss in the joint loss (a2c, ppo; matters for a shared network)."""
    value_epochs: int | None = None
    """Full-batch value-regression steps after each policy step (reinforce, vpg)."""
    entropy_coef: float | None = None
    """Weight of the entropy bonus."""
    max_grad_norm: float | None = None
    """Clip the gradient's global norm to this (0: no clipping)."""

    # --- ppo ----------------------------------------------------------------------------------
    update_epochs: int | None = None
    """Passes over each rollout."""
    num_minibatches: int | None = None
    """Minibatches per pass; must divide num_envs * num_steps."""
    clip_coef: float | None = None
    """epsilon of the clipped ratio."""
    value_clip: float = 0.0
    """Clip V to within this of its rollout value in the value loss (0: no clipping)."""
    target_kl: float = 0.0
    """Stop an update's epochs early once the approximate KL exceeds this (0: never)."""

    # --- budget and evaluation ----------------------------------------------------------------
    total_env_steps: int = 500_000
    """Budget of environment steps; training stops when it is spent, solved or not."""
    target_return: float | None = None
    """Mean evaluation return that counts as solved (None: the environment's reward_threshold)."""
    eval_episodes: int = 100
    """Episodes per evaluation, all stepped together; the policy samples its actions."""
    eval_interval: int | None = None
    """Also evaluate every this many updates (0: only when a batch reaches the target, and at the
    end); reinforce and vpg evaluate after every update."""
    confirm_episodes: int = 1000
    """When an evaluation reaches the target, confirm it on this many fresh episodes before
    calling the run solved; training goes on if the confirmation fails (0: no confirmation)."""

    # --- run ----------------------------------------------------------------------------------
    seed: int = 1
    """Seed for the policy's initial weights, action sampling and environment resets."""
    run_dir: Path | None = None
    """Where outputs go (default runs/<env>__<algo>__<seed>__<timestamp>); must not exist yet."""
    tensorboard: bool = True
    """Write TensorBoard event files into the run directory."""
    progress: bool = True
    """Show a live progress bar."""
    torch_threads: int = 1
    """Threads for PyTorch; one is fastest for small networks."""

    @property
    def episodic(self) -> bool:
        """Whether updates use complete episodes (reinforce, vpg) or fixed-length rollouts."""
        return self.algo in EPISODIC_ALGOS

    def __post_init__(self) -> None:
        require(
            self.algo in ALGO_DEFAULTS,
            f"algo must be one of {', '.join(ALGO_DEFAULTS)} (got {self.algo!r})",
        )
        fallback = {**COMMON_DEFAULTS, **ALGO_DEFAULTS[self.algo]}
        for f in dataclasses.fields(self):
            if getattr(self, f.name) is None and f.name in fallback:
                object.__setattr__(self, f.name, fallback[f.name])
        require(
            bool(self.env.strip()), "env must name a Gymnasium environment, e.g. --env CartPole-v1"
        )
        require_positive_int(self, "num_envs", "e.g. --num-envs 8")
        require_positive_int(self, "episodes_per_update", "e.g. --episodes-per-update 16")
        require_positive_int(self, "total_env_steps", "e.g. --total-env-steps 100000")
        require_positive_int(self, "eval_episodes", "e.g. --eval-episodes 100")
        require_positive_int(self, "torch_threads", "e.g. --torch-threads 1")
        if self.max_episode_steps is not None:
            require_positive_int(self, "max_episode_steps", "or leave it unset")
        require(
            self.confirm_episodes >= 0,
            f"confirm_episodes must be >= 0 (got {self.confirm_episodes}); e.g. 1000",
        )
        require(
            isinstance(self.eval_interval, int) and self.eval_interval >= 0,
            f"eval_interval must be >= 0 (got {self.eval_interval}); 0 turns it off",
        )
        require(
            math.isfinite(self.lr) and self.lr > 0,
            f"lr must be a positive number (got {self.lr}); try --lr 0.01",
        )
        require(
            math.isfinite(self.gamma) and 0.0 < self.gamma <= 1.0,
            f"gamma must be in (0, 1] (got {self.gamma}); try --gamma 0.99",
        )
        require(
            all(isinstance(h, int) and h > 0 for h in self.hidden_sizes),
            f"hidden_sizes must be positive integers (got {self.hidden_sizes}); "
            "try --hidden-sizes 64 64",
        )
        require(
            math.isfinite(self.init_log_std),
            f"init_log_std must be finite (got {self.init_log_std}); try --init-log-std 0.0",
        )
        if self.target_return is not None:
            require(
                math.isfinite(self.target_return),
                f"target_return must be finite (got {self.target_return}); or leave it unset",
            )
        require_positive_int(self, "num_steps", "e.g. --num-steps 128")
        require_positive_int(self, "update_epochs", "e.g. --update-epochs 4")
        require_positive_int(self, "num_minibatches", "e.g. --num-minibatches 4")
        require(
            isinstance(self.value_epochs, int) and self.value_epochs >= 0,
            f"value_epochs must be an integer >= 0 (got {self.value_epochs})",
        )
        for name in ("value_lr", "clip_coef"):
            value = getattr(self, name)
            require(math.isfinite(value) and value > 0, f"{name} must be positive (got {value})")
        for name in ("entropy_coef", "max_grad_norm", "value_coef", "value_clip", "target_kl"):
            value = getattr(self, name)
            require(math.isfinite(value) and value >= 0, f"{name} must be >= 0 (got {value})")
        require(
            0.0 <= self.gae_lambda <= 1.0,
            f"gae_lambda must be in [0, 1] (got {self.gae_lambda}); try --gae-lambda 0.95",
        )
        require(
            self.psi != "gae" or self.baseline == "value",
            "psi gae needs a learned value function: add --baseline value",
        )
        if not self.episodic:
            require(
                self.psi == "gae" and self.baseline == "value",
                f"{self.algo} uses psi gae with baseline value (n-step returns are gae with "
                "--gae-lambda 1)",
            )
            batch = self.num_envs * self.num_steps
            require(
                batch % self.num_minibatches == 0,
                f"num_minibatches ({self.num_minibatches}) must divide num_envs * num_steps "
                f"({batch})",
            )

    def to_json(self) -> dict[str, Any]:
        """The resolved config as JSON-ready values (paths as strings, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Path) else value
            if isinstance(value, tuple):
                out[f.name] = list(value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Config:
        """Rebuild a config saved by :meth:`to_json`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        require(not unknown, f"unknown config keys {unknown}; expected a subset of {sorted(names)}")
        kwargs = dict(data)
        if "hidden_sizes" in kwargs:
            kwargs["hidden_sizes"] = tuple(kwargs["hidden_sizes"])
        if kwargs.get("run_dir") is not None:
            kwargs["run_dir"] = Path(kwargs["run_dir"])
        return cls(**kwargs)

    def dumps(self) -> str:
        """The resolved config as indented JSON text."""
        return json.dumps(self.to_json(), indent=2)


def require(condition: bool, message: str) -> None:
    """Raise :class:`PgradError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise PgradError(message)


def require_positive_int(cfg: object, name: str, hint: str) -> None:
    """Require the field ``name`` of ``cfg`` to be an integer >= 1."""
    value = getattr(cfg, name)
    require(
        isinstance(value, int) and value >= 1,
        f"{name} must be a positive integer (got {value}); {hint}",
    )
