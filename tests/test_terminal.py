"""reportgen.terminal: output never fails once the work is done, and workbook text cannot drive a terminal."""

from __future__ import annotations

import io
import sys

import pytest

from reportgen.terminal import prepare_streams, say, shown, shown_lines


class ClosedPipe(io.TextIOBase):
    """A stdout whose reader has gone (`reportgen ... | head`)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def ascii_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict", newline="\n")


def test_prepared_streams_escape_what_their_encoding_cannot_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = ascii_stream(), ascii_stream()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    prepare_streams()
    say("/tmp/sortie-é")
    say("modèle.xlsx", sys.stderr)
    assert out.buffer.getvalue() == b"/tmp/sortie-\\xe9\n"
    assert err.buffer.getvalue() == b"mod\\xe8le.xlsx\n"


def test_a_closed_pipe_is_silenced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    say("output/2024-05-17-cohort")  # no BrokenPipeError
    say("and again")


def test_shown_turns_every_control_into_a_visible_escape() -> None:
    assert shown("\x1b]0;pwned\x07\x1b[2Jall checks passed") == "\\x1b]0;pwned\\x07\\x1b[2Jall checks passed"
    assert shown("bad\u202eexe.fdp") == "bad\\u202eexe.fdp"
    assert shown(42) == "42"
    assert shown_lines("two\nlines \x1b[2J") == "two\nlines \\x1b[2J"
