"""reportgen.untrusted: which workbook characters are refused, and how every output shows the dangerous ones."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from reportgen.untrusted import BIDI_CONTROLS, LINE_BREAKS, first_refused_control, visible


def test_controls_and_bidi_controls_are_shown_as_escapes() -> None:
    assert visible("\x1b]0;pwned\x07\x1b[2Jall checks passed") == "\\x1b]0;pwned\\x07\\x1b[2Jall checks passed"
    assert visible("report\u202efdp.exe") == "report\\u202efdp.exe"
    assert visible("a\x00b\x7fc\x9bd\ufffe") == "a\\x00b\\x7fc\\x9bd\\ufffe"
    assert visible("tab\tline\nreturn\r") == "tab\\tline\\nreturn\\r"  # a terminal table keeps one line, as repr() writes them
    assert visible("tab\tline\nreturn\r\x1b", keep=LINE_BREAKS) == "tab\tline\nreturn\r\\x1b"  # the report keeps white space


def test_every_bidi_override_and_isolate_is_neutralised() -> None:
    assert [ord(char) for char in BIDI_CONTROLS] == [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    for char in BIDI_CONTROLS:
        assert char not in visible(f"x{char}y", keep=LINE_BREAKS)


def test_ordinary_text_of_any_script_is_unchanged() -> None:
    text = "Ünïcødé-é 患者-三 מטופל-7 مريض ١٢ µg/mL ± – ‘quotes’ \u00a0"
    assert visible(text) == text and visible(text, keep=LINE_BREAKS) == text and first_refused_control(text) == -1


def test_what_the_report_shows_is_well_formed_xml() -> None:
    hostile = "".join(chr(code) for code in range(0x00, 0xA0)) + BIDI_CONTROLS + "\ufffe\uffff"
    element = ElementTree.Element("title")
    element.text = visible(hostile, keep=LINE_BREAKS)
    parsed = ElementTree.fromstring(ElementTree.tostring(element)).text  # raises if not well-formed
    assert parsed == element.text.replace("\r", "\n")  # XML reads a carriage return as a line feed


def test_validation_refuses_controls_but_not_tab_line_breaks_or_bidi() -> None:
    assert first_refused_control("lack of\tefficacy\r\nsee notes \u202e") == -1
    assert first_refused_control("moved\x00away") == 5
    assert first_refused_control("abc\x7f") == 3 and first_refused_control("\x9b2J") == 0


def test_keep_is_one_of_two_choices() -> None:
    with pytest.raises(ValueError):
        visible("x", keep="\t")
