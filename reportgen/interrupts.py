"""Ctrl-C and SIGTERM: they stop a build anywhere except while it is being committed, and are never lost.

The command line installs one handler for SIGINT and SIGTERM for the length of a command
(:func:`handled`). It records the signal and raises KeyboardInterrupt, so one path serves both: every
``finally`` on the way out runs (the PDF worker is stopped, temporary folders are removed) and the
command ends with exit code 130 and one sentence.

* The commit (the build folder renamed into place, then ``latest`` swapped to it) is a critical section
  (:func:`deferred`). A signal that arrives during it is recorded and acted on as the section ends, so a
  build is either absent or complete with ``latest`` on it, never half-swapped; the section records the
  folder it committed (:func:`committed`), so that the command line can name it instead of claiming that
  nothing was written. Where the handler is not reportgen's (reportgen used as a library), the section
  blocks the two signals in the calling thread instead, and they are delivered as it ends.
* A KeyboardInterrupt raised while Python runs a finaliser (``__del__``, a weakref callback, the import
  system's module locks) is dropped; Python would print it as "Exception ignored in ..." with a
  traceback, and :func:`handled` keeps that off the terminal (the signal is recorded). The recorded
  signal is looked at again (:func:`check`) at every stage, before the commit, and before the command
  reports success, so a build never finishes with exit 0 after an interruption.
* A KeyboardInterrupt raised inside a native extension's call can come out as another exception: pybind11
  (matplotlib's transforms) turns a failed argument conversion into "TypeError: incompatible function
  arguments". Any exception that ends a command after a signal was received (:func:`received`) is that
  signal, and is reported as an interruption.

This is process-wide state by nature (a signal is delivered to a process); it lives here and nowhere else.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class _State:
    pending: int | None = None  # the signal received and not yet acted on (or swallowed)
    holding: int = 0  # depth of deferred() sections
    committed: Path | None = None  # the build folder the last commit made
    reporting: bool = False  # the command is saying it was interrupted; later signals are only recorded


_state = _State()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _state.pending = signum
    if _state.holding == 0 and not _state.reporting:
        raise KeyboardInterrupt


@contextmanager
def handled() -> Iterator[None]:
    """reportgen's handler for SIGINT and SIGTERM for the block (the main thread only: elsewhere Python
    cannot install one), the previous handlers after it. What the block received and committed is
    forgotten after it, so that a later build in the same process starts afresh."""
    global _state
    _state = _State()
    previous: dict[int, object] = {}
    unraisable = sys.unraisablehook

    def drop_our_interrupt(entry: Any) -> None:
        if isinstance(entry.exc_value, KeyboardInterrupt) and _state.pending is not None:
            return  # the signal is recorded: check() acts on it
        unraisable(entry)

    try:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                previous[signum] = signal.signal(signum, _on_signal)
            sys.unraisablehook = drop_our_interrupt
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if previous:
            sys.unraisablehook = unraisable
        _state = _State()


def check() -> None:
    """Raise KeyboardInterrupt if a signal came and its KeyboardInterrupt was swallowed."""
    if _state.pending is not None and _state.holding == 0:
        raise KeyboardInterrupt


def received() -> bool:
    """Whether a signal came since :func:`handled` began (acted on or not)."""
    return _state.pending is not None


@contextmanager
def deferred() -> Iterator[None]:
    """A critical section: SIGINT and SIGTERM wait until it ends, then interrupt as usual.

    Not entered when a signal is already pending. An exception from the block propagates as it is.
    """
    check()
    ours = all(signal.getsignal(signum) is _on_signal for signum in SIGNALS)
    mask = None if ours or not hasattr(signal, "pthread_sigmask") else signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    _state.holding += 1
    try:
        yield
    finally:
        _state.holding -= 1
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a blocked signal is delivered here
    check()


def committed(folder: Path) -> None:
    """Record the build folder a commit has just made (called inside the commit's section)."""
    _state.committed = folder


def committed_folder() -> Path | None:
    """The build folder committed since :func:`handled` began, if any."""
    return _state.committed


def reporting() -> None:
    """The command is reporting its interruption: a further signal is recorded, and interrupts nothing."""
    _state.reporting = True
