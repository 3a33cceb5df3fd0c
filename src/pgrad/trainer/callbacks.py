"""Callbacks: the user's code, called by the training loop after each update and evaluation.

    def log(p: pgrad.Progress) -> None:                     # a plain function: after each update
        print(p.update, p.env_steps, p.row["rollout/ep_return_mean"])

    class EarlyStop:                                        # or an object with either method
        def on_evaluation(self, p: pgrad.Progress) -> None:
            if p.evaluation.mean >= 195:
                p.stop("eval mean reached 195")

    pgrad.train(env="CartPole-v1", callbacks=[log, EarlyStop()])

A callback reads the run (the update's metrics row, the counters, the live policy, the run
directory) and may ask the run to stop: the loop then ends after this update as at the end of
its budget (final evaluation, checkpoints, ``summary.json`` with ``stopped_by``). It must not
change the policy's weights. An exception in a callback ends the run like any other error, with
the last checkpoint left standing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.evaluate import Evaluation


@dataclass
class Progress:
    """What a callback is given."""

    update: int
    """Updates done so far (this one included)."""
    env_steps: int
    """Environment steps sampled so far."""
    row: dict[str, float]
    """A copy of this update's metrics row (``eval/...`` keys after an evaluation)."""
    policy: MLPPolicy
    """The live policy (read it, act with it; do not change its weights)."""
    run_dir: Path
    """The run's directory."""
    evaluation: Evaluation | None = None
    """The evaluation just run (in ``on_evaluation``), else None."""
    stop_reason: str | None = field(default=None, repr=False)

    def stop(self, reason: str = "a callback") -> None:
        """End the run after this update (its outputs written as at the end of its budget)."""
        self.stop_reason = reason


class Callback(Protocol):
    """An object with ``on_update(progress)`` and/or ``on_evaluation(progress)``."""

    def on_update(self, progress: Progress) -> None: ...

    def on_evaluation(self, progress: Progress) -> None: ...


Hook = Callable[[Progress], Any]


class Callbacks:
    """The run's callbacks, as two lists of hooks."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self.on_update: list[Hook] = []
        self.on_evaluation: list[Hook] = []
        for item in items:
            hooks = [getattr(item, name, None) for name in ("on_update", "on_evaluation")]
            if not any(callable(h) for h in hooks) and callable(item):
                hooks = [item, None]  # a plain function runs after each update
            if not any(callable(h) for h in hooks):
                raise PgradError(
                    f"callback {item!r} is neither a function nor an object with on_update or "
                    "on_evaluation; pass e.g. callbacks=[print]"
                )
            for hook, into in zip(hooks, (self.on_update, self.on_evaluation), strict=True):
                if callable(hook):
                    into.append(hook)

    def __bool__(self) -> bool:
        return bool(self.on_update or self.on_evaluation)

    def after_update(self, progress: Progress) -> str | None:
        """Call the hooks of this update (the evaluation's first, when one ran); the stop reason
        a hook gave, or None."""
        hooks = self.on_evaluation if progress.evaluation is not None else []
        for hook in [*hooks, *self.on_update]:
            hook(progress)
        return progress.stop_reason
