"""Finite-horizon MDPs: the arrays of the exact-gradient lab, and a Gymnasium environment over them.

A :class:`FiniteMDP` is ``(mu, P, R, T, gamma)``:

- ``initial`` mu, float [S]: distribution of s_0;
- ``transitions`` P, float [S, A, S]: ``P[s, a, s2] = Pr(s_{t+1} = s2 | s_t = s, a_t = a)``;
- ``rewards`` R, float [S, A]: reward for taking action a in state s;
- ``horizon`` T >= 1: decisions per episode;
- ``discount`` gamma in (0, 1].

A trajectory: s_0 ~ mu; for t = 0..T-1: a_t ~ pi(.|s_t), r_t = R[s_t, a_t], s_{t+1} ~ P[s_t, a_t].
Its return is R(tau) = sum_{t<T} gamma^t r_t.

As a Gymnasium environment (:class:`FiniteMDPEnv`, ids ``pgrad/FiniteMDP-v0`` and the named
instances of :data:`NAMED_MDPS`) the observation is the one-hot vector of s_t, so a policy with no
hidden layer is exactly a tabular softmax policy. Episode ends after T decisions are reported as
``terminated`` (the return after them is exactly zero), never as ``truncated``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

PROBABILITY_TOLERANCE = 1e-6
"""How far from 1 a probability vector may sum."""


@dataclass(frozen=True, eq=False)
class FiniteMDP:
    """A finite-horizon MDP; the constructor validates and stores float64 read-only copies.

    Raises:
        ValueError: naming the argument: wrong shape, non-finite value, negative probability,
            a distribution not summing to 1 (within 1e-6), horizon < 1, discount outside (0, 1].
    """

    initial: np.ndarray
    transitions: np.ndarray
    rewards: np.ndarray
    horizon: int
    discount: float = 1.0

    def __post_init__(self) -> None:
        initial = _as_array("initial", self.initial, ndim=1)
        transitions = _as_array("transitions", self.transitions, ndim=3)
        rewards = _as_array("rewards", self.rewards, ndim=2)
        states, actions = rewards.shape
        if states < 1 or actions < 1:
            raise ValueError(
                f"rewards: needs at least one state and one action, got {rewards.shape}"
            )
        if initial.shape != (states,):
            raise ValueError(
                f"initial: shape {initial.shape} does not match S = {states} of rewards"
            )
        if transitions.shape != (states, actions, states):
            raise ValueError(
                f"transitions: shape {transitions.shape}, expected (S, A, S) = "
                f"{(states, actions, states)} from rewards {rewards.shape}"
            )
        _check_distribution("initial", initial, axis=0)
        _check_distribution("transitions", transitions, axis=2)
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, int | np.integer):
            raise ValueError(f"horizon: must be an integer >= 1, got {self.horizon!r}")
        if self.horizon < 1:
            raise ValueError(f"horizon: must be >= 1, got {self.horizon}")
        discount = float(self.discount)
        if not (np.isfinite(discount) and 0.0 < discount <= 1.0):
            raise ValueError(f"discount: must be in (0, 1], got {self.discount}")
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "transitions", transitions)
        object.__setattr__(self, "rewards", rewards)
        object.__setattr__(self, "horizon", int(self.horizon))
        object.__setattr__(self, "discount", discount)

    @property
    def num_states(self) -> int:
        """S."""
        return int(self.rewards.shape[0])

    @property
    def num_actions(self) -> int:
        """A."""
        return int(self.rewards.shape[1])

    def check_logits(self, logits: Any) -> np.ndarray:
        """Validate tabular softmax logits [S, A]; return them as float64 NumPy."""
        if hasattr(logits, "detach"):
            logits = logits.detach().cpu().numpy()
        array = _as_array("logits", logits, ndim=2)
        if array.shape != (self.num_states, self.num_actions):
            raise ValueError(
                f"logits: shape {array.shape}, expected (S, A) = "
                f"{(self.num_states, self.num_actions)}"
            )
        return array

    def policy(self, logits: Any) -> np.ndarray:
        """pi[s, a] = softmax(logits[s])[a], float [S, A]."""
        z = self.check_logits(logits)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The MDP as named arrays (the .npz file format)."""
        return {
            "initial": self.initial,
            "transitions": self.transitions,
            "rewards": self.rewards,
            "horizon": np.array(self.horizon),
            "discount": np.array(self.discount),
        }


def _as_array(name: str, value: Any, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a numeric array ({exc})") from exc
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains non-finite values (nan or inf)")
    array.setflags(write=False)
    return array


def _check_distribution(name: str, array: np.ndarray, axis: int) -> None:
    if (array < 0).any():
        where = tuple(int(i) for i in np.argwhere(array < 0)[0])
        raise ValueError(f"{name}: negative probability {array[where]} at index {where}")
    sums = array.sum(axis=axis)
    bad = np.abs(sums - 1.0) > PROBABILITY_TOLERANCE
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: probabilities sum to {sums[where]:.9g} at index {where}, not 1 "
            f"(tolerance {PROBABILITY_TOLERANCE})"
        )


