"""Immutable build folders with a manifest, and the hash check that ``reportgen verify`` starts with.

A build folder is all-or-nothing. Everything is written into ``<out>/.tmp-<build id>-*`` (a name that
never looks like a finished build), flushed to disk, and renamed into place in one step; then the
``latest`` symlink is swapped atomically. Any error, Ctrl-C or SIGTERM before that point removes the
temporary folder and leaves ``latest`` and every earlier build exactly as they were; during the rename and
the swap (the commit) Ctrl-C and SIGTERM wait, and interrupt once the build stands (reportgen/interrupts.py).

Layout of a finished build ``<out>/<YYYYMMDDTHHMMSSZ>-<first 8 hex of the workbook's SHA-256>[-N]/``:

    <workbook>.xlsx   the input workbook, byte for byte
    <published>.yaml  the published-numbers file, when one was checked
    templates/        a copy of the --templates folder, when one was given
    results.json, report.html, report.pdf, abstract.txt, figures/*.svg
    figures/figure<N>.pdf, .tiff, .png   the journal figure files (--formats figures)
    manifest.json     provenance and the SHA-256 of every file above
    manifest.sha256   the SHA-256 of manifest.json, in ``sha256sum`` format

The manifest cannot list its own hash, so ``manifest.sha256`` does (``sha256sum -c manifest.sha256``
works too). A one-byte change in manifest.json is therefore caught like one in any other file.

A build folder is never written into again: ``--out`` inside one (``A/<build>``, ``A/latest``,
``A/<build>/figures``) is refused before any work is done.

``reportgen.verify`` checks a build years later: first :func:`check_hashes` (here, as it needs nothing
but the folder), then a rebuild from the archived inputs. Everything a rebuild needs is inside the build
folder, so verify never reads a file outside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable

from reportgen import interrupts, leftovers
from reportgen.drugs import design_record
from reportgen.errors import BuildError, UsageError

if TYPE_CHECKING:
    from reportgen.model import BuildInfo, Problem, StudyOptions

MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
MANIFEST_FORMAT = "reportgen-build-manifest/1"
LATEST = "latest"
TEMP_PREFIX = ".tmp-"
# Where a build keeps its copy of the --templates folder, and the manifest's "templates.folder" for it.
TEMPLATES = "templates"
LOGGER = logging.getLogger(__name__)


# --- writing ------------------------------------------------------------------------------------


def prepare_out_root(out: Path) -> Path:
    """Check ``--out`` before any work is done; return it as an absolute path. Writes nothing.

    A missing ``out`` is fine when its parent folder exists and is writable: write_build creates it, so
    a build that fails earlier (an invalid workbook) leaves no trace. Raises UsageError (exit 2) with one
    sentence when ``out`` is a file, its parent is missing, it cannot be written to, or it lies inside
    a build folder (which would then no longer match its manifest).
    """
    inside = build_folder_holding(out)
    if inside is not None:
        raise UsageError(
            f"--out {out} is inside the build folder {inside}, and builds are never changed once written; "
            f"give the folder that holds the build folders, such as {inside.parent}"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder; give a folder to receive the build folders")
    if not out.exists() and not out.parent.is_dir():
        raise UsageError(f"--out {out} does not exist and neither does its parent folder {out.parent}; create it first")
    writable_folder = out if out.exists() else out.parent
    if not os.access(writable_folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out} is not writable; choose a folder you can write to")
    return out.resolve()


def remove_leftovers(out_root: Path) -> list[str]:
    """Remove the ``.tmp-`` folders and links under ``out_root`` of builds killed outright; return their names."""
    return leftovers.remove_stale(out_root, TEMP_PREFIX)


def build_folder_holding(path: Path) -> Path | None:
    """The build folder that ``path`` is, or lies inside of (after symlinks such as ``latest``); else None."""
    resolved = path.resolve()
    for folder in (resolved, *resolved.parents):
        if (folder / MANIFEST).is_file() and (folder / MANIFEST_HASH).is_file():
            return folder
    return None


def build_id(info: BuildInfo) -> str:
    """``YYYYMMDDTHHMMSSZ-<first 8 hex of the workbook's SHA-256>``: sorts by time, names the data."""
    moment = info.build_time.astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{info.source_sha256[:8]}"


