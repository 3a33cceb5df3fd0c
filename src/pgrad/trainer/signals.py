"""SIGINT and SIGTERM stop a run at the next update boundary, where its state is whole.

The first signal only asks: the loop finishes the update it is in, saves a resumable checkpoint,
writes every output and exits (the command line says how to resume). A second signal exits at
once (``SystemExit(130)``); every file pgrad writes is replaced atomically, so nothing is left
half-written, and the last complete checkpoint still resumes the run. Handlers are installed only
in the main thread (Python delivers signals there) and restored afterwards.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager: ``received`` is the name of the first stop signal, or None."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise SystemExit(130)  # a second signal: at once
        self.received = signal.Signals(signum).name

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)  # type: ignore[arg-type]
