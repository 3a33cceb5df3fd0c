"""Observation encoders: the stored observation [B, obs_dim] -> features [B, F] for the MLP.

The :class:`pgrad.envs.observations.ObsLayout` says which columns are vectors and which are
images. Vector columns pass through (standardised by the policy when it normalises
observations); each image goes through its own CNN, chosen by size:

- at least 36 x 36 pixels: the Nature DQN network (Mnih et al., 2015): 32 8x8 filters stride 4,
  64 4x4 stride 2, 64 3x3 stride 1, then a 512-unit layer, ReLU throughout (as in
  Stable-Baselines3's NatureCNN and CleanRL's Atari PPO);
- smaller (MinAtar's 10 x 10): the MinAtar network (Young and Tian, 2019, arXiv:1903.03176): 16
  3x3 filters stride 1, then a 128-unit layer.

Images are scaled to [0, 1] (uint8 / 255; bool as 0 and 1) inside the encoder, so rollouts store
them as uint8.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from pgrad.envs.observations import ObsLayout, Part

NATURE_MIN_SIZE = 36
"""The smallest side the Nature network's three convolutions fit."""


def _init(layer: nn.Conv2d | nn.Linear) -> nn.Module:
    nn.init.orthogonal_(layer.weight, math.sqrt(2.0))
    nn.init.zeros_(layer.bias)
    return layer


def image_cnn(channels: int, height: int, width: int) -> tuple[nn.Sequential, int]:
    """The CNN for one (C, H, W) image and its feature count."""
    if min(height, width) >= NATURE_MIN_SIZE:
        convs = [_init(nn.Conv2d(channels, 32, 8, stride=4)), nn.ReLU(),
                 _init(nn.Conv2d(32, 64, 4, stride=2)), nn.ReLU(),
                 _init(nn.Conv2d(64, 64, 3, stride=1)), nn.ReLU(), nn.Flatten()]  # fmt: skip
        features = 512
    else:
        convs = [_init(nn.Conv2d(channels, 16, 3, stride=1)), nn.ReLU(), nn.Flatten()]
        features = 128
    with torch.no_grad():
        flat = nn.Sequential(*convs)(torch.zeros(1, channels, height, width)).shape[1]
    return nn.Sequential(*convs, _init(nn.Linear(flat, features)), nn.ReLU()), features


class ImageEncoder(nn.Module):
    """One image part: its columns, reshaped to (C, H, W), scaled, through :func:`image_cnn`."""

    def __init__(self, part: Part) -> None:
        super().__init__()
        self.part = part
        c, h, w = part.shape
        self.cnn, self.out_dim = image_cnn(c, h, w)

    def forward(self, obs: Tensor) -> Tensor:
        """Features [B, out_dim] of stored observations [B, obs_dim] (any dtype)."""
        p = self.part
        x = obs[:, p.offset : p.offset + p.size]
        c, h, w = p.shape
        if p.channels_last:
            x = x.reshape(-1, h, w, c).permute(0, 3, 1, 2)
        else:
            x = x.reshape(-1, c, h, w)
        return self.cnn(x.float() * p.scale)


class ObservationEncoder(nn.Module):
    """Vector columns (``normalize``: the policy's standardisation) beside every image's CNN.

    Attributes:
        vector_dim: how many vector columns there are (the size of observation statistics).
        out_dim: F, the features per observation.
        numpy_form: no images (the NumPy acting path can run the policy).
    """

    def __init__(self, layout: ObsLayout) -> None:
        super().__init__()
        self.layout = layout
        self.images = nn.ModuleList(ImageEncoder(p) for p in layout.parts if p.image)
        columns = torch.from_numpy(layout.vector_columns())
        self.vector_dim = int(columns.shape[0])
        self._all_vector = not layout.has_images
        self.register_buffer("_columns", columns, persistent=False)
        self.out_dim = self.vector_dim + sum(e.out_dim for e in self.images)  # type: ignore[misc]
        self.numpy_form = self._all_vector

    def vectors(self, obs: Tensor) -> Tensor:
        """The vector columns [B, vector_dim] of stored observations [B, obs_dim], as floats."""
        x = obs if self._all_vector else obs[:, self._columns]
        return x if x.is_floating_point() else x.float()

    def forward(self, obs: Tensor, vectors: Tensor) -> Tensor:
        """Features [B, out_dim]: ``vectors`` (already standardised) and the images' CNNs."""
        if not self.images:
            return vectors
        return torch.cat([vectors, *(encoder(obs) for encoder in self.images)], dim=1)
