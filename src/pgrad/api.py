"""The Python API: train, load a trained policy, act with it, evaluate it.

>>> import pgrad
>>> result = pgrad.train(algo="ppo", env="Acrobot-v1", seed=3, progress=False)  # doctest: +SKIP
>>> policy = pgrad.load_policy(result.run_dir)                                  # doctest: +SKIP
>>> action = policy.act(observation)                                            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from pgrad.algos import algorithm
from pgrad.config import EnvConfig, TrainConfig, build
from pgrad.envs.make import EnvInfo, make_render_env, register_factory
from pgrad.envs.observations import batch_flattener
from pgrad.envs.spaces import space_to_json
from pgrad.errors import PgradError
from pgrad.hub.download import download, is_hub_path
from pgrad.policies.actor import make_actor
from pgrad.policies.mlp import MLPPolicy
from pgrad.rollout.evaluate import Evaluation, Evaluator
from pgrad.rollout.record import render_episodes, write_video
from pgrad.trainer import checkpoint
from pgrad.trainer.callbacks import Callbacks, Progress
from pgrad.trainer.loop import TrainResult
from pgrad.trainer.loop import train as _train
from pgrad.tuning.config import TuneConfig
from pgrad.tuning.study import TuneResult
from pgrad.tuning.study import tune as run_study


def make_config(algo: str = "reinforce", **overrides: Any) -> TrainConfig:
    """``algo``'s config with its defaults, fields overridden by name (``lr=0.01``, ``env=...``).

    ``env`` may be a Gymnasium id or a factory returning a new environment (registered under
    ``pgrad-user/...``); section fields are given by their own names (``num_envs``, ``seed``).
    """
    base = algorithm(algo).Config()
    if callable(overrides.get("env")) or not isinstance(overrides.get("env", ""), str):
        overrides["env"] = register_factory(overrides["env"])
    return base.replace(**overrides) if overrides else base


def train(config: TrainConfig | None = None, callbacks: Iterable[Any] = (),
          **overrides: Any) -> TrainResult:  # fmt: skip
    """Train with ``config`` (default: ``make_config(**overrides)``), fields overridden by name.

    ``callbacks``: functions called with a :class:`pgrad.Progress` after each update, or objects
    with ``on_update`` and/or ``on_evaluation`` methods (:mod:`pgrad.trainer.callbacks`); any of
    them may call ``progress.stop(reason)`` to end the run after that update.

    >>> pgrad.train(pgrad.PPOConfig(), env="Acrobot-v1", seed=3, progress=False)  # doctest: +SKIP
    """
    if config is None:
        cfg = make_config(**overrides)
        return _train(cfg, callbacks=run_callbacks(cfg, callbacks))
    algo = overrides.pop("algo", config.algo)
    if algo != config.algo:
        raise PgradError(
            f"cannot switch algo from {config.algo} to {algo} with an override: its defaults "
            f"differ; pass pgrad.make_config({algo!r}, ...)"
        )
    if callable(overrides.get("env")) or not isinstance(overrides.get("env", ""), str):
        overrides["env"] = register_factory(overrides["env"])
    cfg = config.replace(**overrides) if overrides else config
    return _train(cfg, callbacks=run_callbacks(cfg, callbacks))


@dataclass
class TrainedPolicy:
    """A loaded policy that acts on raw observations (NumPy arrays)."""

    module: MLPPolicy
    metadata: dict[str, Any]

    @property
    def env_id(self) -> str:
        """The environment it was trained on."""
        return self.module.spec.env.env_id

    def act(
        self, obs: np.ndarray, deterministic: bool = False, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Action(s) for one observation [obs_dim...] or a batch [B, obs_dim...].

        Sampled actions draw from ``rng`` (default: a generator seeded from the OS). Actions come
        as the environment takes them (Box actions clipped or squashed into the bounds), ready
        for ``env.step``. Dict, Tuple and Discrete observations are given as the environment
        gives them. A recurrent policy carries its state between calls: :meth:`reset` at the
        start of new episodes.
        """
        x, single = self._stored(obs)
        if deterministic:
            a = self._actor.mode(x)
        else:
            a = self._actor.sample(x, rng if rng is not None else self._rng)
        out = self._actor.env_action(a)
        return out[0] if single else out

    def _stored(self, obs: Any) -> tuple[np.ndarray, bool]:
        """Observations in their stored form [B, obs_dim], and whether ``obs`` was one."""
        space, obs_dim = self.module.spec.env.obs_space, self.module.spec.env.obs_dim
        if isinstance(space, gym.spaces.Box):
            x = np.asarray(obs, dtype=np.float32)
            single = x.size == obs_dim
            return x.reshape(1 if single else -1, obs_dim), single
        if space.contains(obs):
            return gym.spaces.flatten(space, obs).astype(np.float32)[None], True
        leaves = [np.asarray(v) for v in _leaves(obs)]
        return batch_flattener(space)(obs, int(leaves[0].shape[0])), False

    def reset(self) -> None:
        """Start new episodes: a recurrent policy's state is zeroed (it is carried from one
        :meth:`act` call to the next, for a batch of the same size)."""
        self._actor.begin(0)

    def env_config(self) -> EnvConfig:
        """The environment section it was trained with (its id alone for a bare checkpoint)."""
        config = self.metadata.get("config")
        saved = config.get("env") if isinstance(config, dict) else None
        if not isinstance(saved, dict):
            raise PgradError("the checkpoint's metadata has no environment config (config.env); "
                             "give a checkpoint written by `pgrad train`")  # fmt: skip
        return build(EnvConfig, saved, " in the checkpoint's config")  # type: ignore[no-any-return]

    def __post_init__(self) -> None:
        self._actor = make_actor(self.module)
        self._rng = np.random.default_rng()


