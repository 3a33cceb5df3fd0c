"""The learning-curve figure: drawn by the worker process, or in-process when the worker fails."""

from __future__ import annotations

from pathlib import Path

from pgrad.trainer.plots import PlotWorker

ROWS = [
    {"env_steps": 100.0, "rollout/ep_return_mean": 20.0, "rollout/ep_return_std": 5.0},
    {"env_steps": 200.0, "rollout/ep_return_mean": 40.0, "rollout/ep_return_std": 8.0,
     "eval/return_mean": 45.0, "eval/return_std": 3.0},
]  # fmt: skip


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_worker_draws_the_figure(tmp_path: Path) -> None:
    worker = PlotWorker()
    process = worker._process
    worker.draw(ROWS, 475.0, "test", tmp_path / "curve.png")
    assert process is not None and process.returncode == 0  # drawn by the worker
    assert _is_png(tmp_path / "curve.png")


def test_a_dead_worker_falls_back_to_drawing_in_process(tmp_path: Path) -> None:
    worker = PlotWorker()
    assert worker._process is not None
    worker._process.kill()
    worker._process.wait()
    worker.draw(ROWS, None, "test", tmp_path / "curve.png")
    assert _is_png(tmp_path / "curve.png")
    worker.close()  # nothing left to stop


def test_wide_tick_labels_leave_the_y_label_inside_the_figure(tmp_path: Path) -> None:
    from pgrad.trainer.plots import plot_learning_curve

    wide = [dict(r, **{"rollout/ep_return_mean": -1_234_567.0 * (i + 1)})
            for i, r in enumerate(ROWS)]  # fmt: skip
    for rows in (ROWS, wide):
        fig = plot_learning_curve(rows, None, "t", tmp_path / "c.png", "mean of the last 100")
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        assert ax.yaxis.label.get_window_extent(renderer).x0 >= 0
        assert all(t.get_window_extent(renderer).x0 >= 0 for t in ax.get_yticklabels())
        assert ax.get_legend().get_texts()[0].get_text() == "mean of the last 100"