def write_build(
    *,
    out_root: Path,
    workbook: Path,
    info: BuildInfo,
    study: StudyOptions,
    warnings: tuple[Problem, ...],
    files: dict[str, bytes],
    published: Path | None = None,
    templates: Path | None = None,
    pdf_libraries: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    figure_libraries: dict[str, str] | None = None,
    docx_libraries: dict[str, str] | None = None,
) -> Path:
    """Write a finished build folder under ``out_root`` and point ``latest`` at it; return its path.

    ``files`` maps paths inside the folder (``figures/x.svg``) to their bytes. ``published`` and
    ``templates`` are the published-numbers file and the template folder the build used, copied in so
    that ``verify`` can rebuild the same way; ``pdf_libraries`` the versions of the libraries that shape
    report.pdf's bytes besides those in ``info``; ``options`` what the build was asked to write (--formats,
    --draft), which ``verify`` rebuilds with; ``figure_libraries`` the versions besides those in ``info`` that
    shape the journal figure files, ``docx_libraries`` those that shape report.docx.
    """
    name = build_id(info)
    _ensure_folder(out_root)
    staging = _make_staging_folder(out_root, name)
    # rename(2) keeps the inode, so the folder can be found again if an interrupt lands mid-move.
    identity = _identity(staging)
    final: Path | None = None
    try:
        contents = dict(files)
        _add_input(contents, workbook, expected_sha256=info.source_sha256, what="workbook")
        if published is not None:
            _add_input(contents, published, expected_sha256=None, what="published-numbers file")
        templates_record = None
        if templates is not None:
            templates_record = _add_templates(contents, templates)
        for relative, content in contents.items():
            _write_file(staging / _safe_relative(relative), content)
        manifest = _manifest_bytes(
            info=info,
            study=study,
            warnings=warnings,
            hashes={relative: sha256_hex(content) for relative, content in contents.items()},
            workbook_name=workbook.name,
            published_name=published.name if published is not None else None,
            templates=templates_record,
            pdf_libraries=pdf_libraries or {},
            options=options,
            figure_libraries=figure_libraries or {},
            docx_libraries=docx_libraries or {},
        )
        _write_file(staging / MANIFEST, manifest)
        _write_file(staging / MANIFEST_HASH, f"{sha256_hex(manifest)}  {MANIFEST}\n".encode())
        _sync_tree(staging)
        # Ctrl-C and SIGTERM wait while the folder is renamed into place and `latest` swapped to it, then
        # interrupt; the command line then names the committed folder (reportgen/interrupts.py).
        with interrupts.deferred():
            final = _commit(staging, out_root, name, identity)
            interrupts.committed(final)
    except BaseException as error:
        if final is not None:
            raise  # committed: the build stands
        shutil.rmtree(staging, ignore_errors=True)  # gone already if _commit rolled back
        if isinstance(error, OSError):
            raise BuildError(_disk_error_sentence(error, out_root)) from error
        raise
    return final


def _commit(staging: Path, out_root: Path, name: str, identity: tuple[int, int]) -> Path:
    """Rename the finished staging folder into place and point ``latest`` at it; on failure, undo the rename."""
    try:
        final = _move_into_place(staging, out_root, name)
        _point_latest_at(out_root, final)
        return final
    except BaseException as error:
        # The commit point is `latest` pointing at the new folder. Before it, roll everything back, including
        # a folder already renamed into place; renaming it back first means no half-deleted build is visible.
        moved = None if staging.exists() else _find_by_identity(out_root, name, identity)
        if moved is not None:
            if _latest_points_at(out_root, moved):
                raise
            os.rename(moved, staging)
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError):
            raise BuildError(_disk_error_sentence(error, out_root)) from error
        raise


def _identity(path: Path) -> tuple[int, int]:
    status = os.stat(path, follow_symlinks=False)
    return status.st_dev, status.st_ino


def _find_by_identity(out_root: Path, name: str, identity: tuple[int, int]) -> Path | None:
    for entry in os.scandir(out_root):
        if entry.name.startswith(name) and entry.is_dir(follow_symlinks=False):
            status = entry.stat(follow_symlinks=False)
            if (status.st_dev, status.st_ino) == identity:
                return Path(entry.path)
    return None


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _ensure_folder(out_root: Path) -> None:
    try:
        out_root.mkdir(exist_ok=True)  # a concurrent build may have just made it
    except OSError as error:
        raise BuildError(_disk_error_sentence(error, out_root)) from error


def _make_staging_folder(out_root: Path, name: str) -> Path:
    """A new, empty ``.tmp-`` folder of this process and thread; mkdir fails rather than reuse one. Its
    name carries the owner (reportgen/leftovers.py), so the next build can remove it if this process is killed.

    Made with os.mkdir rather than tempfile.mkdtemp so the finished folder gets the user's usual
    permissions (umask), not mkdtemp's owner-only 0700.
    """
    stem = f"{TEMP_PREFIX}{name}-{leftovers.owner()}-{threading.get_ident()}"
    for attempt in itertools.count(1):
        candidate = out_root / f"{stem}-{attempt}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
        except OSError as error:
            raise BuildError(_disk_error_sentence(error, out_root)) from error
    raise AssertionError("unreachable")  # pragma: no cover


