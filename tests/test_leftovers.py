"""reportgen.leftovers: temporaries whose owning process is gone are removed; nothing else is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reportgen import leftovers


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: no process has this id any more
    return process.pid


def test_process_exists() -> None:
    assert leftovers.process_exists(os.getpid())
    assert leftovers.process_exists(1)  # init: another user's process exists too
    assert leftovers.process_exists(0)  # 0 would mean "my process group" to kill(2): never a leftover's owner
    assert not leftovers.process_exists(_dead_pid())


def test_only_entries_of_gone_owners_on_this_host_are_removed(tmp_path: Path) -> None:
    dead = _dead_pid()
    host = leftovers.owner().split("@")[1]
    kept_target = tmp_path / "20240517T093000Z-abcdef12"  # a finished build a stale `latest` link points at
    kept_target.mkdir()
    (kept_target / "report.html").write_text("kept")
    gone = {f".tmp-20240517T093000Z-abcdef12-{dead}@{host}-1-1", f".tmp-latest-{dead}@{host}-1"}
    kept = {
        f".tmp-20240517T093000Z-abcdef12-{leftovers.owner()}-1-1",  # this process: alive
        f".tmp-20240517T093000Z-abcdef12-{dead}@00000000-1-1",  # another machine's
        f".tmp-20240517T093000Z-abcdef12-{dead}-1-1",  # no owner in the name
        f"x.tmp-latest-{dead}@{host}-1",  # not the prefix
        kept_target.name,
    }
    (tmp_path / f".tmp-20240517T093000Z-abcdef12-{dead}@{host}-1-1").mkdir()
    (tmp_path / f".tmp-20240517T093000Z-abcdef12-{dead}@{host}-1-1" / "report.pdf").write_bytes(b"half")
    os.symlink(kept_target.name, tmp_path / f".tmp-latest-{dead}@{host}-1")
    for name in kept - {kept_target.name}:
        (tmp_path / name).mkdir()
    assert sorted(leftovers.remove_stale(tmp_path, ".tmp-")) == sorted(gone)
    assert set(os.listdir(tmp_path)) == kept
    assert (kept_target / "report.html").read_text() == "kept"  # the link went, not what it pointed at


def test_a_missing_folder_is_not_an_error(tmp_path: Path) -> None:
    assert leftovers.remove_stale(tmp_path / "missing", ".tmp-") == []
