"""Everything reportgen writes to a terminal goes through here, so output can never undo finished work.

* :func:`prepare_streams` (once, at the CLI's entry): stdout and stderr write what their encoding
  cannot hold as ``\\xe9``-style escapes instead of raising UnicodeEncodeError, so a build folder
  named ``sortie-é`` is reported under ``PYTHONIOENCODING=ascii`` too, after the build is committed.
* :func:`say`: one message to a stream; a stream whose reader has gone (``reportgen ... | head``,
  a closed pipe) is silenced instead of raising BrokenPipeError, and the exit code stays that of the
  work done.
* :func:`shown`: a workbook-derived string (sheet name, header, value, patient id, file name) made
  harmless for a terminal: control characters and bidi controls become visible escapes (``\\x1b``),
  so a cell cannot set the window title, clear the screen or fake a message.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from reportgen.untrusted import visible


def prepare_streams() -> None:
    """Make stdout and stderr escape unencodable characters rather than fail on them."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:  # a replaced stream (e.g. io.StringIO) encodes nothing
            continue
        try:
            reconfigure(errors="backslashreplace")
        except (OSError, ValueError):  # closed or detached: say() copes
            pass


def say(message: str, stream: TextIO | None = None) -> None:
    """Print ``message`` on ``stream`` (stdout by default); a closed stream is silenced, never an error."""
    stream = sys.stdout if stream is None else stream
    try:
        print(message, file=stream, flush=True)
    except BrokenPipeError:
        _silence(stream)
    except (OSError, ValueError):  # the stream was closed under us: nothing left to tell
        pass


def shown(text: object) -> str:
    """``text`` as a terminal may print it: every control and bidi control as a visible escape."""
    return visible(str(text))


def shown_lines(text: object) -> str:
    """As :func:`shown`, but line breaks stay line breaks: for reportgen's own messages of several lines."""
    return "\n".join(shown(line) for line in str(text).split("\n"))


def _silence(stream: TextIO) -> None:
    # Python's advice for SIGPIPE: point the descriptor at devnull so the flush at exit cannot fail again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
