"""A one-line progress display on stderr, for people watching long scans and ingests.

Shown only when stderr is a terminal (never in pipes, logs or CI) and not with --quiet.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


class ProgressLine:
    def __init__(self, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.started = time.monotonic()
        self._width = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        padding = " " * max(0, self._width - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-6)

    def files(self, done: int, total: int, events: int) -> None:
        """Ingest: exact files and events so far."""
        self.show(f"ingest: {done}/{total} files, {events:,} events, {events / self.elapsed():,.0f} events/s")

    def watch(self, percent: Callable[[], float], total_files: int, total_bytes: int) -> Callable[[], None]:
        """Scan: poll the engine's progress from a thread; returns the function that stops it."""
        if not self.enabled:
            return lambda: None
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(0.25):
                done = percent()
                if done < 0:
                    continue
                rate = total_bytes * done / 100 / self.elapsed() / 1e6
                files_done = round(total_files * done / 100)
                self.show(f"scan: {done:3.0f}% of {total_files} files (~{files_done} done), {rate:,.1f} MB/s")

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()

        def finish() -> None:
            stop.set()
            thread.join()
            self.clear()

        return finish
