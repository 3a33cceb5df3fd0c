"""Typed configuration: the sections every algorithm shares, and the base of each algorithm's
config.

Each algorithm module (:mod:`pgrad.algos`) declares one frozen dataclass, a subclass of
:class:`TrainConfig`, with its own fields and its real defaults, including its defaults for the
shared sections (:class:`EnvConfig`, :class:`PolicyConfig`, :class:`OptimConfig`,
:class:`EvalConfig`, :class:`RunConfig`). ``pgrad train ALGO`` is derived from that dataclass by
tyro: every field's docstring is its ``--help`` text, each section is one group of options, and
the command line omits the section prefixes (``--num-envs``, not ``--env.num-envs``). Values are
checked in
``__post_init__``, so a bad value fails before anything is created or written, with a
:class:`PgradError` of one line.

Saved configs (``config.json`` of a run, or TOML) are nested by section, with an ``algo`` key:
``{"algo": "ppo", "env": {"id": "CartPole-v1", ...}, ..., "num_steps": 128}``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import tyro

from pgrad.errors import PgradError

Activation = Literal["tanh", "relu"]

C = TypeVar("C", bound="TrainConfig")


LIMITS: dict[str, int | float] = {
    "num_envs": 4096, "max_episode_steps": 10**8, "hidden_sizes": 4096, "eval_episodes": 100_000,
    "confirm_episodes": 100_000, "eval_interval": 10**9, "total_env_steps": 10**12,
    "seed": 2**32 - 1, "torch_threads": 256, "checkpoint_every": 10**12, "keep_checkpoints": 1000,
    "checkpoint_seconds": 10**9, "episodes_per_update": 100_000, "num_steps": 1_000_000,
    "value_epochs": 10_000, "update_epochs": 10_000, "num_minibatches": 10**8,
    "recurrent_size": 4096,
}  # fmt: skip
"""Upper bound of every size (a typo must not exhaust memory or hang a run): copies, steps,
episodes, epochs, widths (each hidden layer; at most 16 layers), seeds and checkpoint counts."""

MAX_LAYERS = 16


def check_fields(obj: Any) -> None:
    """Every field of a config dataclass has its annotated type and stays within :data:`LIMITS`.

    Raises:
        PgradError: naming the field, what it must be, and the value given.
    """
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
            raise PgradError(f"{f.name} must be {_describe(hints[f.name])} (got {shown})")
        limit = LIMITS.get(f.name)
        values = value if isinstance(value, tuple) else (value,)
        if limit is not None and any(v > limit for v in values):
            raise PgradError(f"{f.name} must be at most {limit:,} (got {value}); larger sizes are "
                             "refused so that a typo cannot exhaust memory")  # fmt: skip
    if isinstance(getattr(obj, "hidden_sizes", None), tuple):
        require(len(obj.hidden_sizes) <= MAX_LAYERS,
                f"hidden_sizes may have at most {MAX_LAYERS} layers (got {len(obj.hidden_sizes)})")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _matches(value: Any, tp: Any) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return any(type(value) is type(a) and value == a for a in args)
    if origin in (types.UnionType, typing.Union):
        return any(_matches(value, a) for a in args)
    if origin is tuple:
        return isinstance(value, tuple) and all(_matches(v, args[0]) for v in value)
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _describe(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(a) for a in args)
    if origin is tuple:
        return f"a tuple of {_describe(args[0])}s"
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             type(None): "none", Path: "a path"}  # fmt: skip
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def dash(name: str) -> str:
    """A field name as its flag is spelled (``num_envs`` -> ``num-envs``)."""
    return name.replace("_", "-")


def require(condition: bool, message: str) -> None:
    """Raise :class:`PgradError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise PgradError(message)


def require_positive_int(cfg: object, name: str, hint: str) -> None:
    """Require the field ``name`` of ``cfg`` to be an integer >= 1."""
    value = getattr(cfg, name)
    require(
        isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        f"{name} must be a positive integer (got {value}); {hint}",
    )


def require_nonnegative(cfg: object, name: str) -> None:
    """Require the field ``name`` of ``cfg`` to be a finite number >= 0."""
    value = getattr(cfg, name)
    require(
        isinstance(value, int | float) and math.isfinite(value) and value >= 0,
        f"{name} must be a number >= 0 (got {value})",
    )



@dataclass(frozen=True)
class EnvConfig:
    """Environment: which one, how many copies, and how to build them."""

    id: Annotated[str, tyro.conf.arg(name="env")] = "CartPole-v1"
    """Gymnasium id, or MODULE:ID to import MODULE first (as gym.make does)."""
    num_envs: int = 8
    """Environment copies stepped together (one batched policy forward per step)."""
    max_episode_steps: int = 0
    """Override the environment's time limit (0 keeps the registered one)."""
    env_kwargs: tuple[str, ...] = ()
    """Keyword arguments for the environment, as KEY=VALUE with JSON values (e.g. g=9.81)."""
    gym_packages: tuple[str, ...] = ()
    """Python packages to import first because importing them registers environments (ale_py)."""
    vectorization_mode: Literal["auto", "sync", "async"] = "auto"
    """auto (the environment's own vector implementation, else sync), sync, or async (a process
    per copy)."""
    preprocess: Literal["auto", "atari", "none"] = "auto"
    """auto (atari for ALE/ ids, else none); atari: Gymnasium's AtariPreprocessing (noop starts,
    4-frame skip with max-pooling, 84x84 grayscale) and 4 stacked frames; none: as registered."""

    def __post_init__(self) -> None:
        check_fields(self)
        require(
            bool(self.id.strip()), "env must name a Gymnasium environment, e.g. --env CartPole-v1"
        )
        require_positive_int(self, "num_envs", "e.g. --num-envs 8")
        require(
            isinstance(self.max_episode_steps, int) and self.max_episode_steps >= 0,
            f"max_episode_steps must be an integer >= 0 (got {self.max_episode_steps}); "
            "0 keeps the registered limit",
        )
        self.kwargs()  # a malformed KEY=VALUE fails here

    def kwargs(self) -> dict[str, Any]:
        """``env_kwargs`` as a dict (each value parsed as JSON, or kept as a string if not)."""
        out: dict[str, Any] = {}
        for item in self.env_kwargs:
            key, sep, text = item.partition("=")
            require(bool(sep) and key.isidentifier(), f"env_kwargs item {item!r} is not KEY=VALUE; "
                    "e.g. --env-kwargs g=9.81 render_mode='\"rgb_array\"'")  # fmt: skip
            try:
                out[key] = json.loads(text)
            except json.JSONDecodeError:
                out[key] = text
        return out


@dataclass(frozen=True)
class PolicyConfig:
    """Policy network, value function and observation preprocessing."""

    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the hidden layers (none for a linear policy); the value network has the same."""
    activation: Activation = "tanh"
    """Non-linearity between hidden layers: tanh or relu."""
    init_log_std: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box action spaces only)."""
    value_network: Literal["separate", "shared"] = "separate"
    """A separate value MLP, or a value head on the policy's hidden layers."""
    normalize_observations: bool = False
    """Standardise vector observations with running statistics (saved in checkpoints, frozen at
    eval); images are scaled to [0, 1] instead."""
    action_dist: Literal["auto", "gaussian", "squashed"] = "auto"
    """Box actions: gaussian (the default: a diagonal Gaussian clipped to the bounds) or squashed
    (tanh-squashed into finite bounds). Other spaces have one head each: categorical (Discrete),
    independent categoricals (MultiDiscrete), Bernoullis (MultiBinary)."""
    recurrent: Literal["none", "lstm", "gru"] = "none"
    """An LSTM or GRU between the observation encoder and the MLP (state reset at episode starts,
    kept in checkpoints)."""
    recurrent_size: int = 128
    """Units of the recurrent core."""

    def __post_init__(self) -> None:
        check_fields(self)
        require_positive_int(self, "recurrent_size", "e.g. --recurrent-size 128")
        require(  # types and choices are check_fields'; the values are checked here
            all(h > 0 for h in self.hidden_sizes),
            f"hidden_sizes must be positive integers (got {self.hidden_sizes}); "
            "try --hidden-sizes 64 64",
        )
        require(
            -20.0 <= self.init_log_std <= 2.0,
            f"init_log_std must be in [-20, 2], the bounds of the Gaussian's log std (got "
            f"{self.init_log_std}); try --init-log-std 0.0",
        )


@dataclass(frozen=True)
class OptimConfig:
    """Optimiser: Adam's learning rates, their schedule, gradient clipping."""

    lr: float = 3e-4
    """Adam learning rate of the policy."""
    value_lr: float = 3e-4
    """Adam learning rate of a separate value network."""
    lr_schedule: Literal["constant", "linear"] = "constant"
    """constant, or linear decay to 0 over the step budget."""
    max_grad_norm: float = 0.0
    """Clip the gradient's global norm to this (0: no clipping)."""

    def __post_init__(self) -> None:
        check_fields(self)
        for name in ("lr", "value_lr"):
            value = getattr(self, name)
            require(
                math.isfinite(value) and value > 0,
                f"{name} must be a positive number (got {value}); try --{dash(name)} 0.01",
            )
        require_nonnegative(self, "max_grad_norm")


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation: when a run is solved, and how often it is checked."""

    target_return: float | Literal["threshold", "none"] = "threshold"
    """Mean evaluation return that counts as solved: a number, threshold (the environment's
    reward_threshold) or none (never stop early: train the whole budget)."""
    eval_episodes: int = 100
    """Episodes per evaluation, all stepped together; the policy samples its actions."""
    eval_interval: int = 10
    """Also evaluate every this many updates (0: only when a batch reaches the target, and at
    the end)."""
    confirm_episodes: int = 1000
    """When an evaluation reaches the target, confirm it on up to this many fresh episodes before
    calling the run solved; training goes on if the confirmation fails (0: no confirmation)."""
    confirm_rule: Literal["sequential", "all"] = "sequential"
    """sequential: confirm in rounds of eval_episodes fresh episodes, stopping as soon as a
    one-sided 99% confidence bound on the mean return is above the target (pass) or the other
    bound below it (fail), the mean of all confirm_episodes deciding otherwise; all: run all
    confirm_episodes and compare their mean with the target (the protocol of the CartPole
    benchmark in docs/performance.md)."""
    eval_budget: float = 0.2
    """Evaluation may cost at most this share of what training's environment steps have: an
    evaluation that falls due when it would take evaluations (confirmations included) past that
    share, reckoning it to cost what the last one did, waits for the next time one falls due; the
    last one always runs. The cost is counted in
    environment calls, not seconds, so the schedule is the same on every machine (0: no limit)."""
    video_every: int = 0
    """Record one episode of the current policy into RUN_DIR/videos/update-N.mp4 every this many
    updates (0: never; pip install -e ".[video]")."""

    def __post_init__(self) -> None:
        check_fields(self)
        target = self.target_return
        require(
            isinstance(target, str) or math.isfinite(target),
            f"target_return must be a finite number, threshold or none (got {target})",
        )
        require_positive_int(self, "eval_episodes", "e.g. --eval-episodes 100")
        for name in ("eval_interval", "confirm_episodes", "video_every"):
            value = getattr(self, name)
            require(
                isinstance(value, int) and value >= 0,
                f"{name} must be an integer >= 0 (got {value}); 0 turns it off",
            )
        budget = self.eval_budget
        require(
            isinstance(budget, int | float) and math.isfinite(budget) and budget >= 0,
            f"eval_budget must be a number >= 0 (got {budget}); e.g. --eval-budget 0.2, "
            "or 0 for no limit",
        )

    def target(self, reward_threshold: float | None) -> float | None:
        """The return that counts as solved, given the environment's threshold (None: no target)."""
        if self.target_return == "none":
            return None
        if self.target_return == "threshold":
            return reward_threshold
        return float(self.target_return)


RAY_ADDRESS = r"(ray://)?[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}"
"""HOST:PORT or ray://HOST:PORT (an IPv6 host in brackets)."""
W_AND_B_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
"""A Weights & Biases project or entity name."""


@dataclass(frozen=True)
class RunConfig:
    """Run: budget, seed, outputs."""

    total_env_steps: int = 500_000
    """Budget of environment steps; training stops when it is spent, solved or not."""
    seed: int = 1
    """Seed for the policy's initial weights, action sampling and environment resets."""
    run_dir: Annotated[
        Path | None,
        tyro.conf.arg(metavar="PATH", help_behavior_hint="(default: a new directory)"),
    ] = None
    """Where outputs go (by default a new runs/<env>__<algo>__<seed>__<timestamp>); it must not
    exist yet, or be empty."""
    tensorboard: bool = True
    """Write TensorBoard event files into the run directory."""
    progress: bool = True
    """Show a live progress bar."""
    torch_threads: int = 1
    """Threads for PyTorch; one is fastest for small networks."""
    checkpoint_every: int = 0
    """Environment steps between resumable checkpoints (0: every tenth of the budget)."""
    checkpoint_seconds: float = 600.0
    """Also checkpoint when this many seconds have passed since the last one (0: never)."""
    keep_checkpoints: int = 2
    """Resumable checkpoints kept, the newest (the best and final policies are kept apart)."""
    workers: int = 0
    """Ray workers that sample, each owning a share of the num_envs copies (0: sample in this
    process, without Ray). Any number of workers >= 1 gives the same run (pip install -e
    ".[ray]")."""
    ray_address: str = ""
    """With workers: the Ray cluster to join (host:port, or auto); empty starts a local Ray
    instance on this machine, listening on loopback only."""
    worker_timeout: float = 600.0
    """With workers: seconds a worker may take for one batch before it is replaced."""
    worker_restarts: int = 3
    """With workers: times a failed worker is replaced for one batch before the run stops."""
    worker_cpus: float = 1.0
    """With workers: CPUs Ray reserves for each worker (a fraction lets workers share a core)."""
    track: bool = False
    """Log the config, each update's metrics and the summary to Weights & Biases (pip install -e
    ".[track]"; `wandb login` first, or WANDB_MODE=offline to keep it in RUN_DIR/wandb)."""
    wandb_project: str = "pgrad"
    """With track: the W&B project."""
    wandb_entity: str = ""
    """With track: the W&B user or team (empty: your default entity)."""

    def __post_init__(self) -> None:
        require_positive_int(self, "total_env_steps", "e.g. --total-env-steps 100000")
        require_positive_int(self, "torch_threads", "e.g. --torch-threads 1")
        require_positive_int(self, "keep_checkpoints", "e.g. --keep-checkpoints 2")
        for name in ("workers", "worker_restarts"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 0,
                    f"{name} must be an integer >= 0 (got {value!r}), e.g. --"
                    f"{name.replace('_', '-')} 2")  # fmt: skip
        require(
            isinstance(self.worker_timeout, int | float) and 0 < self.worker_timeout < math.inf,
            f"worker_timeout must be a finite number of seconds > 0, e.g. --worker-timeout 600 "
            f"(got {self.worker_timeout!r})",
        )
        require(
            isinstance(self.worker_cpus, int | float) and 0 < self.worker_cpus <= 1024,
            f"worker_cpus must be a number of CPUs in (0, 1024], e.g. --worker-cpus 0.5 (got "
            f"{self.worker_cpus!r})",
        )
        require(
            self.ray_address in ("", "auto") or re.fullmatch(RAY_ADDRESS, self.ray_address),
            f"ray_address must be empty (a local Ray), auto, or HOST:PORT / ray://HOST:PORT (got "
            f"{self.ray_address!r})",
        )
        require(
            isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 0,
            f"checkpoint_every must be an integer >= 0 (got {self.checkpoint_every}); 0 is every "
            "tenth of the budget",
        )
        require_nonnegative(self, "checkpoint_seconds")
        for name in ("wandb_project", "wandb_entity"):
            value = getattr(self, name)
            require(isinstance(value, str) and ((value == "" and name == "wandb_entity")
                                                or W_AND_B_NAME.fullmatch(value) is not None),
                    f"{name} must be a W&B name of letters, digits, '-', '_' and '.' (at most "
                    f"128), e.g. --{name.replace('_', '-')} pgrad (got {value!r})")  # fmt: skip
        require(not self.track or importlib.util.find_spec("wandb") is not None,
                'track needs Weights & Biases: pip install -e ".[track]"')  # fmt: skip
        require(isinstance(self.seed, int), f"seed must be an integer (got {self.seed!r})")
        if isinstance(self.run_dir, str):  # the API accepts a string path
            object.__setattr__(self, "run_dir", Path(self.run_dir))
        check_fields(self)
        require(self.seed >= 0, f"seed must be an integer >= 0 (got {self.seed})")
        require(
            self.run_dir is None or isinstance(self.run_dir, Path),
            f"run_dir must be a path (got {self.run_dir!r})",
        )


SECTIONS: dict[str, type] = {
    "env": EnvConfig,
    "policy": PolicyConfig,
    "optim": OptimConfig,
    "eval": EvalConfig,
    "run": RunConfig,
}
"""The shared sections, by field name."""


@dataclass(frozen=True)
class TrainConfig:
    """Fields every algorithm has: one section each. Subclasses add the algorithm's own."""

    algo: ClassVar[str] = ""
    """The algorithm's registered name."""

    env: EnvConfig = EnvConfig()
    policy: PolicyConfig = PolicyConfig()
    optim: OptimConfig = OptimConfig()
    eval: EvalConfig = EvalConfig()
    run: RunConfig = RunConfig()

    def __post_init__(self) -> None:
        check_fields(self)  # the sections, and the algorithm's own fields

    def replace(self: C, **changes: Any) -> C:
        """A copy with fields changed; section fields may be given by name (``lr=0.01``)."""
        return type(self).from_json(merge(self.to_json(), nest(type(self), changes)))

    def to_json(self) -> dict[str, Any]:
        """The config as JSON-ready nested values (paths as strings, tuples as lists)."""
        return {"algo": self.algo, **_json_value(dataclasses.asdict(self))}

    @classmethod
    def from_json(cls: type[C], data: dict[str, Any]) -> C:
        """A config from :meth:`to_json`'s form, or part of it (the rest keeps this algorithm's
        defaults, section by section); unknown keys are an error."""
        require(isinstance(data, dict), "a config must be a JSON object / TOML table")
        data = dict(data)
        algo = data.pop("algo", cls.algo)
        require(algo == cls.algo, f"this config is for {algo!r}, not {cls.algo!r}")
        for name in SECTIONS:
            require(
                not isinstance(data.get(name, {}), list | str | int | float),
                f"config section {name!r} must be an object",
            )
        defaults = cls().to_json()
        defaults.pop("algo")
        return build(cls, merge(defaults, data))

    def dumps(self) -> str:
        """The config as indented JSON text."""
        return json.dumps(self.to_json(), indent=2)


def build(cls: type, data: dict[str, Any], where: str = "") -> Any:
    """``cls`` (a config or a section) from its JSON form; unknown keys are an error."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    require(not unknown, f"unknown config keys {unknown}{where}; expected some of {sorted(fields)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        kind = SECTIONS.get(name) if issubclass(cls, TrainConfig) else None
        if kind is not None:
            require(isinstance(value, dict), f"config section {name!r} must be an object")
            kwargs[name] = build(kind, value, f" in section {name!r}")
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        elif name == "run_dir" and value is not None:
            kwargs[name] = Path(value)
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise PgradError(f"bad config{where}: {exc}") from None


def nest(cls: type[TrainConfig], changes: dict[str, Any]) -> dict[str, Any]:
    """Flat keyword overrides (``lr=0.01``) placed in their sections (``{"optim": {...}}``)."""
    owner = {f.name: s for s, kind in SECTIONS.items() for f in dataclasses.fields(kind)}
    own = {f.name for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "env" and isinstance(value, str):
            out.setdefault("env", {})["id"] = value
        elif key in own:
            out[key] = _json_value(dataclasses.asdict(value)) if key in SECTIONS else value
        elif key in owner:
            out.setdefault(owner[key], {})[key] = _json_value(value)
        else:
            raise PgradError(
                f"unknown option {key!r} for {cls.algo}; see `pgrad train {cls.algo} --help`"
            )
    return out


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied, section by section."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def read_config_file(path: Path) -> dict[str, Any]:
    """A saved config (JSON, or TOML by its suffix) as a dict.

    Raises:
        PgradError: missing, unreadable or malformed file.
    """
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise PgradError(f"cannot read config {path}: {exc}") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, RecursionError) as exc:
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise PgradError(f"config {path} is not valid {kind}: {exc}") from None
    require(isinstance(data, dict), f"config {path} must hold an object/table of options")
    return data


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
