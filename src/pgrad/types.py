"""Shapes and conventions shared by every module of pgrad.

Shape glossary (used in every docstring):

- ``m``: trajectories (complete episodes) in one batch.
- ``T``: time steps; in a padded episode batch, the longest episode's length.
- ``N``: environments stepped together by a vector environment.
- ``S``, ``A``: numbers of states and actions of a finite MDP.
- ``obs_dim``, ``act_dim``: flattened observation and action sizes.

Episode batches are trajectory-major and padded: ``rewards[i, t]`` is the reward of the t-th
decision of trajectory ``i``, and ``mask[i, t]`` is 1.0 where that decision exists and 0.0 in the
padding after the episode ended. Padding entries hold zeros and never contribute to a loss.

End-of-step convention: ``terminated[i, t]`` is true when decision ``t`` reached a terminal state
(the return after it is exactly zero); ``truncated[i, t]`` is true when the episode was cut after
decision ``t`` by a time limit (the state was not terminal). The two are kept apart everywhere;
a step is the last of its episode when either is true.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
"""A float32 NumPy array."""

Metrics = dict[str, float]
"""Scalars produced by an update or a rollout, keyed by namespaced names such as ``loss/policy``."""

JSONDict = dict[str, Any]
"""A JSON-serialisable mapping."""
