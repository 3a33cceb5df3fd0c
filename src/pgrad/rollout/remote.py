"""Sampling on Ray: workers own the environment copies and return whole batches.

:class:`RaySampler` implements :class:`pgrad.rollout.batch.Sampler`, so no estimator, loss or
algorithm can tell it from an in-process sampler. Each of W workers is a Ray actor that owns a
contiguous share of the N copies and a copy of the policy. Once per update the learner puts the
weights into Ray's object store (one ``ray.put``), every worker samples its copies' batches in
one remote call and returns them with their copies' sampler states; the learner assembles the
rows in copy order (:func:`pgrad.rollout.batch.concat_rows`).

**The same run whatever W.** Copy k is a one-copy sampler of the algorithm's own kind
(``make_sampler`` of its module) with its own seed, derived from the run's seed and k alone
(:func:`copy_seed`): its environment's resets and its action noise are the same whichever worker
holds it. Each copy acts and computes its batch's values and log-probabilities on its own rows
only: BLAS results for one row of a matrix product depend on how many rows are multiplied
together (measured with NumPy's OpenBLAS on this project's layer shapes), so batching copies
together would make the weights depend on W. Complete-episode algorithms give copy k a fixed
share of the m episodes (m // N, one more for the first m % N copies): a fixed number of
complete episodes per copy, independent of their lengths, so the batch stays unbiased.

**Faults.** The learner keeps every copy's state as of its last batch. A worker that dies, times
out or raises is replaced by a fresh one restored to those states, and its share is sampled
again from the same streams: no episode is lost or counted twice, and the weights are those of a
run without the fault (where the environment's state is captured exactly, see
:mod:`pgrad.envs.snapshot`). After ``worker_restarts`` failed tries of one batch the run ends
with an error naming the worker, its copies and the environment.

Ray is imported only here, and only when a run asks for workers.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from typing import Any
from unittest import mock

import numpy as np
from gymnasium.vector import VectorEnv

from pgrad.envs.make import make_vector_env
from pgrad.errors import PgradError
from pgrad.policies.mlp import MLPPolicy, PolicySpec, build_policy
from pgrad.rollout.batch import Batch, Sampler, concat_rows

RAY_MISSING = ('--workers needs Ray: pip install -e ".[ray]" (or pip install ray), or leave '
               "--workers at 0 to sample in this process")  # fmt: skip


def copy_seed(seed: int, copy: int) -> int:
    """Copy ``copy``'s seed in a run seeded ``seed``: independent streams for every (seed, copy)
    pair (NumPy's SeedSequence), unlike ``seed + copy``, which run seed s + 1 would repeat."""
    return int(np.random.SeedSequence([seed, copy]).generate_state(1)[0])


def copy_config(cfg: Any, copy: int) -> Any | None:
    """The config of copy ``copy``'s one-copy sampler, or None when it has no share of the batch
    (more copies than a complete-episode batch has episodes)."""
    changes: dict[str, Any] = {"num_envs": 1, "seed": copy_seed(cfg.run.seed, copy),
                               "vectorization_mode": "sync"}  # fmt: skip
    episodes = getattr(cfg, "episodes_per_update", None)  # complete-episode algorithms only
    if episodes is not None:
        share = episodes // cfg.env.num_envs + int(copy < episodes % cfg.env.num_envs)
        if share == 0:
            return None
        changes["episodes_per_update"] = share
    return cfg.replace(**changes)


class CopyFailed(RuntimeError):
    """An environment copy raised while sampling (the message names the copy and the env)."""


SamplerFactory = Callable[[Any, VectorEnv, int], Sampler]
"""An algorithm's ``make_sampler(cfg, envs, seed)``, which builds each copy's sampler."""


class SamplerWorker:
    """The copies ``copies`` of ``cfg``'s environment, sampled by a local copy of the policy."""

    def __init__(self, cfg: Any, spec: PolicySpec, copies: list[int],
                 make_sampler: SamplerFactory) -> None:  # fmt: skip
        self.env_id = cfg.env.id
        self.policy = build_policy(spec, cfg.run.seed)
        self.samplers: dict[int, Sampler] = {}
        for k in copies:
            one = copy_config(cfg, k)
            if one is not None:
                envs, _ = make_vector_env(one.env)
                self.samplers[k] = make_sampler(one, envs, one.run.seed)

    def collect(self, weights: dict[str, Any]) -> list[tuple[int, Batch, dict[str, Any]]]:
        """Load ``weights``; each copy's batch and its sampler's state after it, in copy order."""
        self.policy.load_state_dict(weights)
        out = []
        for k, sampler in self.samplers.items():
            try:
                batch = sampler.collect(self.policy)
            except Exception as exc:
                raise CopyFailed(f"copy {k} of {self.env_id}: {type(exc).__name__}: {exc}") from exc
            out.append((k, batch, sampler.state_dict()))
        return out

    def load_state_dict(self, states: dict[int, dict[str, Any]]) -> None:
        """Restore the copies' sampler states (those given)."""
        for k, state in states.items():
            if k in self.samplers:
                self.samplers[k].load_state_dict(state)

    def pid(self) -> int:
        """This worker's process id (tests kill it)."""
        return os.getpid()

    def close(self) -> None:
        """Release the environments."""
        for sampler in self.samplers.values():
            sampler.close()


def start_ray(address: str, num_cpus: int) -> None:
    """Join the cluster at ``address``, or start a local Ray instance bound to loopback (no
    dashboard). Does nothing if Ray is already initialised in this process.

    ``ray.init`` replaces a loopback node address by the machine's reachable one, and each of
    Ray's servers then listens on every interface; with 127.0.0.1 kept as the node address, every
    listener binds to loopback (checked by ``tests/rollout/test_remote.py``).
    """
    try:
        import ray
        import ray._private.services as services
    except ImportError as exc:
        raise PgradError(RAY_MISSING) from exc
    if ray.is_initialized():
        return
    quiet = dict(configure_logging=False, log_to_driver=False)
    if address:
        ray.init(address=address, **quiet)  # type: ignore[arg-type]
        return
    with mock.patch.object(services, "resolve_ip_for_localhost", lambda host: host):
        ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                 **quiet)  # type: ignore[arg-type]  # fmt: skip


