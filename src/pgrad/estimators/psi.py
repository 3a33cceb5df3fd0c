"""One Psi recipe: the weights Psi_t of the score-function loss, for the trainer and the lab alike.

Every algorithm is the loss -E[log pi(a_t|s_t) Psi_t] with a different Psi_t. A
:class:`PsiRecipe` names the choice in one vocabulary, and :func:`psi_weights` computes it from a
batch's tensors; ``pgrad train`` (through each algorithm's ``estimate``) and ``pgrad lab``
(through :mod:`pgrad.lab.sampling`) call the same function, so the lab measures exactly the
weighting that training optimises. Names (``PsiRecipe.name`` / :func:`parse_recipe`)::

    KIND[+BASELINE][+lambda=L][+std]

- KIND: ``return`` (R(tau), the theorem's g_hat; alias ``reinforce``), ``reward_to_go``
  (sum_{t'>=t} gamma^t' r_t') or ``gae`` (GAE(gamma, lambda) with the batch's values);
- BASELINE (not for gae): ``mean`` (the other trajectories' mean Psi_t at the same step:
  unbiased) or ``value`` (minus gamma^t V(s_t): unbiased for any V);
- ``lambda=L``: GAE's lambda (gae only; default 0.95);
- ``std``: standardise Psi_t over the batch's real steps.

For example ``reward_to_go+mean`` (``pgrad train``'s default) or ``gae+lambda=0.97+std`` (vpg's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from pgrad.errors import PgradError
from pgrad.estimators.advantages import batch_mean_baseline, gae, standardize, value_baseline
from pgrad.estimators.returns import reward_to_go, trajectory_return_weights

PsiKind = Literal["return", "reward_to_go", "gae"]
Baseline = Literal["none", "mean", "value"]

KINDS: tuple[str, ...] = ("return", "reward_to_go", "gae")
BASELINES: tuple[str, ...] = ("none", "mean", "value")
ALIASES = {"reinforce": "return"}
"""Other names of a kind."""


@dataclass(frozen=True)
class PsiRecipe:
    """Which Psi_t: kind, baseline, GAE's lambda and standardisation (gamma comes separately).

    Attributes:
        kind: ``return``, ``reward_to_go`` or ``gae``.
        baseline: ``none``, ``mean`` or ``value``; gae implies ``value``.
        gae_lambda: lambda of GAE, and of the value targets of a value baseline (1.0 there).
        standardize: standardise Psi_t over the real steps of the batch.
    """

    kind: PsiKind = "return"
    baseline: Baseline = "none"
    gae_lambda: float = 0.95
    standardize: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PgradError(f"psi must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.baseline not in BASELINES:
            raise PgradError(
                f"baseline must be one of {', '.join(BASELINES)} (got {self.baseline!r})"
            )
        if self.kind == "gae" and self.baseline != "value":
            raise PgradError("psi gae needs a learned value function: add --baseline value")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise PgradError(f"gae_lambda must be in [0, 1] (got {self.gae_lambda}); try 0.95")

    @property
    def needs_values(self) -> bool:
        """Whether the recipe reads V(s_t) and V(s_{t+1})."""
        return self.baseline == "value"

    @property
    def name(self) -> str:
        """The recipe in the shared vocabulary (see the module docstring)."""
        parts = [self.kind]
        if self.kind == "gae":
            parts.append(f"lambda={self.gae_lambda:g}")
        elif self.baseline != "none":
            parts.append(self.baseline)
        if self.standardize:
            parts.append("std")
        return "+".join(parts)


def parse_recipe(name: str) -> PsiRecipe:
    """The :class:`PsiRecipe` a name describes (``reward_to_go+mean``, ``gae+lambda=0.9+std``).

    Raises:
        PgradError: an unknown part, naming the vocabulary.
    """
    kind, *rest = name.strip().split("+")
    kind = ALIASES.get(kind, kind)
    baseline, lam, std = ("value" if kind == "gae" else "none"), 0.95, False
    for part in rest:
        if part in BASELINES and kind != "gae":
            baseline = part
        elif part == "std":
            std = True
        elif part.startswith("lambda=") and kind == "gae":
            try:
                lam = float(part.removeprefix("lambda="))
            except ValueError:
                raise PgradError(
                    f"{name!r}: lambda must be a number, e.g. gae+lambda=0.9"
                ) from None
        else:
            raise PgradError(
                f"unknown part {part!r} in {name!r}; expected KIND[+BASELINE][+lambda=L][+std] "
                f"with KIND in {', '.join(KINDS)} and BASELINE in mean, value (not for gae)"
            )
    if kind not in KINDS:
        raise PgradError(f"unknown psi {kind!r} in {name!r}; expected one of {', '.join(KINDS)}")
    return PsiRecipe(kind, baseline, lam, std)  # type: ignore[arg-type]


def psi_weights(
    rewards: Tensor,
    mask: Tensor,
    terminated: Tensor,
    truncated: Tensor,
    values: Tensor,
    next_values: Tensor,
    *,
    recipe: PsiRecipe,
    gamma: float,
) -> tuple[Tensor, Tensor]:
    """Psi_t and value targets, each float [B, T], as ``recipe`` says.

    Args:
        rewards, mask, values, next_values: float [B, T] (see :mod:`pgrad.types`; values are read
            only by recipes with a value baseline or gae).
        terminated, truncated: bool [B, T].
        recipe: the weighting.
        gamma: discount in (0, 1].

    Returns:
        (psi, targets): psi is 0.0 on masked steps; targets are GAE(gamma, lambda) + V for gae
        and GAE(gamma, 1) + V (the bootstrapped discounted return) for a value baseline, which
        bootstraps a truncated episode from V of its final observation; zeros without values.
    """
    targets = torch.zeros_like(mask)
    if recipe.needs_values:
        lam = recipe.gae_lambda if recipe.kind == "gae" else 1.0
        advantages = gae(rewards, values, next_values, terminated, truncated, mask,
                         gamma=gamma, gae_lambda=lam)  # fmt: skip
        targets = (advantages + values) * mask
    if recipe.kind == "gae":
        psi = advantages
    else:
        weigh = trajectory_return_weights if recipe.kind == "return" else reward_to_go
        psi = weigh(rewards, mask, gamma=gamma)
        if recipe.baseline == "mean":
            psi = batch_mean_baseline(psi, mask)
        elif recipe.baseline == "value":
            psi = value_baseline(psi, values, mask, gamma=gamma)
    if recipe.standardize:
        psi = standardize(psi, mask)
    return psi * mask, targets
