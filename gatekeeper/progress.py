"""The live per-stage display on a terminal: one line per finished stage, a status line below.

The status line says what is running and for how long; a ticker redraws it twice a second,
so a long stage visibly counts up instead of looking hung. Where the output is not a terminal
(a CI log), :class:`PlainProgress` prints one plain line per finished stage instead, so the log
is not silent while the stages run.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TextIO

from gatekeeper.models import StageResult
from gatekeeper.reports.text import stage_line


class Progress:
    """A listener for :func:`gatekeeper.executor.execute` that draws on a TTY (stderr)."""

    def __init__(
        self, stream: TextIO | None = None, color: bool = True, interval: float = 0.5
    ) -> None:
        self.stream = stream or sys.stderr
        self.color = color
        self.interval = interval
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, name: str, result: StageResult | None) -> None:
        with self.lock:
            self._clear()
            if result is None:
                self.running[name] = time.monotonic()
                self._start_ticker()
            else:
                self.running.pop(name, None)
                self.stream.write(stage_line(result, self.color) + "\n")
            self._status()
            self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\033[K")

    def _status(self) -> None:
        if self.running:
            now = time.monotonic()
            items = ", ".join(f"{n} {now - t:.0f}s" for n, t in self.running.items())
            line = f"  … running: {items}"
            # A wrapped line could not be erased by the carriage return: keep it on one row.
            width = shutil.get_terminal_size((80, 24)).columns - 1
            self.stream.write(line if len(line) <= width else line[: max(width - 1, 0)] + "…")

    def _start_ticker(self) -> None:
        if self._ticker is None and self.interval > 0:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self.lock:
                if self.running:
                    self._clear()
                    self._status()
                    self.stream.flush()

    def close(self) -> None:
        """Stop the ticker and erase the status line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self.lock:
            self._clear()
            self.stream.flush()


class PlainProgress:
    """A listener that prints one line per finished stage, without colour or redraws."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def __call__(self, name: str, result: StageResult | None) -> None:
        if result is None:
            return
        with self.lock:
            self.stream.write(stage_line(result, False) + "\n")
            self.stream.flush()

    def close(self) -> None:
        """Nothing to erase."""