def _add_input(contents: dict[str, bytes], path: Path, *, expected_sha256: str | None, what: str) -> None:
    if path.name in contents or path.name in (MANIFEST, MANIFEST_HASH):
        raise BuildError(f"the {what} is named {path.name}, like a file reportgen writes itself; rename it")
    try:
        content = path.read_bytes()
    except OSError as error:
        raise BuildError(f"could not read the {what} {path} to archive it: {error.strerror or error}") from error
    if expected_sha256 is not None and sha256_hex(content) != expected_sha256:
        raise BuildError(f"the {what} {path} changed while the report was being built; build again")
    contents[path.name] = content


def _add_templates(contents: dict[str, bytes], templates: Path) -> dict[str, str]:
    """Copy every file of the --templates folder to ``templates/``; return the manifest's record of it."""
    folder = templates.resolve()
    digest = hashlib.sha256()
    try:
        found = sorted(path for path in folder.rglob("*") if path.is_file())
        for path in found:
            relative = path.relative_to(folder).as_posix()
            content = path.read_bytes()
            name = f"{TEMPLATES}/{relative}"
            if name in contents:
                raise BuildError(f"the report itself writes {name}; rename that file in the template folder")
            contents[name] = content
            # The same digest as before templates were copied in: file name, NUL, the file's SHA-256.
            digest.update(relative.encode() + b"\0" + sha256_hex(content).encode())
    except OSError as error:
        raise BuildError(f"could not read the template folder {templates} to archive it: {error.strerror or error}") from error
    return {"folder": TEMPLATES, "sha256": digest.hexdigest()}


def _safe_relative(name: str) -> Path:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BuildError(f"refusing to write {name!r}: build files must stay inside the build folder")
    return Path(*relative.parts)


