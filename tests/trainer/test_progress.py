"""The progress bar keeps every column at 80 terminal columns."""

from __future__ import annotations

import io
import re

from rich.console import Console

from pgrad.trainer.progress import TrainingProgress, compact


def test_every_column_fits_80_columns() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    with TrainingProgress(500_000, "HalfCheetah-v5", True, console) as bar:
        bar.update(123_456, 2.0, -12345.6)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # drop cursor movements
    last = [line for line in re.split(r"[\r\n]", text) if "HalfCheetah" in line][-1]
    assert len(last.rstrip()) <= 80
    for piece in ("HalfCheetah-v5", "━", "123k/500k", "61.7k/s", "R -12345.6", "0:00:0", "ETA"):
        assert piece in last, (piece, last)


def test_compact_counts() -> None:
    assert [compact(x) for x in (950, 12_345, 123_456, 1_500_000)] == [
        "950", "12.3k", "123k", "1.50M"]  # fmt: skip
