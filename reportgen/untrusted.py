"""Workbook text is untrusted: the characters that must not reach an output as they are.

Three kinds of character in a cell can do harm once printed:

* *Control characters* (C0 ``\\x00``-``\\x1f``, DEL, C1 ``\\x80``-``\\x9f``): on a terminal ``ESC [ 2 J``
  clears the screen and ``ESC ] 0 ; ... BEL`` sets the window title; in XML (the PDF's XMP metadata)
  most of them are not allowed at all, so the packet is no longer well-formed and the file no longer
  PDF/A. Validation refuses them in every text cell (:func:`first_refused_control`), except tab and line
  breaks, which free text may hold.
* *Bidirectional overrides and isolates* (U+202A-U+202E, U+2066-U+2069): they reorder the characters
  around them, so ``report\\u202efdp.exe`` reads "reportexe.pdf". They stay in the data (right-to-left
  text may use them) but never reach an output active: :func:`visible` writes them as ``\\u202e``.
* The XML non-characters U+FFFE and U+FFFF.

:func:`visible` is the one function that shows all of these as escapes; the terminal (every
workbook-derived string, ``reportgen.terminal``), the HTML report (Jinja's ``finalize``) and the PDF
metadata use it.
"""

from __future__ import annotations

import re

# Tab and line breaks: ordinary in free text (Alt+Enter in Excel), harmless in HTML and XML.
LINE_BREAKS = "\t\n\r"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = "".join(chr(code) for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
_XML_NONCHARACTERS = "\ufffe\uffff"


def _any_of(chars: str, but: str = "") -> re.Pattern[str]:
    return re.compile("[" + re.escape("".join(char for char in chars if char not in but)) + "]")


_REFUSED = _any_of(_CONTROLS, but=LINE_BREAKS)
_ESCAPED = {keep: _any_of(_CONTROLS + BIDI_CONTROLS + _XML_NONCHARACTERS, but=keep) for keep in ("", LINE_BREAKS)}
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}  # as Python's repr() writes them, like the values shown


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, *, keep: str = "") -> str:
    """``text`` with every control, bidi control and XML non-character written as ``\\x1b`` / ``\\u202e``.

    ``keep`` is ``""`` (a terminal: even a line break in a cell would break the table) or
    :data:`LINE_BREAKS` (the report and its metadata, where tab and line breaks are plain white space).
    """
    if keep not in _ESCAPED:
        raise ValueError(f"keep must be '' or LINE_BREAKS, not {keep!r}")
    return _ESCAPED[keep].sub(_escape, text)


def first_refused_control(text: str) -> int:
    """Where the first control character validation refuses sits in ``text``; -1 if there is none."""
    found = _REFUSED.search(text)
    return -1 if found is None else found.start()
