"""Ctrl-C held back over steps that must not be cut in the middle."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C held back while inside and handed to the handler that was set on leaving (Python's
    own raises KeyboardInterrupt). Only where a Python handler would take it: in the main thread,
    with one set (a process started with SIGINT ignored keeps ignoring it).

    >>> import os, signal
    >>> try:
    ...     with interrupts_deferred():
    ...         os.kill(os.getpid(), signal.SIGINT)
    ...         print("still running")
    ... except KeyboardInterrupt:
    ...     print("interrupted on leaving")
    still running
    interrupted on leaving
    """
    previous = signal.getsignal(signal.SIGINT)
    received: list[int] = []
    try:
        if not callable(previous):  # SIG_IGN, SIG_DFL, or a handler set outside Python
            raise ValueError("no Python handler")
        signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    except ValueError:  # that, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, None)
