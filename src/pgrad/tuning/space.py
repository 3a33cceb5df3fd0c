"""Search spaces: which config fields a tuning trial draws, and from where.

A space is a table of parameters, keyed by the fields of :func:`pgrad.make_config`, in the
form of ``spaces.toml`` (shipped, one table per algorithm) or of a user's ``--space FILE``.
"""

from __future__ import annotations

import functools
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgrad.config import TrainConfig, nest
from pgrad.errors import PgradError

SPACES_FILE = Path(__file__).with_name("spaces.toml")

KEYS = frozenset({"low", "high", "log", "int", "step", "choices", "same_as"})


@dataclass(frozen=True)
class Param:
    """One parameter of a search space."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    same_as: str | None = None

    def suggest(self, trial: Any, drawn: dict[str, Any]) -> Any:
        """The value for ``trial`` (an Optuna trial); ``drawn``: the values drawn so far."""
        if self.same_as is not None:
            return drawn[self.same_as]
        if self.choices:
            labels = [json.dumps(c) for c in self.choices]  # Optuna's choices are scalars
            return self.choices[labels.index(trial.suggest_categorical(self.name, labels))]
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high),  # type: ignore[arg-type]
                                     step=int(self.step or 1), log=self.log)  # fmt: skip
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)


@functools.cache
def builtin_spaces() -> dict[str, dict[str, Any]]:
    """Every shipped space: algorithm -> its table."""
    with SPACES_FILE.open("rb") as f:
        return tomllib.load(f)


def load_space(cfg: TrainConfig, path: Path | None = None) -> list[Param]:
    """The space for ``cfg``'s algorithm: from ``path`` (TOML) or the shipped one, checked
    against ``cfg`` (every name a field, every range well formed, ``same_as`` drawn first).

    Raises:
        PgradError: an unreadable file, an unknown field, a malformed parameter.
    """
    table = builtin_spaces().get(cfg.algo) if path is None else _read(path, cfg.algo)
    where = f"search space {path}" if path is not None else f"the shipped {cfg.algo} space"
    if not table:
        raise PgradError(f"{where} has no parameters for {cfg.algo}; give --space FILE.toml")
    params = [parse_param(name, spec, where) for name, spec in table.items()]
    nest(type(cfg), {p.name: None for p in params})  # an unknown field name fails here
    seen: set[str] = set()
    for p in params:
        if p.same_as is not None and p.same_as not in seen:
            raise PgradError(f"{where}: {p.name}.same_as names {p.same_as!r}, which must be a "
                             "parameter listed before it")  # fmt: skip
        seen.add(p.name)
    return params


def _read(path: Path, algo: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise PgradError(f"cannot read search space {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PgradError(f"search space {path} is not valid TOML: {exc}") from None
    inner = data.get(algo)
    return inner if isinstance(inner, dict) else data


def parse_param(name: str, spec: Any, where: str) -> Param:
    """One parameter from its table form (see ``spaces.toml``)."""
    bad = f"{where}: parameter {name!r}"
    if not isinstance(spec, dict) or not spec or set(spec) - KEYS:
        raise PgradError(f"{bad} must be a table with some of {sorted(KEYS)} (got {spec!r}); "
                         "e.g. lr = {low = 1e-4, high = 1e-2, log = true}")  # fmt: skip
    if "same_as" in spec:
        if set(spec) != {"same_as"} or not isinstance(spec["same_as"], str):
            raise PgradError(f"{bad}: same_as takes a parameter's name and nothing else")
        return Param(name, same_as=spec["same_as"])
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) != {"choices"} or not isinstance(choices, list) or not choices:
            raise PgradError(f"{bad}: choices must be a non-empty list, alone")
        return Param(name, choices=tuple(choices))
    return _range(name, spec, bad)


def _range(name: str, spec: dict[str, Any], bad: str) -> Param:
    low, high = spec.get("low"), spec.get("high")
    log, integer, step = spec.get("log", False), spec.get("int", False), spec.get("step")
    numbers = [v for v in (low, high, step) if v is not None]
    if low is None or high is None or not all(_finite(v) for v in numbers):
        raise PgradError(f"{bad} needs finite numbers low and high (got {spec!r})")
    if not isinstance(log, bool) or not isinstance(integer, bool):
        raise PgradError(f"{bad}: log and int are true or false")
    if not low < high or (log and low <= 0) or (step is not None and (step <= 0 or log)):
        raise PgradError(f"{bad}: needs low < high, low > 0 with log, a step > 0 without log "
                         f"(got {spec!r})")  # fmt: skip
    if integer and not all(isinstance(v, int) for v in numbers):
        raise PgradError(f"{bad}: an int range needs integer low, high and step (got {spec!r})")
    return Param(name, float(low), float(high), log, integer, step)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
