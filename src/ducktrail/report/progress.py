"""A one-line progress display on stderr, for people watching long scans and ingests.

Shown only when stderr is a terminal (never in pipes, logs or CI) and not with --quiet.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ducktrail.engine.read_counter import ReadCounts


class ProgressLine:
    def __init__(self, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        # No stream at all when the process started with stderr closed (`2>&-`).
        self.enabled = enabled and self.stream is not None and self.stream.isatty()
        self.started = time.monotonic()
        self._width = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        padding = " " * max(0, self._width - len(text))
        self._write(f"\r{text}{padding}")
        self._width = len(text)

    def clear(self) -> None:
        if self.enabled and self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            self.enabled = False  # a terminal gone away (a closed ssh session): the run goes on without it

    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-6)

    def watch(
        self, so_far: Callable[[], ReadCounts] | None, total_files: int, *, verb: str = "scan"
    ) -> Callable[[], None]:
        """Show the files and events read `so_far` from a thread, four times a second; returns
        the function that stops it and clears the line.

        Without `so_far` (an adapter without the read hook) it shows the time elapsed.
        """
        if not self.enabled:
            return lambda: None
        stop = threading.Event()

        def render() -> None:
            elapsed = self.elapsed()
            if so_far is None:
                self.show(f"{verb}: {total_files} files, {elapsed:,.0f} s")
                return
            try:
                done = so_far()
            except Exception:  # noqa: BLE001 - the line is a nicety: failing to read the counts must not stop the run
                self.enabled = False
                return
            self.show(
                f"{verb}: {done.files}/{total_files} files, {done.events:,} events, "
                f"{done.events / elapsed:,.0f} events/s"
            )

        def loop() -> None:
            while not stop.wait(0.25):
                render()

        render()  # at once: the terminal shows the work has started, however long the first file takes
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()

        def finish() -> None:
            stop.set()
            thread.join()
            self.clear()

        return finish
