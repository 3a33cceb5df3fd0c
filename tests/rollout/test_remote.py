"""Sampling on Ray: the same weights whatever the number of workers, faults survived, loopback
only. One local Ray instance (2 CPUs) serves the module."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import ray

import pgrad
from pgrad.cli import main
from pgrad.errors import PgradError
from pgrad.rollout.remote import RaySampler, copy_config, start_ray

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """A local Ray whose workers can import the tests' environments (they inherit PYTHONPATH)."""
    if ray.is_initialized():
        ray.shutdown()
    before = listening()
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), old) if p)
    start_ray("", num_cpus=2)
    yield before
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = old


def listening() -> dict[str, str]:
    """Listening TCP sockets of this machine: inode -> local address (hex, as /proc has it)."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                out[fields[9]] = fields[1].split(":")[0]
    return out


LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
"""127.0.0.1, ::1 and ::ffff:127.0.0.1 as /proc/net/tcp{,6} write them."""


def test_every_listener_ray_opened_is_on_loopback(local_ray) -> None:
    ray.get(ray.remote(lambda: 1).remote())  # a worker process is up too
    opened = {inode: addr for inode, addr in listening().items() if inode not in local_ray}
    assert opened  # Ray's servers are among them
    assert set(opened.values()) <= LOOPBACK, opened


def _train(tmp_path: Path, name: str, workers: int, **kw):
    settings = dict(env="CartPole-v1", num_envs=4, workers=workers, worker_cpus=0.5,
                    progress=False, tensorboard=False, run_dir=tmp_path / name, eval_interval=0,
                    target_return="none")  # fmt: skip
    return pgrad.train(pgrad.make_config(**{**settings, **kw}))


def _weights(result) -> str:
    module = result.module if hasattr(result, "module") else result.policy  # loaded, or trained
    tensors = module.state_dict().values()
    return hashlib.sha256(b"".join(v.numpy().tobytes() for v in tensors)).hexdigest()


CASES = {
    "ppo": dict(algo="ppo", num_steps=64, total_env_steps=1024),  # fixed-length rollouts
    "reinforce": dict(algo="reinforce", episodes_per_update=6, total_env_steps=1500),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_weights_are_the_same_whatever_the_number_of_workers(case: str,
                                                                 tmp_path: Path) -> None:
    results = [_train(tmp_path, f"w{w}", w, **CASES[case]) for w in (1, 2, 4)]
    again = _train(tmp_path, "again", 2, **CASES[case])
    assert len({_weights(r) for r in [*results, again]}) == 1
    assert len({(r.env_steps, r.episodes, r.updates) for r in results}) == 1
    local = _train(tmp_path, "local", 0, **CASES[case])  # the same batches, in this process
    if case == "ppo":  # fixed-length rollouts: the same steps per update
        assert local.updates == results[0].updates
    else:  # complete episodes: the same episodes per update
        assert local.episodes / local.updates == results[0].episodes / results[0].updates


OTHERS = {
    "vpg": dict(algo="vpg", episodes_per_update=4, total_env_steps=800),
    "a2c": dict(algo="a2c", num_steps=16, total_env_steps=512),
    "ppo-gaussian": dict(algo="ppo", env="Pendulum-v1", num_steps=64, total_env_steps=512,
                         normalize_observations=True),  # continuous actions, standardised inputs
}


@pytest.mark.parametrize("case", sorted(OTHERS))
def test_every_algorithm_and_head_gives_the_same_weights_with_one_or_two_workers(
        case: str, tmp_path: Path) -> None:  # fmt: skip
    one, two = (_train(tmp_path, f"w{w}", w, **OTHERS[case]) for w in (1, 2))
    assert one.updates > 1 and _weights(one) == _weights(two)


def test_a_complete_episode_batch_gives_each_copy_a_fixed_share() -> None:
    cfg = pgrad.make_config(algo="reinforce", num_envs=4, episodes_per_update=6)
    shares = [copy_config(cfg, k) for k in range(4)]
    assert [s.episodes_per_update for s in shares] == [2, 2, 1, 1]  # type: ignore[union-attr]
    assert len({s.run.seed for s in shares}) == 4  # type: ignore[union-attr]
    few = pgrad.make_config(algo="reinforce", num_envs=4, episodes_per_update=2)
    assert copy_config(few, 3) is None  # no share: that copy samples nothing


def test_a_killed_worker_is_replaced_and_the_weights_do_not_change(tmp_path: Path,
                                                                   monkeypatch) -> None:
    reference = _train(tmp_path, "undisturbed", 2, **CASES["ppo"])
    real_collect = RaySampler.collect
    calls = {"n": 0}

    def kill_then_collect(self: RaySampler, policy):
        calls["n"] += 1
        if calls["n"] == 3:  # mid-run: the worker holding copies 2-3 dies
            os.kill(ray.get(self.workers[1].pid.remote()), signal.SIGKILL)
        return real_collect(self, policy)

    monkeypatch.setattr(RaySampler, "collect", kill_then_collect)
    disturbed = _train(tmp_path, "killed", 2, **CASES["ppo"])
    assert calls["n"] > 3
    assert _weights(disturbed) == _weights(reference)
    assert (disturbed.env_steps, disturbed.episodes) == (reference.env_steps, reference.episodes)


def test_an_environment_that_keeps_raising_ends_the_run_with_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(PgradError, match=r"Ray worker 0 \(copies 0-1 of pgrad-test/Raising") as e:
        _train(tmp_path, "raising", 2, env="pgrad-test/RaisingCartPole-v0",
               gym_packages=("_ray_envs",), worker_restarts=1, **CASES["ppo"])  # fmt: skip
    assert "copy 0" in str(e.value) and "lost its state" in str(e.value)


def test_more_workers_than_the_cluster_has_cpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PgradError, match="need 5 CPUs and the Ray cluster has 2"):
        _train(tmp_path, "crowded", 5, worker_cpus=1.0, **dict(CASES["ppo"], num_envs=5))


def test_resume_with_workers_continues_exactly(tmp_path: Path) -> None:
    """A run stopped half-way and resumed (the checkpoint holds every copy's streams) ends with
    the weights of the run that went straight through."""
    steady = dict(CASES["ppo"], lr_schedule="constant")  # the same learning rates in both
    whole = _train(tmp_path, "whole", 2, **steady)
    _train(tmp_path, "split", 2, **dict(steady, total_env_steps=512))
    assert main(["train", "--resume", str(tmp_path / "split"), "--total-env-steps", "1024",
                 "--no-progress"]) == 0  # fmt: skip
    resumed = pgrad.load_policy(tmp_path / "split")
    assert _weights(resumed) == _weights(whole)


def test_without_workers_ray_is_never_imported(tmp_path: Path) -> None:
    code = ("import sys, pgrad; pgrad.train(algo='reinforce', total_env_steps=500, progress=False,"
            f" tensorboard=False, run_dir={str(tmp_path / 'run')!r}); "
            "print('ray' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
