"""Time the exact policy gradient (dynamic programming) on random dense finite MDPs.

    python benchmarks/exact_dp.py                  # S=1000, A=10, T=100
    python benchmarks/exact_dp.py --grid           # how the time grows with S, A and T

Prints the best of ``--repeats`` timings of ``pgrad.exact.policy_gradient(mdp, logits)``, with
the MDP already built (its validation is not timed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pgrad.exact import FiniteMDP, policy_gradient


def random_mdp(states: int, actions: int, horizon: int, seed: int = 0) -> FiniteMDP:
    rng = np.random.default_rng(seed)
    transitions = rng.random((states, actions, states))
    transitions /= transitions.sum(axis=2, keepdims=True)
    return FiniteMDP(np.full(states, 1.0 / states), transitions,
                     rng.normal(size=(states, actions)), horizon, 0.99)  # fmt: skip


def best_time(states: int, actions: int, horizon: int, repeats: int) -> float:
    mdp = random_mdp(states, actions, horizon)
    logits = np.random.default_rng(1).normal(size=(states, actions))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        policy_gradient(mdp, logits)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=10)
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grid", action="store_true", help="vary S, A and T one at a time")
    args = parser.parse_args()
    cases = [(args.states, args.actions, args.horizon)]
    if args.grid:
        cases = [(s, 10, 100) for s in (100, 300, 1000, 2000)]
        cases += [(1000, a, 100) for a in (2, 5, 20)]
        cases += [(1000, 10, t) for t in (10, 1000)]
    print("| S | A | T | exact gradient (s) |")
    print("|---:|---:|---:|---:|")
    for s, a, t in cases:
        print(f"| {s} | {a} | {t} | {best_time(s, a, t, args.repeats):.4f} |", flush=True)


if __name__ == "__main__":
    main()
