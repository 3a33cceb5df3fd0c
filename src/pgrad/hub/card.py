"""The model card (``README.md`` with the Hub's YAML metadata) and ``results.json`` of an
exported agent.

The metadata follows the Hub's conventions for reinforcement-learning models, as
Stable-Baselines3 and the Hugging Face Deep RL course write them: ``library_name``, tags with the
environment id, and a ``model-index`` whose metric ``mean_reward`` reads ``"MEAN +/- STD"``, so
the Hub shows the evaluation and its leaderboards can read it.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pgrad.rollout.evaluate import Evaluation


def results(env_id: str, algo: str, evaluation: Evaluation, *, deterministic: bool,
            seed: int) -> dict[str, Any]:  # fmt: skip
    """The evaluation as ``results.json`` holds it (SB3's keys, and the episodes' returns)."""
    from pgrad import __version__

    return {
        "env_id": env_id,
        "algorithm": algo,
        "mean_reward": evaluation.mean,
        "std_reward": evaluation.std,
        "n_eval_episodes": evaluation.episodes,
        "is_deterministic": deterministic,
        "eval_seed": seed,
        "returns": [float(r) for r in evaluation.returns],
        "eval_datetime": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "pgrad_version": __version__,
    }


def metadata(result: dict[str, Any], name: str) -> str:
    """The card's YAML front matter (without the ``---`` fences)."""
    from huggingface_hub import EvalResult, ModelCardData

    env_id = result["env_id"]
    data = ModelCardData(
        library_name="pgrad",
        tags=["reinforcement-learning", "deep-reinforcement-learning", "policy-gradient",
              "pgrad", result["algorithm"], env_id],
        model_name=name,
        eval_results=[EvalResult(
            task_type="reinforcement-learning", task_name="reinforcement-learning",
            dataset_type=env_id, dataset_name=env_id, metric_type="mean_reward",
            metric_name="mean_reward", verified=False,
            metric_value=f"{result['mean_reward']:.2f} +/- {result['std_reward']:.2f}",
        )],
    )  # fmt: skip
    return str(data.to_yaml())


def model_card(result: dict[str, Any], config: dict[str, Any], summary: dict[str, Any] | None,
               repo_id: str | None, video: bool) -> str:  # fmt: skip
    """The whole ``README.md``: metadata, evaluation, usage, training and the config."""
    env_id, algo = result["env_id"], result["algorithm"]
    name = repo_id.split("/")[1] if repo_id else f"{algo}-{env_id}"
    path = f"hf://{repo_id}" if repo_id else "PATH"
    mode = "deterministic" if result["is_deterministic"] else "sampled"
    lines = [
        "---", metadata(result, name).rstrip("\n"), "---", "",
        f"# {algo.upper()} agent for {env_id}", "",
        f"A **{algo}** policy trained on `{env_id}` with pgrad, the policy-gradient library whose",
        "estimators are checked against the exact gradient on finite MDPs.", "",
        "## Evaluation", "",
        f"Mean return **{result['mean_reward']:.2f} ± {result['std_reward']:.2f}** over "
        f"{result['n_eval_episodes']} episodes ({mode} actions, seed {result['eval_seed']}; "
        "`results.json` holds every return).", "",
    ]  # fmt: skip
    if video:
        lines += ["`replay.mp4` shows the policy playing.", ""]
    lines += [
        "## Usage", "", "```bash", 'pip install "pgrad[hub]"',
        f"pgrad eval {path} --episodes {result['n_eval_episodes']} --seed {result['eval_seed']}"
        + (" --deterministic" if result["is_deterministic"] else ""),
        f"pgrad record {path} --out replay.mp4", "```", "",
        "```python", "import pgrad", "", f'policy = pgrad.load_policy("{path}")',
        "action = policy.act(observation)   # a NumPy observation in, an action for env.step out",
        "```", "",
        "Loading reads only `policy.safetensors` and `policy.json` (no pickle, no code).", "",
    ]  # fmt: skip
    lines += [
        *training(summary), "## Configuration", "",
        "`config.json` (train it again with `pgrad train --config config.json --run-dir DIR`):", "",
        "```json", json.dumps(config, indent=2), "```", "",
    ]  # fmt: skip
    return "\n".join(lines)


def training(summary: dict[str, Any] | None) -> list[str]:
    """The card's lines on how the run went (from its ``summary.json``), if known."""
    counts = [(summary or {}).get(k) for k in ("env_steps", "updates", "train_seconds")]
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in counts):
        return []
    assert summary is not None
    versions = summary.get("versions") or {}
    target = summary.get("target_return")
    if summary.get("solved") and isinstance(target, int | float):
        outcome = f"solved (mean evaluation return >= {target:g})"
    else:
        outcome = f"stopped by {summary.get('stopped_by') or 'its budget'}, not solved"
    return [
        "## Training", "",
        f"{counts[0]:,} environment steps in {counts[1]} updates, {counts[2]:.1f} s of "
        f"training; {outcome}. pgrad {versions.get('pgrad')}, PyTorch "
        f"{versions.get('torch')}, Gymnasium {versions.get('gymnasium')}.", "",
    ]  # fmt: skip
