"""The layout numbers ``exporters.html.fit_columns`` computes column widths from, read from the active report.css.

The stylesheet is their one home: the page width less its margins, the type sizes of a table's cells, of
their smaller lines and footnote marks, and the cell paddings, in the normal type and in the ``.compact``
type. The active stylesheet is the user's (``--templates``) when it has a report.css, else the built-in
one, so an override that changes the page or the type also changes the computed widths. When a value is
missing or not in an absolute unit, ``table_layout`` returns None and the tables keep the automatic layout
(correct for any stylesheet, only slower to render).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tinycss2

PT_PER_MM = 72 / 25.4
_MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "pc": 25.4 / 6, "px": 25.4 / 96, "q": 0.25}
# Named page sizes of CSS Paged Media, width x height in mm (portrait).
_PAGE_SIZES_MM = {
    "a5": (148.0, 210.0),
    "a4": (210.0, 297.0),
    "a3": (297.0, 420.0),
    "b5": (176.0, 250.0),
    "b4": (250.0, 353.0),
    "letter": (215.9, 279.4),
    "legal": (215.9, 355.6),
    "ledger": (279.4, 431.8),
}


@dataclass(frozen=True)
class TableMetrics:
    """Type sizes (pt) and paddings (mm) of a table's cells in one type."""

    cell_pt: float  # `table` font-size
    line_pt: float  # `.line`: the smaller lines under a cell's text
    mark_pt: float  # `sup.mark`: footnote letters
    padding_mm: float  # `th, td`: left and right padding, each side (their mean)
    p_padding_mm: float  # `.p`: left padding of p-value cells
    indent_mm: float  # `th.stub.indent`: left padding of an indented row header
    counts_padding_mm: float  # `.counts .num`: left padding of the number cells of a count table
    classes: str = ""  # added to the table's classes when these metrics are used


@dataclass(frozen=True)
class TableLayout:
    width_mm: float  # the page's width less its left and right margins
    normal: TableMetrics
    compact: TableMetrics  # the `.compact` type, for tables too wide in the normal one
    # The width of the named page `wide` (`@page wide`, a landscape page for tables too wide even in the compact
    # type: many groups), less its margins (those of `@page` unless it sets its own); None without that page.
    wide_width_mm: float | None = None


@functools.lru_cache(maxsize=4)
def table_layout(css: str) -> TableLayout | None:
    """The layout numbers of stylesheet ``css``; None when it does not give them all in absolute units."""
    rules = _declarations(css)
    try:
        width = _content_width_mm(rules.get("@page", {}))
        normal = _metrics(rules, "")
        compact = _metrics(rules, ".compact", normal)
    except (KeyError, ValueError):
        return None
    try:
        wide = _content_width_mm({**rules["@page"], **rules["@page wide"]}) if "@page wide" in rules else None
    except (KeyError, ValueError):
        wide = None
    return TableLayout(width_mm=width, normal=normal, compact=compact, wide_width_mm=wide)


def _metrics(rules: dict[str, dict[str, list]], scope: str, base: TableMetrics | None = None) -> TableMetrics:
    """Metrics of the tables inside ``scope`` (a class on the table's block, "" for none), else ``base``'s."""

    def declared(selectors: str) -> dict[str, list]:
        return rules.get(", ".join(f"{scope} {s}".strip() for s in selectors.split(", ")), {})

    def length(declarations: dict[str, list], name: str, unit: str, fallback: float | None) -> float:
        if name not in declarations:
            return _required(fallback, name)
        return _length(declarations[name][0], unit)

    def padding_x(declarations: dict[str, list], fallback: float | None) -> float:
        sides = _box_sides(declarations["padding"]) if "padding" in declarations else None
        left = length(declarations, "padding-left", "mm", _length(sides[3], "mm") if sides else fallback)
        right = length(declarations, "padding-right", "mm", _length(sides[1], "mm") if sides else fallback)
        return left if left == right else (left + right) / 2

    counts = rules.get(f"{scope}.counts .num", {})  # the count table's class is on the same block as scope's
    return TableMetrics(
        cell_pt=length(declared("table"), "font-size", "pt", base and base.cell_pt),
        line_pt=length(declared(".line"), "font-size", "pt", base and base.line_pt),
        mark_pt=length(declared("sup.mark"), "font-size", "pt", base and base.mark_pt),
        padding_mm=padding_x(declared("th, td"), base and base.padding_mm),
        p_padding_mm=length(declared(".p"), "padding-left", "mm", base and base.p_padding_mm),
        indent_mm=length(declared("th.stub.indent"), "padding-left", "mm", base and base.indent_mm),
        counts_padding_mm=length(counts, "padding-left", "mm", base and base.counts_padding_mm),
        classes=scope.lstrip("."),
    )