def _write_file(path: Path, content: bytes) -> None:
    """Write a new file and flush it to disk; tests patch this to simulate a full disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())


def _sync_tree(folder: Path) -> None:
    # File contents are synced as written; directory entries need their own fsync to survive a crash.
    for directory in sorted({folder, *(path.parent for path in folder.rglob("*"))}, reverse=True):
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _move_into_place(staging: Path, out_root: Path, name: str) -> Path:
    """Rename the staging folder to ``name``, or ``name-2``, ``name-3``... if that is taken.

    rename(2) fails on an existing non-empty folder, so a finished build (never empty) can never be
    replaced, even by a concurrent build that picked the same name a moment earlier. The existence
    check only skips names known to be taken; it would not protect an empty folder made by hand, which
    holds nothing to lose.
    """
    for attempt in range(1, 10_000):
        target = out_root / (name if attempt == 1 else f"{name}-{attempt}")
        if os.path.lexists(target):
            continue
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                continue
            raise
        _fsync_directory(out_root)
        return target
    raise BuildError(f"{out_root} already holds 9,999 builds named {name}; choose another --out")


def _point_latest_at(out_root: Path, build_folder: Path) -> None:
    """Swap ``latest`` to the new build in one step (a new symlink renamed over the old one)."""
    latest = out_root / LATEST
    if latest.exists() and not latest.is_symlink():
        LOGGER.warning("%s is not a symlink; left it alone", latest)
        return
    # Unique per process and thread, so concurrent builds never share the temporary link.
    temporary = out_root / f"{TEMP_PREFIX}{LATEST}-{leftovers.owner()}-{threading.get_ident()}"
    temporary.unlink(missing_ok=True)
    # A relative target keeps the link valid when the whole --out folder is moved or copied.
    os.symlink(build_folder.name, temporary)
    try:
        os.replace(temporary, latest)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        # The build is committed once the link is swapped; a failed flush must not undo it.
        _fsync_directory(out_root)


def _latest_points_at(out_root: Path, build_folder: Path) -> bool:
    latest = out_root / LATEST
    return latest.is_symlink() and os.readlink(latest) == build_folder.name


def _disk_error_sentence(error: OSError, out_root: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"the disk holding {out_root} is full; nothing was written — free some space and build again"
    if error.errno == errno.EDQUOT:
        return f"your disk quota on {out_root} is used up; nothing was written"
    reason = error.strerror or str(error)
    return f"could not write the build into {out_root} ({reason}); nothing was written"


def _resolved_grouping(study: StudyOptions) -> dict[str, Any] | None:
    """The grouping the study options resolve to (reportgen.grouping.plan): its kind, number of groups, labels and
    the cut points the study sheet gave; None for settings validation would have refused."""
    from reportgen import grouping

    try:
        plan = grouping.plan(study)
    except grouping.GroupingError:
        return None
    return {
        "grouping": plan.grouping,
        "groups": plan.groups,
        "labels": list(plan.labels),
        "cut_points": None if plan.cut_points is None else list(plan.cut_points),
        "cut_points_key": plan.cut_points_key,
    }


def _manifest_bytes(
    *,
    info: BuildInfo,
    study: StudyOptions,
    warnings: tuple[Problem, ...],
    hashes: dict[str, str],
    workbook_name: str,
    published_name: str | None,
    templates: dict[str, str] | None,
    pdf_libraries: dict[str, str],
    options: dict[str, Any] | None = None,
    figure_libraries: dict[str, str] | None = None,
    docx_libraries: dict[str, str] | None = None,
) -> bytes:
    versions = dict(info.library_versions)
    manifest = {
        "format": MANIFEST_FORMAT,
        "build_time": info.build_time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reportgen_version": info.version,
        "python_version": versions.pop("python", sys.version.split()[0]),
        "library_versions": versions,
        "pdf_libraries": dict(sorted(pdf_libraries.items())),
        "command_line": list(info.command_line),
        "workbook": {"file": workbook_name, "sha256": info.source_sha256, "contract_version": info.source_contract_version},
        "published": published_name,
        "templates": templates,
        "study": dataclasses.asdict(study),
        "design": design_record(study),
        "grouping": _resolved_grouping(study),
        "warnings": [dataclasses.asdict(problem) for problem in warnings],
        "files": dict(sorted(hashes.items())),
    }
    # Added by the build options (--formats, --draft), the journal figure files and the Word file; a manifest
    # without them is a build of the HTML (and PDF), no draft.
    if options is not None:
        manifest["options"] = options
    if figure_libraries:
        manifest["figure_libraries"] = dict(sorted(figure_libraries.items()))
    if docx_libraries:
        manifest["docx_libraries"] = dict(sorted(docx_libraries.items()))
    return (json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


# --- hash checks (verify's first step; reportgen.verify does the rest) ------------------------


@dataclass(frozen=True)
class Finding:
    """One way an archived file differs from its manifest or its rebuild."""

    file: str
    how: str

    def sentence(self) -> str:
        return f"{self.file}: {self.how}"


def check_hashes(folder: Path) -> tuple[dict[str, Any] | None, list[Finding]]:
    """Compare every file against the manifest; return the manifest (None if unusable) and findings."""
    findings: list[Finding] = []
    manifest_bytes = (folder / MANIFEST).read_bytes()
    sidecar = folder / MANIFEST_HASH
    if not sidecar.is_file():
        findings.append(Finding(MANIFEST_HASH, "missing"))
    else:
        recorded = sidecar.read_text(encoding="utf-8", errors="replace").split()
        actual = sha256_hex(manifest_bytes)
        if len(recorded) != 2 or recorded[1] != MANIFEST or not re.fullmatch(r"[0-9a-f]{64}", recorded[0]):
            findings.append(Finding(MANIFEST_HASH, f"malformed (expected '<sha256>  {MANIFEST}')"))
        elif recorded[0] != actual:
            # Either file may be the one that changed; the sidecar's hash is what the build wrote.
            findings.append(Finding(MANIFEST, f"hash mismatch ({MANIFEST_HASH} records {recorded[0]}, the file hashes to {actual})"))
    try:
        manifest = json.loads(manifest_bytes)
        recorded_files: dict[str, str] = manifest["files"]
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(recorded_files, dict):
            raise ValueError("unknown manifest format")
    except (ValueError, KeyError, TypeError) as error:
        findings.append(Finding(MANIFEST, f"unreadable ({error}); no file could be checked"))
        return None, findings

    present = {path.relative_to(folder).as_posix(): path for path in _files_in(folder)}
    for name, expected in recorded_files.items():
        path = present.get(name)
        if path is None:
            findings.append(Finding(name, "missing"))
        elif path.is_symlink():
            findings.append(Finding(name, "is a symlink, not the archived file"))
        else:
            actual = sha256_hex(path.read_bytes())
            if actual != expected:
                findings.append(Finding(name, f"hash mismatch (manifest {expected}, file {actual})"))
    for name in sorted(set(present) - set(recorded_files) - {MANIFEST, MANIFEST_HASH}):
        findings.append(Finding(name, "extra (present but not in the manifest)"))
    return manifest, findings


def _files_in(folder: Path) -> Iterable[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file() or path.is_symlink())
