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


@dataclass(frozen=True)
class Config:
    """Train REINFORCE (Williams, 1992) on a Gymnasium environment.

    Each update samples m complete episodes with the current policy and takes one gradient step on
    loss = -(1/m) sum_i sum_t log pi(a_t|s_t) R(tau_i), whose gradient is minus the estimate g_hat
    of grad J, the policy-gradient theorem's estimator. Training stops when the policy is solved
    or the step budget is spent.
    """

    # --- environment -------------------------------------------------------------------------
    env: str = "CartPole-v1"
    """Gymnasium id; needs a Box observation space and a Discrete or Box action space."""
    num_envs: int = 8
    """Environment copies stepped together (one batched policy forward per step)."""
    max_episode_steps: int | None = None
    """Override the environment's time limit (None keeps the registered one)."""

    # --- estimator ----------------------------------------------------------------------------
    episodes_per_update: int = 8
    """m: complete episodes per gradient estimate (the 1/m in the loss)."""
    gamma: float = 1.0
    """Discount in R(tau) = sum_t gamma^t r_t; 1.0 is the undiscounted return of the theorem."""

    # --- policy and optimiser -----------------------------------------------------------------
    hidden_sizes: tuple[int, ...] = (32,)
    """Widths of the policy network's hidden layers (empty for a linear policy)."""
    activation: Activation = "tanh"
    """Non-linearity between hidden layers."""
    init_log_std: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box action spaces only)."""
    lr: float = 0.01
    """Adam learning rate."""

    # --- budget and evaluation ----------------------------------------------------------------
    total_env_steps: int = 500_000
    """Budget of environment steps; training stops when it is spent, solved or not."""
    target_return: float | None = None
    """Mean evaluation return that counts as solved (None: the environment's reward_threshold)."""
    eval_episodes: int = 100
    """Episodes per evaluation, all stepped together; the policy samples its actions."""
    eval_interval: int = 20
    """Also evaluate every this many updates (0: only when a batch reaches the target, and at the
    end)."""

    # --- run ----------------------------------------------------------------------------------
    seed: int = 1
    """Seed for the policy's initial weights, action sampling and environment resets."""
    run_dir: Path | None = None
    """Where outputs go (default runs/<env>__reinforce__<seed>__<timestamp>); must not exist yet."""
    tensorboard: bool = True
    """Write TensorBoard event files into the run directory."""
    progress: bool = True
    """Show a live progress bar."""
    torch_threads: int = 1
    """Threads for PyTorch; one is fastest for small networks."""

    def __post_init__(self) -> None:
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
            self.eval_interval >= 0,
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
