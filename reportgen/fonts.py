"""The shipped fonts as CSS ``@font-face`` rules, for the report and for the PDF worker's warm-up.

A module of its own so that the PDF worker can load the same faces without importing the report
renderer (``reportgen.exporters.html``) and, with it, the narrative.
"""

from __future__ import annotations

import base64
import functools

from markupsafe import Markup

from reportgen.resources import templates_dir

FONT_FACES = (  # file in templates/fonts, CSS weight, CSS style
    ("ReportgenSerif-Regular.otf", 400, "normal"),
    ("ReportgenSerif-Bold.otf", 700, "normal"),
    ("ReportgenSerif-Italic.otf", 400, "italic"),
    ("ReportgenSerif-BoldItalic.otf", 700, "italic"),
)


@functools.lru_cache(maxsize=1)
def font_faces() -> Markup:
    """@font-face rules with the shipped fonts as data: URIs, so neither browser nor PDF fetches anything."""
    rules = []
    folder = templates_dir() / "fonts"
    for file_name, weight, style in FONT_FACES:
        data = base64.b64encode((folder / file_name).read_bytes()).decode("ascii")
        rules.append(
            "@font-face { font-family: 'Reportgen Serif'; "
            f"font-weight: {weight}; font-style: {style}; "
            f"src: url(data:font/otf;base64,{data}) format('opentype'); }}"
        )
    return Markup("\n".join(rules) + "\n")
