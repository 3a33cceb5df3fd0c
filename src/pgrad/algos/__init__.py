"""Algorithms: each module has ``update(policy, optimizer, batch, cfg, generator) -> metrics``.

reinforce and vpg update on complete episodes (:mod:`pgrad.rollout.episodes`); a2c and ppo on
fixed-length rollouts (:mod:`pgrad.rollout.fixed`). See :data:`pgrad.config.ALGO_DEFAULTS`.
"""

from types import ModuleType

from pgrad.algos import a2c, ppo, reinforce

ALGORITHMS: dict[str, ModuleType] = {
    "reinforce": reinforce,
    "vpg": reinforce,
    "a2c": a2c,
    "ppo": ppo,
}
"""The module whose ``update`` each algorithm uses."""
