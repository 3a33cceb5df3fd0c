"""Stored observations: one array per step whatever the space, read back by the same layout."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector.utils import batch_space

from pgrad.envs.observations import batch_flattener, is_image, observation_layout
from pgrad.envs.spaces import space_from_json, space_to_json
from pgrad.errors import PgradError

NESTED = gym.spaces.Dict({
    "position": gym.spaces.Discrete(5, start=2),
    "pick": gym.spaces.MultiDiscrete([2, 3]),
    "bits": gym.spaces.MultiBinary(3),
    "box": gym.spaces.Box(-1.0, 1.0, (2, 2), np.float32),
    "more": gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Box(0.0, 1.0, (1,)))),
})  # fmt: skip


@pytest.mark.parametrize("space", [NESTED, gym.spaces.Discrete(4),
                                   gym.spaces.Tuple((gym.spaces.Discrete(3),) * 2),
                                   gym.spaces.MultiDiscrete([3, 2], start=[1, -1])])  # fmt: skip
def test_batches_flatten_row_by_row_as_gymnasium_flattens_one(space: gym.Space) -> None:
    """Each stored row is gymnasium.spaces.flatten of that copy's observation (one-hot for
    Discrete and MultiDiscrete, entries in the space's order)."""
    batched = batch_space(space, 6)
    batched.seed(0)
    obs = batched.sample()
    stored = batch_flattener(space)(obs, 6)
    assert stored.shape == (6, observation_layout(space).dim) and stored.dtype == np.float32
    for i, one in enumerate(gym.vector.utils.iterate(batched, obs)):
        np.testing.assert_array_equal(stored[i], gym.spaces.flatten(space, one))


def test_images_are_recognised_and_stored_as_uint8() -> None:
    atari = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    frame = gym.spaces.Box(0, 255, (210, 160, 3), np.uint8)
    minatar = gym.spaces.Box(0, 1, (10, 10, 4), np.bool_)
    assert all(is_image(s) for s in (atari, frame, minatar))
    assert not is_image(gym.spaces.Box(0, 255, (4,), np.uint8))
    layout = observation_layout(atari)
    (part,) = layout.parts
    assert layout.dtype == np.uint8 and part.shape == (4, 84, 84) and not part.channels_last
    assert observation_layout(frame).parts[0].shape == (3, 210, 160)
    assert observation_layout(minatar).parts[0].scale == 1.0
    mixed = observation_layout(gym.spaces.Dict({"image": atari, "speed": gym.spaces.Box(0, 1)}))
    assert mixed.dtype == np.float32 and mixed.has_images and mixed.vector_columns().size == 1


@pytest.mark.parametrize("space", [NESTED, gym.spaces.Box(0, 255, (4, 84, 84), np.uint8),
                                   gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
                                   gym.spaces.Box(0, 1, (10, 10, 4), np.bool_)])  # fmt: skip
def test_spaces_round_trip_through_json(space: gym.Space) -> None:
    import json

    back = space_from_json(json.loads(json.dumps(space_to_json(space), allow_nan=False)))
    assert space_to_json(back) == space_to_json(space)
    assert observation_layout(back) == observation_layout(space)


@pytest.mark.parametrize(
    "data", [{"type": "Box", "shape": [2], "low": ["nan"], "high": 1.0},
             {"type": "Dict", "spaces": {}}, {"type": "MultiDiscrete", "nvec": [0]},
             {"type": "Tuple", "spaces": [{"type": "Text"}]}],
)  # fmt: skip
def test_malformed_space_descriptions_are_one_line_errors(data) -> None:
    with pytest.raises(PgradError, match="space description"):
        space_from_json(data)


def test_unreadable_observation_spaces_are_refused() -> None:
    with pytest.raises(PgradError, match="observation space Text"):
        observation_layout(gym.spaces.Text(4))