class FiniteMDPEnv(gym.Env[np.ndarray, np.int64]):
    """A :class:`FiniteMDP` as a Gymnasium environment with one-hot observations."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (Gymnasium's convention)

    def __init__(self, mdp: FiniteMDP | None = None, name: str | None = None) -> None:
        if (mdp is None) == (name is None):
            raise ValueError("FiniteMDPEnv: give exactly one of mdp= or name=")
        if name is not None:
            mdp = named_mdp(name)
        assert mdp is not None
        self.mdp = mdp
        self.observation_space = gym.spaces.Box(0.0, 1.0, (mdp.num_states,), np.float32)
        self.action_space = gym.spaces.Discrete(mdp.num_actions)
        self._cumulative_transitions = np.cumsum(mdp.transitions, axis=2)
        self._cumulative_initial = np.cumsum(mdp.initial)
        self._state = 0
        self._t = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._state = _draw(self._cumulative_initial, self.np_random)
        self._t = 0
        return self._observation(), {"state": self._state}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        reward = float(self.mdp.rewards[self._state, int(action)])
        self._state = _draw(self._cumulative_transitions[self._state, int(action)], self.np_random)
        self._t += 1
        terminated = self._t >= self.mdp.horizon
        return self._observation(), reward, terminated, False, {"state": self._state}

    def _observation(self) -> np.ndarray:
        obs = np.zeros(self.mdp.num_states, np.float32)
        obs[self._state] = 1.0
        return obs


def _draw(cumulative: np.ndarray, rng: np.random.Generator) -> int:
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, cumulative.shape[0] - 1)


# --- named instances ----------------------------------------------------------------------------


def chain_mdp(
    length: int = 5, horizon: int = 8, slip: float = 0.1, discount: float = 1.0
) -> FiniteMDP:
    """A chain of states 0..length-1 starting at 0: action 1 moves right, action 0 left.

    Each move slips to the other direction with probability ``slip``. Reaching the right end
    pays 1 per step spent there; action 0 in state 0 pays 0.1 (a tempting local optimum).
    """
    s, a = length, 2
    transitions = np.zeros((s, a, s))
    for state in range(s):
        left, right = max(state - 1, 0), min(state + 1, s - 1)
        transitions[state, 0, left] += 1.0 - slip
        transitions[state, 0, right] += slip
        transitions[state, 1, right] += 1.0 - slip
        transitions[state, 1, left] += slip
    rewards = np.zeros((s, a))
    rewards[s - 1, :] = 1.0
    rewards[0, 0] = 0.1
    initial = np.zeros(s)
    initial[0] = 1.0
    return FiniteMDP(initial, transitions, rewards, horizon, discount)


def gridworld_mdp(
    size: int = 3, horizon: int = 6, slip: float = 0.2, discount: float = 0.95
) -> FiniteMDP:
    """A size x size grid; actions up, right, down, left; start in one corner, goal in the other.

    A move succeeds with probability 1 - slip and otherwise leaves the agent where it was; moves
    into a wall stay put. Every step costs 0.1 except in the goal, which pays 1 per step.
    """
    s = size * size
    moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    transitions = np.zeros((s, 4, s))
    for state in range(s):
        row, col = divmod(state, size)
        for action, (dr, dc) in enumerate(moves):
            r2 = min(max(row + dr, 0), size - 1)
            c2 = min(max(col + dc, 0), size - 1)
            transitions[state, action, r2 * size + c2] += 1.0 - slip
            transitions[state, action, state] += slip
    rewards = np.full((s, 4), -0.1)
    rewards[s - 1, :] = 1.0
    initial = np.zeros(s)
    initial[0] = 1.0
    return FiniteMDP(initial, transitions, rewards, horizon, discount)


def bandit_mdp() -> FiniteMDP:
    """One state, three arms with mean rewards 0.2, 0.5, 0.9: horizon 1 (a contextual bandit)."""
    return FiniteMDP(
        initial=np.array([1.0]),
        transitions=np.ones((1, 3, 1)),
        rewards=np.array([[0.2, 0.5, 0.9]]),
        horizon=1,
    )


NAMED_MDPS: dict[str, Callable[[], FiniteMDP]] = {
    "chain": chain_mdp,
    "gridworld": gridworld_mdp,
    "bandit": bandit_mdp,
}
"""Finite MDPs that ship with pgrad, by name."""

ENV_IDS = {
    "chain": "pgrad/Chain-v0",
    "gridworld": "pgrad/GridWorld-v0",
    "bandit": "pgrad/Bandit-v0",
}
"""Gymnasium ids of the named MDPs."""


def named_mdp(name: str) -> FiniteMDP:
    """One of :data:`NAMED_MDPS`; a ValueError lists the names if ``name`` is unknown."""
    if name not in NAMED_MDPS:
        raise ValueError(f"unknown MDP {name!r}; the shipped ones are {', '.join(NAMED_MDPS)}")
    return NAMED_MDPS[name]()


def register_envs() -> None:
    """Register ``pgrad/FiniteMDP-v0`` (pass ``mdp=``), the named instances and the small tasks
    of :mod:`pgrad.envs.toys` with Gymnasium."""
    from pgrad.envs.toys import register_toys

    register_toys()
    entry = f"{__name__}:FiniteMDPEnv"
    if "pgrad/FiniteMDP-v0" not in gym.registry:
        gym.register("pgrad/FiniteMDP-v0", entry_point=entry)
    for name, env_id in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=entry, kwargs={"name": name})
