"""Find the top-level ``templates/`` and ``schemas/`` folders in a checkout or an installed wheel."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _data_dir(name: str) -> Path:
    # In a wheel the folders are force-included as reportgen/_data/<name>;
    # in a source checkout they sit beside the package.
    packaged = Path(str(files("reportgen"))) / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"reportgen is installed without its {name}/ folder")


def templates_dir() -> Path:
    return _data_dir("templates")


def schemas_dir() -> Path:
    return _data_dir("schemas")
