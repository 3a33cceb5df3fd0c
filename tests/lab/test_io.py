"""MDP files: .npz and .json round trips, and one-line errors naming the file and argument."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pgrad.exact import NAMED_MDPS, load_mdp, policy_gradient, save_mdp


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    mdp = NAMED_MDPS["gridworld"]()
    path = tmp_path / f"grid{suffix}"
    save_mdp(mdp, path)
    loaded, label = load_mdp(str(path))
    assert label == path.name and loaded.horizon == mdp.horizon and loaded.discount == mdp.discount
    logits = np.random.default_rng(0).normal(size=(mdp.num_states, mdp.num_actions))
    np.testing.assert_array_equal(policy_gradient(loaded, logits), policy_gradient(mdp, logits))


def test_named_mdps_load_by_name() -> None:
    for name in NAMED_MDPS:
        assert load_mdp(name)[1] == name


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"initial": [1.0], "rewards": [[0.0]], "horizon": 2}, "lacks transitions"),
        ({"initial": [0.5], "transitions": [[[1.0]]], "rewards": [[0.0]], "horizon": 2},
         "initial: probabilities sum to 0.5"),
        ({"initial": [1.0], "transitions": [[[1.0]]], "rewards": [[0.0]], "horizon": 1.5},
         "horizon must be one integer"),
        ([1, 2, 3], "the top level must be an object"),
    ],
)  # fmt: skip
def test_bad_json_files(tmp_path: Path, content: object, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError) as info:
        load_mdp(str(path))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="cannot read"):
        load_mdp(str(tmp_path / "x.npz"))
    with pytest.raises(ValueError, match="does not exist"):
        load_mdp(str(tmp_path / "y.json"))
    with pytest.raises(ValueError, match="neither a shipped MDP"):
        load_mdp("maze")


def test_a_bias_interval_that_excludes_zero_at_every_m_is_a_bias() -> None:
    """ppo_epoch2's |z| stayed under the limit while its bias interval excluded 0 at every m."""
    from pgrad.lab.report import verdict
    from pgrad.lab.study import EstimatorStats

    def row(m: int, low: float, z: float) -> EstimatorStats:
        return EstimatorStats("ppo_epoch2", m, 20, 0.05, low, 0.09, z, 1.0, 0.1, 0.1, 0.9)

    assert verdict([row(10, 0.01, 3.0), row(100, 0.04, 4.0)]).startswith("BIASED (the bias")
    assert verdict([row(10, 0.0, 3.0), row(100, 0.04, 4.0)]).startswith("consistent")
    assert verdict([row(10, 0.0, 6.0)]).startswith("BIASED (largest |z| 6.00")