def tune(config: TrainConfig | None = None, **settings: Any) -> TuneResult:
    """Search hyperparameters of ``config`` (default: REINFORCE's) with Optuna; ``settings``:
    the fields of :class:`pgrad.tuning.config.TuneConfig` (``out``, ``trials``, ``seeds``,
    ``objective``, ``pruner``, ``space``, ...). Returns the best trial; its config is also in
    ``OUT/best_config.json``.

    >>> best = pgrad.tune(pgrad.make_config("ppo", env="Acrobot-v1", total_env_steps=50_000),
    ...                   out="tune-acrobot", trials=20, seeds=(1, 2))  # doctest: +SKIP
    """
    try:
        tune_config = TuneConfig(**settings)
    except TypeError as exc:
        raise PgradError(f"bad tuning setting: {exc}; see pgrad.tuning.config.TuneConfig") from None
    return run_study(config or make_config(), tune_config)


def load_policy(path: str | Path) -> TrainedPolicy:
    """Load a policy for acting or evaluation: a run directory's final policy, a checkpoint
    file, a folder written by ``pgrad export``, or ``hf://USER/NAME[@REVISION]`` from the Hugging
    Face Hub (its two checkpoint files, through the Hub's local cache; ``pip install -e
    ".[hub]"``). Nothing loaded is executed: weights are safetensors, metadata JSON, and an
    environment that imports a module needs ``trust_env_module`` where it is built."""
    if is_hub_path(path):
        path = download(str(path))
    module, meta = checkpoint.load_policy(path)
    return TrainedPolicy(module, meta)


def record(
    policy: TrainedPolicy,
    out: str | Path,
    episodes: int = 1,
    deterministic: bool = False,
    seed: int = 0,
    fps: int = 30,
    trust_env_module: bool = False,
) -> list[float]:
    """Render ``episodes`` episodes of ``policy`` in its environment into the video ``out``
    (.mp4); return their returns.

    Raises:
        PgradError: bad counts or path, an untrusted module, an environment that cannot render,
            or imageio missing; nothing is written then.
    """
    out = Path(out)
    if not isinstance(episodes, int) or not 1 <= episodes <= 1000:
        raise PgradError(f"episodes must be an integer in [1, 1000] (got {episodes!r})")
    if not isinstance(fps, int) or not 1 <= fps <= 240:
        raise PgradError(f"fps must be an integer in [1, 240] (got {fps!r}); e.g. --fps 30")
    if out.suffix.lower() != ".mp4" or not out.parent.is_dir():
        raise PgradError(f"--out must be an .mp4 file in an existing folder (got {out})")
    cfg = _trusted_env(policy, trust_env_module)
    env = make_render_env(cfg)
    rng = np.random.default_rng(seed)

    def act(obs: Any) -> Any:
        return policy.act(obs, deterministic=deterministic, rng=rng)

    try:
        return write_video(out, fps, lambda emit: render_episodes(
            env, act, policy.reset, episodes, seed, emit))  # type: ignore[no-any-return]  # fmt: skip
    finally:
        env.close()