def require_cpus(available: float, workers: int, worker_cpus: float) -> None:
    """A clear error now, rather than workers that wait for a CPU until they time out."""
    if workers * worker_cpus > available + 1e-9:
        raise PgradError(
            f"{workers} workers x {worker_cpus:g} CPUs need {workers * worker_cpus:g} CPUs and the "
            f"Ray cluster has {available:g}: lower --workers, or share cores with e.g. "
            f"--worker-cpus {available / workers:.2g}"
        )


class RaySampler:
    """The :class:`pgrad.rollout.batch.Sampler` of ``cfg`` with ``cfg.run.workers`` Ray workers."""

    def __init__(self, cfg: Any, policy: MLPPolicy, make_sampler: SamplerFactory) -> None:
        run = cfg.run
        workers = min(run.workers, cfg.env.num_envs)
        start_ray(run.ray_address, num_cpus=max(math.ceil(workers * run.worker_cpus),
                                                os.cpu_count() or 1))  # fmt: skip
        import ray

        require_cpus(ray.cluster_resources().get("CPU", 0.0), workers, run.worker_cpus)

        self._ray = ray
        self.num_envs = cfg.env.num_envs
        self.cfg, self.spec, self._make_sampler = cfg, policy.spec, make_sampler
        shares = np.array_split(np.arange(self.num_envs), workers)
        self.shares = [[int(k) for k in share] for share in shares]
        self._remote = ray.remote(num_cpus=run.worker_cpus, max_restarts=0)(SamplerWorker)
        self.workers = [self._spawn(i) for i in range(len(self.shares))]
        self.states: dict[int, dict[str, Any]] = {}
        """Each copy's sampler state as of its last batch (what a replaced worker restarts from)."""

    def _spawn(self, i: int) -> Any:
        return self._remote.remote(self.cfg, self.spec, self.shares[i], self._make_sampler)

    def collect(self, policy: MLPPolicy) -> Batch:
        """Every copy's batch for ``policy``'s weights, rows in copy order."""
        weights = self._ray.put({k: v.detach().clone() for k, v in policy.state_dict().items()})
        results: dict[int, tuple[Batch, dict[str, Any]]] = {}
        pending = {i: w.collect.remote(weights) for i, w in enumerate(self.workers)}
        tries = 1
        while pending:
            failed = self._gather(pending, results)
            if failed and tries > self.cfg.run.worker_restarts:
                i, error = next(iter(failed.items()))
                raise PgradError(self._failure(i, tries, error))
            pending = {i: self._replace(i).collect.remote(weights) for i in failed}
            tries += 1
        self.states.update({k: state for k, (_, state) in results.items()})
        return concat_rows([results[k][0] for k in sorted(results)])

    def _gather(self, pending: dict[int, Any], results: dict[int, tuple[Batch, dict[str, Any]]]
                ) -> dict[int, BaseException]:  # fmt: skip
        """Wait for each pending worker's batches (within the timeout); the failures by worker."""
        failed: dict[int, BaseException] = {}
        for i, ref in pending.items():
            try:
                for k, batch, state in self._ray.get(ref, timeout=self.cfg.run.worker_timeout):
                    results[k] = (batch, state)
            except (self._ray.exceptions.RayError, CopyFailed) as exc:
                failed[i] = exc
        return failed

    def _replace(self, i: int) -> Any:
        """A fresh worker i, restored to its copies' last states."""
        self._ray.kill(self.workers[i], no_restart=True)
        worker = self._spawn(i)
        mine = {k: self.states[k] for k in self.shares[i] if k in self.states}
        if mine:
            self._ray.get(worker.load_state_dict.remote(mine), timeout=self.cfg.run.worker_timeout)
        self.workers[i] = worker
        return worker

    def _failure(self, i: int, tries: int, error: BaseException) -> str:
        cause = getattr(error, "cause", None) or error
        detail = " ".join(str(cause).split())[:300]
        copies = self.shares[i]
        return (f"Ray worker {i} (copies {copies[0]}-{copies[-1]} of {self.cfg.env.id}) failed "
                f"{tries} times: {detail}; fix the environment, or raise --worker-restarts / "
                "--worker-timeout")  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """Every copy's sampler state as of the last batch (JSON-ready)."""
        return {"copies": {str(k): state for k, state in sorted(self.states.items())}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` into every worker."""
        self.states = {int(k): v for k, v in state["copies"].items()}
        calls = []
        for i, worker in enumerate(self.workers):
            mine = {k: self.states[k] for k in self.shares[i] if k in self.states}
            calls.append(worker.load_state_dict.remote(mine))
        self._ray.get(calls, timeout=self.cfg.run.worker_timeout)

    def close(self) -> None:
        """Release the workers and their environments (Ray itself stays up)."""
        for worker in self.workers:
            with contextlib.suppress(self._ray.exceptions.RayError):
                self._ray.get(worker.close.remote(), timeout=10)
            self._ray.kill(worker, no_restart=True)
