"""Test helper: an output stream whose reader has gone."""

from __future__ import annotations

import io


class ClosedPipe(io.TextIOBase):
    """stdout after the reader of the pipe has exited: every write is a BrokenPipeError."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")
