"""Every space end to end: each head, encoder and recurrent core trains, is saved, loaded and
acts (issue 11). Learning is judged against the untrained policy on the same evaluation, with a
margin of 5 standard errors of the two means."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import pgrad
from pgrad.cli import main
from pgrad.policies.actor import NumpyActor, TorchActor, make_actor
from pgrad.policies.mlp import build_policy
from pgrad.rollout.evaluate import Evaluator

QUIET = dict(progress=False, tensorboard=False, target_return="none", eval_interval=10**6)


def _train(tmp_path: Path, algo: str, **kw):
    return pgrad.train(pgrad.make_config(algo, run_dir=tmp_path / "run", **QUIET, **kw))


def _untrained_mean(result, env: str, episodes: int = 200) -> tuple[float, float]:
    evaluator = Evaluator(env, episodes, seed=123)
    try:
        ev = evaluator.run(build_policy(result.policy.spec, seed=99))
    finally:
        evaluator.close()
    return ev.mean, ev.std / np.sqrt(ev.episodes)


def _assert_learned(result, tmp_path: Path, env: str) -> None:
    trained = pgrad.evaluate(pgrad.load_policy(tmp_path / "run"), episodes=200, seed=123)
    before, se_before = _untrained_mean(result, env)
    se = np.hypot(trained.std / np.sqrt(trained.episodes), se_before)
    assert trained.mean > before + 5 * se, (trained.mean, before, se)


@pytest.mark.parametrize(
    ("env", "steps"), [("pgrad/Match-v0", 40_000), ("pgrad/Bits-v0", 40_000),
                       ("pgrad/DictGoal-v0", 40_000)],
)  # fmt: skip
def test_multi_discrete_multi_binary_and_dict_spaces_learn(env: str, steps: int, tmp_path) -> None:
    result = _train(tmp_path, "ppo", env=env, total_env_steps=steps)
    assert isinstance(make_actor(result.policy), NumpyActor)  # no image, no core: NumPy acts
    _assert_learned(result, tmp_path, env)


def test_trained_policy_acts_on_raw_dict_observations(tmp_path: Path) -> None:
    _train(tmp_path, "ppo", env="pgrad/DictGoal-v0", total_env_steps=2_000)
    policy = pgrad.load_policy(tmp_path / "run")
    env = gym.make("pgrad/DictGoal-v0")
    obs, _ = env.reset(seed=0)
    action = policy.act(obs, rng=np.random.default_rng(0))
    assert env.action_space.contains(int(action))
    batch = {k: np.stack([obs[k], obs[k]]) for k in obs}
    assert policy.act(batch, deterministic=True).shape == (2,)


def test_recurrent_policy_solves_the_memory_task_an_mlp_cannot(tmp_path: Path) -> None:
    """pgrad/Memory-v0 shows its cue at t = 0 only: any feedforward policy scores 0 in
    expectation; the LSTM must score near 1."""
    common = dict(env="pgrad/Memory-v0", total_env_steps=24_000, num_minibatches=4, lr=1e-3,
                  value_lr=1e-3)
    lstm = _train(tmp_path / "lstm", "ppo", recurrent="lstm", recurrent_size=32, **common)
    mlp = _train(tmp_path / "mlp", "ppo", **common)
    assert isinstance(make_actor(lstm.policy), TorchActor)
    remembered = pgrad.evaluate(pgrad.load_policy(tmp_path / "lstm" / "run"), episodes=200)
    forgot = pgrad.evaluate(mlp.policy, episodes=200)
    se = 1.0 / np.sqrt(200)  # returns are +1 or -1
    assert remembered.mean > 0.8
    assert abs(forgot.mean) < 5 * se, forgot.mean


@pytest.mark.parametrize(
    ("algo", "extra"),
    [("a2c", {"recurrent": "gru"}), ("reinforce", {"recurrent": "lstm"}),
     ("vpg", {"recurrent": "gru"})],
)  # fmt: skip
def test_every_algorithm_trains_a_recurrent_policy(algo: str, extra: dict, tmp_path) -> None:
    result = _train(tmp_path, algo, env="pgrad/Memory-v0", total_env_steps=3_000,
                    recurrent_size=8, **extra)  # fmt: skip
    loaded = pgrad.load_policy(tmp_path / "run")
    assert loaded.module.recurrent and loaded.module.spec.recurrent == extra["recurrent"]
    assert result.env_steps >= 3_000


def test_squashed_gaussian_trains_and_acts_inside_the_bounds(tmp_path: Path) -> None:
    _train(tmp_path, "ppo", env="Pendulum-v1", action_dist="squashed", total_env_steps=4_096,
           init_log_std=1.5)  # fmt: skip
    policy = pgrad.load_policy(tmp_path / "run")
    obs = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32) * 5
    actions = policy.act(obs, rng=np.random.default_rng(1))
    assert (np.abs(actions) <= 2.0).all() and np.abs(actions).max() > 1.5


def test_minatar_images_go_through_a_cnn_and_are_stored_as_uint8(tmp_path: Path) -> None:
    pytest.importorskip("minatar")
    result = _train(tmp_path, "ppo", env="MinAtar/Breakout-v1", total_env_steps=512,
                    num_envs=4, num_steps=64, eval_episodes=2)  # fmt: skip
    assert len(result.policy.encoder.images) == 1
    assert isinstance(make_actor(result.policy), TorchActor)
    sampler = pgrad.algos.algorithm("ppo").make_sampler  # the batch keeps uint8 observations
    envs, _ = pgrad.envs.make.make_vector_env("MinAtar/Breakout-v1", 2)
    batch = sampler(pgrad.make_config("ppo", num_steps=4), envs, 0).collect(result.policy)
    assert batch.obs.dtype == pgrad.rollout.batch.torch.uint8 and batch.obs.shape[-1] == 400
    assert pgrad.evaluate(pgrad.load_policy(tmp_path / "run"), episodes=2).episodes == 2


def test_ale_ids_get_atari_preprocessing_and_the_nature_cnn(tmp_path: Path) -> None:
    pytest.importorskip("ale_py")
    pytest.importorskip("cv2")
    assert main(["train", "ppo", "--env", "ALE/Pong-v5", "--total-env-steps", "64",
                 "--num-envs", "2", "--num-steps", "32", "--eval-episodes", "1",
                 "--max-episode-steps", "50", "--target-return", "none", "--no-progress",
                 "--no-tensorboard", "--run-dir", str(tmp_path / "run")]) == 0  # fmt: skip
    policy = pgrad.load_policy(tmp_path / "run").module
    assert policy.spec.env.observation_space.shape == (4, 84, 84)
    assert policy.encoder.images[0].out_dim == 512  # the Nature network


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["--env", "CartPole-v1", "--action-dist", "squashed"], "needs a Box action space"),
     (["--env", "MountainCarContinuous-v0", "--recurrent", "lstm", "--num-minibatches", "3"],
      "must divide num_envs")],
)  # fmt: skip
def test_space_options_that_do_not_fit_get_one_line(argv, words, tmp_path, capsys) -> None:
    assert main(["train", "ppo", *argv, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_tuple_of_discrete_observations_train_from_the_cli(tmp_path: Path) -> None:
    """Gymnasium's Blackjack-v1 observes Tuple(Discrete(32), Discrete(11), Discrete(2))."""
    assert main(["train", "--env", "Blackjack-v1", "--total-env-steps", "3000",
                 "--eval-episodes", "10", "--no-progress", "--no-tensorboard",
                 "--run-dir", str(tmp_path / "run")]) == 0  # fmt: skip
    policy = pgrad.load_policy(tmp_path / "run")
    assert policy.module.spec.env.obs_dim == 32 + 11 + 2
    assert policy.act((14, 10, 0), rng=np.random.default_rng(0)) in (0, 1)


def test_an_image_run_resumes_and_continues(tmp_path: Path) -> None:
    """MinAtar's emulator state is not plain data, so a resumed image run restarts its episodes
    (its random streams, weights and optimiser continue): it picks up at its last checkpoint."""
    pytest.importorskip("minatar")
    run = tmp_path / "run"
    args = ["train", "ppo", "--env", "MinAtar/Breakout-v1", "--num-envs", "2", "--num-steps", "64",
            "--eval-episodes", "2", "--target-return", "none", "--no-progress",
            "--no-tensorboard", "--checkpoint-every", "128"]  # fmt: skip
    assert main([*args, "--total-env-steps", "256", "--run-dir", str(run)]) == 0
    first = pgrad.load_policy(run).metadata["env_steps"]
    assert main(["train", "--resume", str(run), "--total-env-steps", "512", "--no-progress"]) == 0
    resumed = pgrad.load_policy(run)
    assert resumed.metadata["env_steps"] >= 512 > first
    assert len(resumed.module.encoder.images) == 1
