"""Recurrent cores: an LSTM or GRU between the observation encoder and the policy's MLP.

The core's state is one float tensor per environment copy, [N, S] (the LSTM's h and c side by
side, S = 2H; the GRU's h, S = H). It is zeroed where an episode starts: ``starts[b, t]`` says
that step t of row b is the first step of an episode, so the state entering it is reset before
the step. A rollout keeps the state each row started with and ``starts``; the losses re-run each
row's steps in order from that state (:meth:`RecurrentCore.sequence`), which gives the same
features the rollout acted with.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

CORES = ("lstm", "gru")


class RecurrentCore(nn.Module):
    """An LSTM or GRU cell of ``size`` units over features of width ``inputs``."""

    def __init__(self, kind: str, inputs: int, size: int) -> None:
        super().__init__()
        if kind not in CORES:
            raise ValueError(f"recurrent core must be one of {CORES}, got {kind!r}")
        self.kind, self.size = kind, size
        self.cell: nn.LSTMCell | nn.GRUCell = (
            nn.LSTMCell(inputs, size) if kind == "lstm" else nn.GRUCell(inputs, size)
        )
        self.state_size = 2 * size if kind == "lstm" else size
        for name, param in self.cell.named_parameters():
            if name.startswith("weight"):
                nn.init.orthogonal_(param)
            else:
                nn.init.zeros_(param)

    def step(self, x: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """(output h [B, size], next state [B, S]) for features x [B, F] and state [B, S]."""
        if self.kind == "lstm":
            h, c = self.cell(x, (state[:, : self.size], state[:, self.size :]))
            return h, torch.cat([h, c], dim=-1)
        h = self.cell(x, state)
        return h, h

    def sequence(self, x: Tensor, starts: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        """Outputs [B, T, size] and the state after each step [B, T, S].

        Args:
            x: features [B, T, F] of each row's steps in order.
            starts: bool [B, T], the state is zeroed before steps where an episode starts.
            state: [B, S], the state before step 0.
        """
        keep = (~starts).to(x.dtype).unsqueeze(-1)
        outputs, states = [], []
        for t in range(x.shape[1]):
            h, state = self.step(x[:, t], state * keep[:, t])
            outputs.append(h)
            states.append(state)
        return torch.stack(outputs, dim=1), torch.stack(states, dim=1)