def _required(value: float | None, what: str) -> float:
    if value is None:
        raise KeyError(what)
    return value


def _content_width_mm(page: dict[str, list]) -> float:
    size = page["size"]
    keywords = [token.lower_value for token in size if token.type == "ident"]
    lengths = [_length(token, "mm") for token in size if token.type == "dimension"]
    if lengths:
        width = lengths[0]
    else:
        named = [_PAGE_SIZES_MM[k] for k in keywords if k in _PAGE_SIZES_MM]
        if not named:
            raise KeyError("@page size")
        width = named[0][1] if "landscape" in keywords else named[0][0]
    sides = _box_sides(page["margin"]) if "margin" in page else None
    left = _length(page["margin-left"][0], "mm") if "margin-left" in page else _length(sides[3], "mm") if sides else None
    right = _length(page["margin-right"][0], "mm") if "margin-right" in page else _length(sides[1], "mm") if sides else None
    if left is None or right is None:
        raise KeyError("@page margin")
    return width - left - right


def _box_sides(tokens: list) -> tuple:
    """Top, right, bottom, left of a 1- to 4-value shorthand (padding, margin)."""
    values = [token for token in tokens if token.type in ("dimension", "number")]
    if not 1 <= len(values) <= 4:
        raise ValueError("not a box shorthand")
    top = values[0]
    right = values[1] if len(values) > 1 else top
    bottom = values[2] if len(values) > 2 else top
    left = values[3] if len(values) > 3 else right
    return top, right, bottom, left


def _length(token, unit: str) -> float:
    """A length token in ``unit`` ("mm" or "pt"); a value already in that unit is taken as written."""
    if token.type == "number" and token.value == 0:
        return 0.0
    if token.type != "dimension" or token.lower_unit not in _MM_PER_UNIT:
        raise ValueError(f"not an absolute length: {tinycss2.serialize([token])}")
    if token.lower_unit == unit:
        return token.value
    mm = token.value * _MM_PER_UNIT[token.lower_unit]
    return mm * PT_PER_MM if unit == "pt" else mm


def _declarations(css: str) -> dict[str, dict[str, list]]:
    """Declarations by selector (as written, whitespace normalised; "@page" for the page) for print:
    top-level rules and those inside ``@media print``, later declarations winning."""
    rules: dict[str, dict[str, list]] = {}

    def collect(nodes: list) -> None:
        for node in nodes:
            if node.type == "qualified-rule":
                selector = " ".join(tinycss2.serialize(node.prelude).split())
                _declare(rules.setdefault(selector, {}), node.content)
            elif node.type == "at-rule" and node.lower_at_keyword == "page" and not tinycss2.serialize(node.prelude).strip():
                _declare(rules.setdefault("@page", {}), node.content or [])
            elif node.type == "at-rule" and node.lower_at_keyword == "page" and tinycss2.serialize(node.prelude).strip() == "wide":
                _declare(rules.setdefault("@page wide", {}), node.content or [])
            elif node.type == "at-rule" and node.lower_at_keyword == "media" and node.content is not None:
                if "print" in tinycss2.serialize(node.prelude).lower().split():
                    collect(tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True))

    collect(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    return rules


def _declare(into: dict[str, list], content: list) -> None:
    for item in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if item.type == "declaration":
            into[item.lower_name] = [token for token in item.value if token.type not in ("whitespace", "comment")]
