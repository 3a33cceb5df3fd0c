"""Plain-loop reference estimators, written for clarity, that the vectorised ones must match."""

from __future__ import annotations

import numpy as np


def gae_reference(rewards, values, next_values, terminated, truncated, mask, gamma, lam):
    """GAE one row and one step at a time, straight from the definition."""
    rows, horizon = rewards.shape
    out = np.zeros((rows, horizon))
    for b in range(rows):
        following = 0.0
        for t in reversed(range(horizon)):
            if not mask[b, t]:  # padding or an autoreset step: nothing flows through it
                following = 0.0
                continue
            bootstrap = 0.0 if terminated[b, t] else next_values[b, t]
            delta = rewards[b, t] + gamma * bootstrap - values[b, t]
            if terminated[b, t] or truncated[b, t]:
                following = 0.0
            out[b, t] = delta + gamma * lam * following
            following = out[b, t]
    return out


def returns_to_go_reference(rewards, mask, gamma):
    """G_t by the double sum."""
    rows, horizon = rewards.shape
    out = np.zeros((rows, horizon))
    for b in range(rows):
        for t in range(horizon):
            if mask[b, t]:
                out[b, t] = sum(
                    gamma ** (k - t) * rewards[b, k] * mask[b, k] for k in range(t, horizon)
                )
    return out