class VideoRecorder:
    """The callback of ``--video-every N``: one episode of the current policy (sampled actions,
    seeded by the run's seed and the update) into ``RUN_DIR/videos/update-NNNNNNNN.mp4`` every N
    updates; the training run itself is unchanged."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.every, self.seed = cfg.eval.video_every, cfg.run.seed
        self.meta = {"config": cfg.to_json()}

    def on_update(self, p: Progress) -> None:
        if p.update % self.every:
            return
        folder = p.run_dir / "videos"
        folder.mkdir(exist_ok=True)
        record(TrainedPolicy(p.policy, self.meta), folder / f"update-{p.update:08d}.mp4",
               seed=self.seed * 1_000_003 + p.update, trust_env_module=True)  # fmt: skip


def run_callbacks(cfg: TrainConfig, user: Iterable[Any] = ()) -> Callbacks:
    """The user's callbacks, and the video recorder when ``cfg`` asks for one."""
    extra = [VideoRecorder(cfg)] if cfg.eval.video_every else []
    return Callbacks([*user, *extra])


def _trusted_env(policy: TrainedPolicy, trust_env_module: bool) -> EnvConfig:
    """The checkpoint's environment, refused if it imports code and that is not trusted."""
    env = policy.env_config()
    imports = [env.id.rpartition(":")[0]] if ":" in env.id else []
    imports += list(env.gym_packages)
    if imports and not trust_env_module:
        raise PgradError(f"the checkpoint's environment imports {', '.join(imports)}; pass "
                         "--trust-env-module (trust_env_module=True) if you trust it")
    return env


def evaluate(
    policy: TrainedPolicy | MLPPolicy,
    episodes: int = 100,
    deterministic: bool = False,
    seed: int = 0,
    env: EnvConfig | Callable[[], Any] | None = None,
    trust_env_module: bool = False,
) -> Evaluation:
    """Run ``episodes`` episodes of the policy's environment (or ``env``), all stepped together.

    A checkpoint's environment that names a module to import (``MODULE:ID``, gym packages) is
    built only with ``trust_env_module=True``: a checkpoint from elsewhere must not run code.

    Raises:
        PgradError: an untrusted module, bad counts, or an environment whose spaces are not the
            policy's.
    """
    if not isinstance(episodes, int) or isinstance(episodes, bool) or not 1 <= episodes <= 100_000:
        raise PgradError(f"episodes must be an integer in [1, 100000] (got {episodes!r})")
    module = policy.module if isinstance(policy, TrainedPolicy) else policy
    if env is None and isinstance(policy, TrainedPolicy):
        env = _trusted_env(policy, trust_env_module)
    elif env is None:
        env = EnvConfig(id=module.spec.env.env_id)
    elif not isinstance(env, EnvConfig):
        env = EnvConfig(id=register_factory(env))
    evaluator = Evaluator(env, episodes, seed)
    try:
        check_spaces(module, evaluator.info)
        return evaluator.run(module, deterministic=deterministic)
    finally:
        evaluator.close()


def _leaves(obs: Any) -> list[Any]:
    if isinstance(obs, dict):
        return [leaf for value in obs.values() for leaf in _leaves(value)]
    if isinstance(obs, tuple):
        return [leaf for value in obs for leaf in _leaves(value)]
    return [obs]


def check_spaces(module: MLPPolicy, info: EnvInfo) -> None:
    """Refuse an environment whose spaces are not those the policy was trained on."""
    spec = module.spec.env
    same_obs = info.obs_dim == spec.obs_dim and (
        spec.observation_space is None
        or space_to_json(info.obs_space) == space_to_json(spec.obs_space)
    )
    if not same_obs or space_to_json(info.action_space) != space_to_json(spec.action_space):
        raise PgradError(
            f"{info.env_id} has observations {info.obs_space} and actions {info.action_space}; "
            f"the policy was trained on {spec.obs_space} and {spec.action_space} ({spec.env_id})"
        )
