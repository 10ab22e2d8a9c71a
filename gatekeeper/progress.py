"""The live per-stage display on a terminal: one line per finished stage, a status line below."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from gatekeeper.models import StageResult
from gatekeeper.reports.text import stage_line


class Progress:
    """A listener for :func:`gatekeeper.executor.execute` that draws on a TTY (stderr)."""

    def __init__(self, stream: TextIO | None = None, color: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.color = color
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, name: str, result: StageResult | None) -> None:
        with self.lock:
            self._clear()
            if result is None:
                self.running[name] = time.monotonic()
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
            self.stream.write(f"  … running: {items}")

    def close(self) -> None:
        with self.lock:
            self._clear()
            self.stream.flush()
