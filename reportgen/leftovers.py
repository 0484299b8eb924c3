"""Temporary files of builds that were killed outright, and how the next build recognises and removes them.

A build removes its temporaries on every path out, Ctrl-C and SIGTERM included; only a process killed
outright (SIGKILL, the out-of-memory killer, a power cut) leaves them: ``.tmp-*`` folders and links under
``--out`` (reportgen/archive.py) and ``reportgen-pdf-*`` folders in the temporary folder
(reportgen/pdf_worker.py). Every such name carries its owner, ``<process id>@<host>``, where host is
the first 8 hex digits of the SHA-256 of the host name (``--out`` may be shared between machines).

At its start, a build removes the temporaries whose owner is gone: made on this host, by a process id
that no longer exists, and owned by the same user. A live build's temporaries are never touched. A
process id reused since its owner died only keeps the leftover until a later build.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import shutil
import socket
import sys
from pathlib import Path

LOGGER = logging.getLogger(__name__)
_OWNER = re.compile(r"(?:^|-)(\d{1,10})@([0-9a-f]{8})-")


@functools.lru_cache(maxsize=1)
def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def owner() -> str:
    """``<process id>@<host>``, to be put in a temporary name between dashes (``<prefix><owner>-...``)."""
    return f"{os.getpid()}@{_host()}"


def process_exists(pid: int) -> bool:
    """True unless no process has this id (a process of another user exists too)."""
    if pid <= 0 or sys.platform == "win32":
        return True  # not a process id reportgen writes; on Windows os.kill would end the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # PermissionError: it exists, and is someone else's
    return True


def remove_stale(folder: Path, prefix: str) -> list[str]:
    """Remove the entries of ``folder`` named ``prefix...<owner>-...`` whose owner is gone; return their names.

    Never raises: a folder that cannot be listed or an entry that cannot be removed is left as it is.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _OWNER.search(entry.name[len(prefix):])
        if match is None or match.group(2) != _host() or process_exists(int(match.group(1))):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError as error:
            LOGGER.debug("could not remove the leftover %s: %s", entry.path, error)
            continue
        LOGGER.debug("removed %s, left by process %s, which is gone", entry.path, match.group(1))
        removed.append(entry.name)
    return removed
