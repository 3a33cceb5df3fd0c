"""Shapes and conventions shared by every module of pgrad.

Shape glossary (used in every docstring):

- ``m``: trajectories (complete episodes) in one batch.
- ``T``: time steps; in a padded episode batch, the longest episode's length.
- ``N``: environments stepped together by a vector environment.
- ``S``, ``A``: numbers of states and actions of a finite MDP.
- ``obs_dim``, ``act_dim``: flattened observation and action sizes.

Layout: every batch is row-major with time last, ``x[b, t]``. In an episode batch a row is one
complete trajectory (``B = m``), padded after its end; in a fixed-length rollout a row is one
environment copy (``B = N``) whose episodes run on across rollouts. ``mask[b, t]`` is 1.0 on real
decisions and 0.0 on padding and on Gymnasium's autoreset steps; masked entries never contribute
to a loss, and nothing flows through them in a recursion.

End-of-step convention (one for every estimator): ``terminated[b, t]`` is true when decision t
reached a terminal state (the return after it is exactly zero); ``truncated[b, t]`` is true when
the episode was cut after decision t by a time limit (the state was not terminal). They are kept
apart everywhere. ``values[b, t]`` is V(s_t) and ``next_values[b, t]`` is V(s_{t+1}) of the *true*
successor, the final observation when the episode ended at t. A bootstrap gamma V(s_{t+1}) is
dropped where ``terminated`` (never where only ``truncated``), and a recursion over time is cut
where ``terminated | truncated``.
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
