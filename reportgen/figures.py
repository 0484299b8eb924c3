"""The report's figures, drawn with matplotlib (Agg, no pyplot) and serialised as deterministic SVG.

The trough-level groups (quartiles, tertiles, the study's cut points, ...) are the analysis stage's (``Results.strata_membership``), never recomputed here.

1. Follow-up DAS28-ESR, CDAI and SDAI by trough-level group: box plots with every patient as a point.
2. Trough level against follow-up DAS28-ESR, with the cut points between the groups; Spearman ρ in the caption.
3. EULAR response by group as 100 % stacked bars.
4. The flow of patients (STROBE item 13), drawn only from ``Results.flow``: included -> without a level |
   analysed -> one column per stratum (whatever their number) -> reached follow-up | carried forward (with
   the reasons of those who withdrew) | placed by a visit window (drawn only when some were). Black on white
   with a grey fill for the groups: nothing is told by colour.

Choices that the tests pin:
- Text is SVG text (``svg.fonttype = "none"``) in the report's own serif, family ``Reportgen Serif``: inline
  in the report, the HTML's ``@font-face`` rules (the fonts shipped in ``templates/fonts``) supply it, so the
  browser and WeasyPrint's PDF use the shipped font and never the machine's. Glyph paths (the earlier
  choice) cost WeasyPrint 0.5 to 1 s more to draw (2,100 SVG path nodes in the example). The stand-alone
  files in ``figures/`` carry a subset of the font themselves (``figure_files``), so they too look the same
  on any machine.
- A user's matplotlib configuration plays no part: matplotlib reads a ``matplotlibrc`` (in the current folder,
  ``$MATPLOTLIBRC``, ``$MPLCONFIGDIR`` or ``~/.config/matplotlib``) when imported, so figures are drawn and
  saved in matplotlib's own default style (``_style``), drawn with ``STYLE`` on top, whatever that file said.
- Identical input gives byte-identical SVG: seeded jitter, ``svg.hashsalt`` fixed, no date metadata,
  and element ids prefixed with the figure name so several inline SVGs never share an id in one HTML page.
- Above ``RASTERIZE_ABOVE`` patients the point clouds become one embedded PNG (200 dpi), so the SVG stays
  small and quick to draw at 1,000 to 100,000 patients while axes and text stay vector. The points take no
  part in the constrained layout (``set_in_layout(False)``): they lie inside the axes, and measuring them
  cost as much as drawing them.
- Colours: viridis steps for the ordered groups, with a different marker shape each; EULAR bars ordered
  by lightness with hatching on the middle band, so all of it reads in grey and with colour-vision deficiency.
"""

from __future__ import annotations

import html
import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pandas as pd

from reportgen import grouping
from reportgen.indices import EULAR_RESPONSES
from reportgen.model import (
    FLOW_FIGURE,
    JOURNAL_DPI,
    CategoricalComparison,
    ContinuousComparison,
    Derived,
    Figure,
    Flow,
    Results,
)
from reportgen.prose import clipped, p_or_reason
from reportgen.prose import patients as patients_phrase
from reportgen.resources import templates_dir
from reportgen.untrusted import visible

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

    from reportgen.formatting import Formatter

FONT_FAMILY = "Reportgen Serif"
FONT_FILES = ("ReportgenSerif-Regular.otf", "ReportgenSerif-Bold.otf", "ReportgenSerif-Italic.otf")
FACE_FILES = {
    (400, "normal"): "ReportgenSerif-Regular.otf",
    (700, "normal"): "ReportgenSerif-Bold.otf",
    (400, "italic"): "ReportgenSerif-Italic.otf",
    (700, "italic"): "ReportgenSerif-BoldItalic.otf",
}
# Point clouds of more points than this are one embedded PNG (at RASTER_DPI, print quality): 1,000 vector
# markers cost WeasyPrint 1.5 s to draw, rasterized 0.3 s. Small cohorts (the 34-patient example) keep
# vector points.
RASTERIZE_ABOVE = 100
RASTER_DPI = 200
# From here on the points are drawn as their density (``_density``): each point as a translucent dot of
# opacity POINT_ALPHA_CROWDED, in cells of about one dot (DENSITY_BINS_Y rows over the axis height).
CROWDED_ABOVE = 2000
POINT_ALPHA_CROWDED = 0.35
DENSITY_BINS_Y = 120
POINTS = "every patient is one point, spread sideways at random so points do not overlap"
POINTS_CROWDED = "every patient is one translucent point, spread sideways at random, so shading is darker where more patients lie"
JITTER_SEED = 20240517
ACTIVITY_MEASURES = ("das28_esr", "cdai", "sdai")
GROUP_MARKERS = ("o", "s", "^", "D", "v", "P")  # one per group, up to the six that cut points allow
# EULAR response from worst to best (indices.EULAR_RESPONSES); lighter = worse, so the order survives greyscale printing.
EULAR_COLOURS = {"none": "#f1e05a", "moderate": "#2a9d8f", "good": "#26456e"}
EULAR_HATCH = {"none": "", "moderate": "////", "good": ""}
EULAR_TEXT = {"none": "#1a1a1a", "moderate": "#ffffff", "good": "#ffffff"}
INK = "#1a1a1a"
BOX_FILL = "#eeeeee"
# Group labels wider than this share of the distance between two groups on the axis are tilted
# (``_tilt_crowded_labels``): closer than that they touch.
TILT_LABELS_ABOVE = 0.9
TILT_DEGREES = 35
TEXT_WIDTH_IN = 6.3  # A4 less 2 x 22 mm margins, less a little air
# The journal figure files (``journal_files``): the report's figures redrawn at a journal's column width, as
# vector PDF (fonts embedded: Type 3 subsets of the shipped font) and JOURNAL_DPI TIFF (LZW) and PNG.
SINGLE_COLUMN_MM = 85.0
DOUBLE_COLUMN_MM = 170.0
# A report figure wider than this share of the text width needs the double column.
DOUBLE_COLUMN_ABOVE = 0.75
MM_PER_INCH = 25.4
# The journal figure files' names in a build folder (``journal_files``), by the figure's number.
JOURNAL_FILE = re.compile(r"figures/figure[0-9]+\.(pdf|tiff|png)")
# Nothing in the files' bytes may change from build to build: no dates, no library versions.
PDF_METADATA: dict[str, str | None] = {"Creator": None, "Producer": None, "CreationDate": None}

# The flow diagram: type size, line height and box padding (inches), space between group columns; each
# group's box lists at most FLOW_REASONS_SHOWN reasons for withdrawal (the withdrawals table has them all).
FLOW_FONT_PT = 7.5
FLOW_LINE_IN = FLOW_FONT_PT * 1.3 / 72
FLOW_PAD_IN = 0.05
FLOW_GAP_IN = 0.1
FLOW_REASONS_SHOWN = 3
FLOW_REASON_CHARACTERS = 30  # a longer free-text reason is cut, with an ellipsis
FLOW_EM_PER_CHARACTER = 0.47  # average advance of the serif's lower case and spaces, to wrap lines to a box

STYLE = {
    # Group labels are the study sheet's text: '$x$' is shown as typed, never parsed as matplotlib's mathtext.
    "text.parse_math": False,
    "font.family": FONT_FAMILY,
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "svg.fonttype": "none",
    "svg.image_inline": True,
    "hatch.linewidth": 0.7,
    "path.simplify": True,
}


@dataclass(frozen=True)
class _Drawn:
    name: str
    title: str
    caption: str
    figure: MplFigure
    alt: str = ""  # what the figure shows and its main numbers, for the PDF's /Alt and screen readers


@dataclass(frozen=True)
class Drawings:
    """The matplotlib figures behind ``Figure``s, kept for ``journal_files`` (made while the PDF renders)."""

    drawn: tuple[_Drawn, ...]


def make_figures(derived: Derived, results: Results, formatter: Formatter) -> tuple[Figure, ...]:
    """The report's figures, numbered from 1, as SVG with captions written by ``formatter``."""
    return make_figures_and_drawings(derived, results, formatter)[0]


def make_figures_and_drawings(derived: Derived, results: Results, formatter: Formatter) -> tuple[tuple[Figure, ...], Drawings]:
    """``make_figures``, and the drawings ``journal_files`` redraws at a journal's column width."""
    drawn = draw_figures(derived, results, formatter)
    figures = tuple(
        Figure(
            name=item.name, number=number, title=item.title, caption=item.caption,
            svg=to_svg(item.figure, item.name), alt=item.alt,
        )
        for number, item in enumerate(drawn, start=1)
    )
    return figures, Drawings(tuple(drawn))


def draw_figures(derived: Derived, results: Results, formatter: Formatter) -> tuple[_Drawn, ...]:
    """The matplotlib figures before serialisation (tests read their tick labels)."""
    _register_fonts()
    patients = analysed_patients(derived, results)
    by_variable = {outcome.variable: outcome for outcome in results.outcomes}
    with _style(STYLE):
        drawn = [
            _activity_boxplots(patients, results, by_variable, formatter),
            _trough_scatter(patients, results, by_variable.get("das28_esr"), formatter),
            _eular_bars(results.eular_response, results, formatter),
            _flow_diagram(results.flow, formatter, grouping.singular(results)),
        ]
    return tuple(item for item in drawn if item is not None)


def analysed_patients(derived: Derived, results: Results) -> pd.DataFrame:
    """The analysed patients, with a ``quartile`` column holding their stratum's label.

    The strata are the analysis stage's own assignment (``Results.strata_membership``), so the figures
    show exactly the groups the tables count.
    """
    patients = derived.patients
    membership = np.asarray(results.strata_membership)
    if membership.shape != (len(patients),):
        raise ValueError(f"strata_membership has {membership.size} entries for {len(patients)} patients")
    analysed = membership >= 0
    labels = np.array([stratum.label for stratum in results.strata], dtype=object)
    return patients[analysed].assign(quartile=labels[membership[analysed]])


def quartile_colours(count: int) -> tuple[str, ...]:
    """Viridis steps, darkest for the lowest group; the yellow end is avoided (invisible on white)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    steps = np.linspace(0.08, 0.78, count) if count > 1 else np.array([0.4])
    return tuple(to_hex(colormaps["viridis"](float(step))) for step in steps)


def to_svg(figure: MplFigure, name: str) -> str:
    """Serialise deterministically, prefixing ids so several figures can share one HTML page."""
    buffer = io.StringIO()
    # Lay out once, then save with the layout fixed: with a layout engine set, savefig draws the whole
    # figure twice (once only to lay it out), and drawing is where 100,000 points cost.
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
        figure.set_layout_engine(None)  # None, not "none": "none" leaves a placeholder engine, and savefig
        # draws once more for any engine
    # Saved (and laid out) in matplotlib's defaults, not STYLE: the figures' bytes were fixed that way.
    with _style({"svg.hashsalt": f"reportgen-{name}", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, dpi=RASTER_DPI, bbox_inches=None)
    svg = buffer.getvalue()
    # The inline copy must not carry an XML prolog or DOCTYPE; the stand-alone file works without them too.
    svg = svg[svg.index("<svg") :]
    # The RDF block only names matplotlib's version and refers to outside URIs; captions describe the figure.
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    prefix = re.sub(r"[^A-Za-z0-9-]", "-", name)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{prefix}-\2"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return svg


def figure_files(figures: tuple[Figure, ...]) -> dict[str, bytes]:
    """``figures/<name>.svg``: each figure as a stand-alone SVG with the faces its text uses embedded.

    The inline copies rely on the report's @font-face rules; a file on its own must carry its font. Each
    face is subset to the characters all figures use (a few kB), as a deterministic OpenType ``data:`` URI.
    """
    runs = [(match.group(1), match.group(2)) for figure in figures for match in _TEXT.finditer(figure.svg)]
    characters: dict[tuple[int, str], set[str]] = {}
    for style, content in runs:
        face = (700 if re.search(r"font-weight:\s*(700|bold)", style) else 400, "italic" if "italic" in style else "normal")
        characters.setdefault(face, set()).update(html.unescape(re.sub(r"<[^>]+>", "", content)))
    rules = "".join(
        "@font-face { font-family: '%s'; font-weight: %d; font-style: %s; src: url(data:font/otf;base64,%s) format('opentype'); }"
        % (FONT_FAMILY, weight, style, _subset_font(FACE_FILES[(weight, style)], "".join(sorted(chars))))
        for (weight, style), chars in sorted(characters.items())
    )
    files = {}
    for figure in figures:
        svg = figure.svg
        if rules:
            end = svg.index(">", svg.index("<svg")) + 1
            svg = f"{svg[:end]}\n<defs><style type=\"text/css\">{rules}</style></defs>{svg[end:]}"
        files[f"figures/{figure.name}.svg"] = svg.encode("utf-8")
    return files


def _subset_font(file_name: str, text: str) -> str:
    import base64

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["kern", "liga", "lnum", "tnum"]
    # recalcTimestamp=False: saving would otherwise stamp head.modified with the clock.
    font = TTFont(str(templates_dir() / "fonts" / file_name), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_TEXT = re.compile(r'<text style="([^"]*)"[^>]*>(.*?)</text>', re.S)


# --- journal figure files ---------------------------------------------------------------------


def journal_width_mm(figure: MplFigure) -> float:
    """The column a figure needs in a journal: double when the report draws it wider than
    DOUBLE_COLUMN_ABOVE of the text width (several panels), else single."""
    return DOUBLE_COLUMN_MM if figure.get_figwidth() > TEXT_WIDTH_IN * DOUBLE_COLUMN_ABOVE else SINGLE_COLUMN_MM


def journal_files(figures: tuple[Figure, ...], drawings: Drawings) -> dict[str, bytes]:
    """``figures/figure<N>.pdf``, ``.tiff`` and ``.png`` for every figure: the report's own matplotlib figures
    (same palette, fonts and text) laid out again at a journal's column width (``journal_width_mm``), the
    height kept. Vector PDF with its fonts embedded; TIFF (LZW) and PNG at JOURNAL_DPI, RGB, with their
    resolution recorded. Deterministic bytes: no dates or versions in any file.

    Call after the SVG was written (``make_figures_and_drawings``): the figures are resized here.
    """
    by_name = {item.name: item for item in drawings.drawn}
    files: dict[str, bytes] = {}
    with _style({**STYLE, "pdf.fonttype": 3}):  # 3: embedded subsets (42 mislabels the shipped CFF fonts)
        for figure in figures:
            drawn = by_name[figure.name]
            stem = f"figures/figure{figure.number}"
            for suffix, content in _journal_renderings(drawn.figure).items():
                files[f"{stem}.{suffix}"] = content
    return files


def report_png(drawings: Drawings, name: str, dpi: int) -> tuple[bytes, float]:
    """The figure ``name`` as PNG at ``dpi``, at the size the report prints it, and that width in mm: the same
    drawing as the SVG (for a format that takes raster images, the Word file). Deterministic bytes (no
    software name). Call before ``journal_files``, which resizes the drawings."""
    drawn = next(item for item in drawings.drawn if item.name == name)
    buffer = io.BytesIO()
    with _style(STYLE):
        drawn.figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches=None)
    return buffer.getvalue(), drawn.figure.get_figwidth() * MM_PER_INCH


def _journal_renderings(figure: MplFigure) -> dict[str, bytes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_size_inches(journal_width_mm(figure) / MM_PER_INCH, figure.get_figheight())
    if any(ax.get_subplotspec() is not None for ax in figure.axes):  # not a diagram placed by hand (the flow)
        figure.set_layout_engine("constrained")
        engine = figure.get_layout_engine()
        assert engine is not None
        engine.execute(figure)  # once, at the new width; drawing and saving then keep it
        figure.set_layout_engine(None)
    vector = io.BytesIO()
    figure.savefig(vector, format="pdf", metadata=PDF_METADATA, dpi=JOURNAL_DPI, bbox_inches=None)
    # One raster drawing for both raster files.
    figure.set_dpi(JOURNAL_DPI)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    files = {"pdf": vector.getvalue()}
    for suffix, options in (("tiff", {"compression": "tiff_lzw"}), ("png", {})):
        buffer = io.BytesIO()
        image.save(buffer, format=suffix.upper() if suffix == "png" else "TIFF", dpi=(JOURNAL_DPI, JOURNAL_DPI), **options)
        files[suffix] = buffer.getvalue()
    return files


# --- the three figures --------------------------------------------------------------------


def _activity_boxplots(
    patients: pd.DataFrame,
    results: Results,
    by_variable: dict[str, ContinuousComparison],
    formatter: Formatter,
) -> _Drawn | None:
    from matplotlib.figure import Figure as MplFigure

    measures = [m for m in ACTIVITY_MEASURES if m in patients.columns and m in by_variable]
    if not measures:
        return None
    labels = [stratum.label for stratum in results.strata]
    colours = quartile_colours(len(labels))
    figure = MplFigure(figsize=(TEXT_WIDTH_IN, 2.7), layout="constrained")
    axes = figure.subplots(1, len(measures), squeeze=False)[0]
    dense = len(patients) > RASTERIZE_ABOVE
    crowded = len(patients) > CROWDED_ABOVE
    for panel, (ax, variable) in enumerate(zip(axes, measures)):
        rng = np.random.default_rng(JITTER_SEED + panel)
        groups = [patients.loc[patients["quartile"] == label, variable].dropna().to_numpy(float) for label in labels]
        positions = np.arange(1, len(labels) + 1)
        boxes = ax.boxplot(
            [g if g.size else np.array([np.nan]) for g in groups],
            positions=positions,
            widths=0.56,
            showfliers=False,
            patch_artist=True,
            medianprops={"color": INK, "linewidth": 1.1},
            whiskerprops={"color": INK, "linewidth": 0.6},
            capprops={"color": INK, "linewidth": 0.6},
            boxprops={"edgecolor": INK, "linewidth": 0.6},
        )
        for box in boxes["boxes"]:
            box.set_facecolor(BOX_FILL)
        for position, values, colour, marker in zip(positions, groups, colours, GROUP_MARKERS):
            jitter = rng.uniform(-0.17, 0.17, size=values.size)
            if crowded:
                _density(ax, position + jitter, values, colour, POINT_ALPHA_CROWDED, (position - 0.17, position + 0.17), bins_x=8)
                continue
            points = ax.scatter(
                position + jitter,
                values,
                s=3 if crowded else 14,
                marker=marker,
                facecolor=colour,
                edgecolor="none" if crowded else INK,
                linewidth=0.35,
                alpha=0.35 if crowded else 0.95,
                zorder=3,
                rasterized=dense,
            )
            points.set_in_layout(False)  # inside the axes; measuring 100,000 markers for the layout is waste
        outcome = by_variable[variable]
        ax.set_title(outcome.label, loc="left", fontweight="bold")
        # Four labels share a third of the text width: large counts are written without spaces.
        compact = max(stratum.n for stratum in results.strata) >= 1000
        ax.set_xticks(
            positions, [f"{label}\n{_n_equals(stratum.n, compact)}" for label, stratum in zip(labels, results.strata)]
        )
        ax.set_ylim(bottom=0)
        ax.set_xlim(0.4, len(labels) + 0.6)
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="y", color="#d9d9d9", linewidth=0.5)
        ax.set_axisbelow(True)
        _format_ticks(ax, formatter, axis="y")
    figure.supxlabel(_axis_label(results), fontsize=8.5)
    _tilt_crowded_labels(figure)
    month = results.cohort.follow_up_month
    tests = "; ".join(
        f"{by_variable[m].label} {p_or_reason(by_variable[m].test, formatter)}"
        if by_variable[m].test.p_value is not None
        else f"{by_variable[m].label} ({p_or_reason(by_variable[m].test, formatter)})"
        for m in measures
    )
    caption = (
        f"Values at month {month} (last observation carried forward where needed). Boxes span the interquartile "
        f"range with the median as a line; whiskers reach the most extreme values within {formatter.number(1.5, 1)} × the interquartile "
        f"range; {POINTS_CROWDED if crowded else POINTS}. "
        f"{formatter.test_name(by_variable[measures[0]].test.test)}: {tests}."
    )
    alt = (
        f"Box plots of {formatter.join([by_variable[m].label for m in measures])} at month {month}, one box per "
        f"trough-level group: {_groups_n(results)}. Medians: "
        + "; ".join(
            f"{by_variable[m].label} "
            + ", ".join(f"{s.label} {formatter.measure(g.median, m)}" for s, g in zip(results.strata, by_variable[m].groups))
            for m in measures
        )
        + "."
    )
    return _Drawn("figure1-activity", f"Disease activity at follow-up by trough-level {grouping.singular(results)}", caption, figure, alt)


def _trough_scatter(
    patients: pd.DataFrame,
    results: Results,
    outcome: ContinuousComparison | None,
    formatter: Formatter,
) -> _Drawn | None:
    from matplotlib.figure import Figure as MplFigure

    if outcome is None or "das28_esr" not in patients.columns:
        return None
    data = patients[["trough_level", "das28_esr"]].dropna()
    dense = len(data) > RASTERIZE_ABOVE
    crowded = len(data) > CROWDED_ABOVE
    figure = MplFigure(figsize=(TEXT_WIDTH_IN * 0.72, 3.0), layout="constrained")
    ax = figure.subplots()
    x_high = float(data["trough_level"].max()) if len(data) else 1.0
    x_limit = max(x_high, max(results.cutpoints)) * 1.05
    if crowded:
        _density(ax, data["trough_level"].to_numpy(float), data["das28_esr"].to_numpy(float), "#26456e", 0.3, (0.0, x_limit), bins_x=220)
    else:
        points = ax.scatter(
            data["trough_level"],
            data["das28_esr"],
            s=18,
            facecolor="#26456e",
            edgecolor="white",
            linewidth=0.5,
            alpha=0.9,
            zorder=3,
            rasterized=dense,
        )
        points.set_in_layout(False)
    ax.set_xlim(0, x_limit)
    ax.set_ylim(bottom=0)
    edges = (0.0, *results.cutpoints, ax.get_xlim()[1])
    for cut in results.cutpoints:
        ax.axvline(cut, color="#7f7f7f", linewidth=0.7, linestyle=(0, (2, 2)), zorder=1)
    for stratum, low, high in zip(results.strata, edges[:-1], edges[1:]):
        ax.text((low + high) / 2, 1.0, stratum.label, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel(f"Trough level ({results.study.level_unit})")
    ax.set_ylabel(f"{outcome.label} at follow-up")
    ax.grid(axis="y", color="#d9d9d9", linewidth=0.5)
    ax.set_axisbelow(True)
    _format_ticks(ax, formatter, axis="both")
    spearman = outcome.spearman
    correlation = (
        f"Spearman ρ = {formatter.rho(spearman.rho)}{formatter.list_separator}"
        f"{formatter.p_equation(spearman.p_value)} (n = {spearman.n})"
        if spearman is not None
        else "Spearman correlation not computed"
    )
    points = "cut point" if len(results.cutpoints) == 1 else "cut points"
    caption = (
        f"{'Every analysed patient' if crowded else 'One point per analysed patient'}"
        f"{' is one translucent point, so shading is darker where more patients lie' if crowded else ''}. {correlation}. "
        f"Dotted lines: the {points} between the {grouping.plural(results)} ({grouping.cut_values(results.cutpoints, formatter, results.study.level_unit)}; "
        "a level exactly at a cut point counts in the lower group)."
    )
    alt = (
        f"Scatter plot of {outcome.label} at follow-up against trough level ({results.study.level_unit}), one point for each of "
        f"{len(data)} patients, with the {points} between the trough-level groups ({_groups_n(results)}) at "
        f"{grouping.cut_values(results.cutpoints, formatter, results.study.level_unit)} marked. {correlation}."
    )
    return _Drawn("figure2-trough-das28", f"Trough level and {outcome.label} at follow-up", caption, figure, alt)


def _eular_bars(eular: CategoricalComparison, results: Results, formatter: Formatter) -> _Drawn | None:
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Patch

    counts = {category: np.asarray(row, dtype=float) for category, row in zip(eular.categories, eular.counts)}
    order = [c for c in EULAR_RESPONSES if c in counts] + [c for c in eular.categories if c not in EULAR_RESPONSES]
    totals = np.sum([counts[c] for c in order], axis=0)
    shares = {c: np.divide(100.0 * counts[c], totals, out=np.zeros_like(totals), where=totals > 0) for c in order}
    labels = [stratum.label for stratum in results.strata]
    figure = MplFigure(figsize=(TEXT_WIDTH_IN * 0.72, 2.9), layout="constrained")
    ax = figure.subplots()
    positions = np.arange(len(labels))
    # Best response at the bottom, so the bars read like a rising share of good responders.
    bottom = np.zeros(len(labels))
    for category in reversed(order):
        ax.bar(
            positions,
            shares[category],
            bottom=bottom,
            width=0.62,
            color=EULAR_COLOURS.get(category, "#bdbdbd"),
            hatch=EULAR_HATCH.get(category, ""),
            edgecolor="white",
            hatchcolor=_tint(EULAR_COLOURS.get(category, "#bdbdbd"), 0.35),
            linewidth=0.6,
            label=category,
        )
        for x, share, base in zip(positions, shares[category], bottom):
            if share >= 9:
                ax.text(
                    x,
                    base + share / 2,
                    f"{formatter.percent(share)}%",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=EULAR_TEXT.get(category, INK),
                    bbox={"boxstyle": "square,pad=0.12", "facecolor": EULAR_COLOURS.get(category, "#bdbdbd"), "edgecolor": "none"},
                )
        bottom = bottom + shares[category]
    ax.set_xticks(positions, [f"{label}\n{_n_equals(int(total))}" for label, total in zip(labels, totals)])
    ax.tick_params(axis="x", length=0)
    ax.set_ylim(0, 100)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.yaxis.set_major_formatter(formatter.tick_formatter(0))
    ax.set_ylabel(f"Patients in {grouping.singular(results)} (%)")
    ax.set_xlabel(_axis_label(results))
    handles = [
        Patch(
            facecolor=EULAR_COLOURS.get(c, "#bdbdbd"),
            hatch=EULAR_HATCH.get(c, ""),
            edgecolor="white",
            hatchcolor=_tint(EULAR_COLOURS.get(c, "#bdbdbd"), 0.35),
            label=c.capitalize(),
        )
        for c in order  # top to bottom, as the bands are stacked
    ]
    ax.legend(handles=handles, title="EULAR response", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              alignment="left", title_fontsize=8)
    _tilt_crowded_labels(figure)
    caption = (
        f"Percentages of the patients in each {grouping.singular(results)} (n under each bar); best response at the bottom. {formatter.test_name(eular.test.test)}, {p_or_reason(eular.test, formatter)}."
    )
    alt = (
        "Stacked bars of the share of patients with each EULAR response, one bar per trough-level group: "
        + "; ".join(
            f"{label} (n = {int(total)}) "
            + ", ".join(f"{c} {formatter.percent(shares[c][index])}%" for c in order)
            for index, (label, total) in enumerate(zip(labels, totals))
        )
        + "."
    )
    return _Drawn("figure3-eular", f"EULAR response by trough-level {grouping.singular(results)}", caption, figure, alt)


def _axis_label(results: Results) -> str:
    """'Trough-level quartile (Q1 lowest)', 'Trough-level group (subtherapeutic lowest)'."""
    return f"Trough-level {grouping.singular(results)} ({results.strata[0].label} lowest)"


def flow_box_lines(flow: Flow, formatter: Formatter) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Per group: the lines of its boxes below the group box (reached follow-up, carried forward, and placed
    by a visit window when any were), before wrapping."""
    month = flow.follow_up_month
    columns = []
    for k, group in enumerate(flow.groups):
        boxes = [(f"Month-{month} visit", f"n = {formatter.integer(group.reached_follow_up)}")]
        carried = [f"Carried forward (LOCF)", f"n = {formatter.integer(group.carried_forward)}"]
        if group.withdrawn:
            carried.append(f"withdrew: {formatter.integer(group.withdrawn)}")
            reasons = [(visible(r.reason) if r.reason else "reason not recorded", r.counts[k]) for r in flow.withdrawals if r.counts[k]]
            shown = reasons[: FLOW_REASONS_SHOWN if len(reasons) <= FLOW_REASONS_SHOWN else FLOW_REASONS_SHOWN - 1]
            carried.extend(f"– {clipped(reason, FLOW_REASON_CHARACTERS)}: {formatter.integer(count)}" for reason, count in shown)
            if len(shown) < len(reasons):
                rest = sum(count for _, count in reasons[len(shown) :])
                carried.append(f"– other reasons: {formatter.integer(rest)}")
        missed = group.carried_forward - group.withdrawn
        if missed:
            carried.append(f"missed visit: {formatter.integer(missed)}")
        boxes.append(tuple(carried))
        if group.placed_by_window:
            boxes.append(("Placed by a visit window", f"n = {formatter.integer(group.placed_by_window)}"))
        columns.append(tuple(boxes))
    return tuple(columns)


def _wrap(lines: tuple[str, ...], width_in: float) -> list[str]:
    """Lines wrapped to a box ``width_in`` wide (continuations indented); a very long word is cut."""
    import textwrap

    characters = max(8, int((width_in - 2 * FLOW_PAD_IN) * 72 / (FLOW_FONT_PT * FLOW_EM_PER_CHARACTER)))
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(
            clipped(piece, characters)
            for piece in textwrap.wrap(line, characters, subsequent_indent="  ", break_long_words=False) or [""]
        )
    return wrapped


def _flow_diagram(flow: Flow | None, formatter: Formatter, group: str = "group") -> _Drawn | None:
    """``group``: the word for one group (``reportgen.grouping``)."""
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle

    if flow is None or not flow.groups:
        return None
    month = flow.follow_up_month
    width = TEXT_WIDTH_IN
    n_groups = len(flow.groups)
    margin = 0.03  # so the outer boxes' edges are not cut at the figure's edge
    column = (width - 2 * margin - FLOW_GAP_IN * (n_groups - 1)) / n_groups
    indent = min(0.14, column * 0.12)  # the outcome boxes hang off a line down the column's left side

    def height(lines: list[str]) -> float:
        return len(lines) * FLOW_LINE_IN + 2 * FLOW_PAD_IN

    top_width = min(2.2, width * 0.4)
    side_width = width / 2 - 0.3 - margin  # beside the line from Included down to Analysed
    top = [["Included", f"n = {formatter.integer(flow.included)}"],
           _wrap((f"No trough level at or before month {month}", f"n = {formatter.integer(flow.no_level)}",
                  "described in Table 1, not compared"), side_width),
           [f"Analysed by trough-level {group}", f"n = {formatter.integer(flow.analysed)}"]]
    group_lines = [[group.label, f"n = {formatter.integer(group.analysed)}"] for group in flow.groups]
    outcome_lines = [[_wrap(box, column - indent) for box in boxes] for boxes in flow_box_lines(flow, formatter)]
    n_rows = max(len(boxes) for boxes in outcome_lines)
    row_heights = [max(height(boxes[r]) for boxes in outcome_lines if r < len(boxes)) for r in range(n_rows)]
    step = 0.2  # vertical space between boxes, where the arrows run
    included_h, side_h, analysed_h = height(top[0]), height(top[1]), height(top[2])
    group_h = height(group_lines[0])
    total = included_h + max(side_h, 0.3) + step + analysed_h + 0.32 + group_h + sum(row_heights) + step * n_rows + 2 * margin
    figure = MplFigure(figsize=(width, total))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, total)
    ax.set_axis_off()
    arrow = {"arrowstyle": "-|>,head_length=0.35,head_width=0.18", "color": INK, "linewidth": 0.7, "shrinkA": 0, "shrinkB": 0}

    def box(x: float, y_top: float, w: float, lines: list[str], h: float | None = None, fill: str = "white",
            bold_first: bool = False, centre: bool = True) -> float:
        h = height(lines) if h is None else h
        ax.add_patch(Rectangle((x, y_top - h), w, h, facecolor=fill, edgecolor=INK, linewidth=0.7))
        for i, line in enumerate(lines):
            ax.text(
                x + w / 2 if centre else x + FLOW_PAD_IN,
                y_top - FLOW_PAD_IN - (i + 0.5) * FLOW_LINE_IN,
                line,
                ha="center" if centre else "left",
                va="center_baseline",
                fontsize=FLOW_FONT_PT,
                fontweight="bold" if bold_first and i == 0 else "normal",
                parse_math=False,  # reasons are workbook text: "$5 $" is not mathematics
            )
        return y_top - h

    def line(x0: float, y0: float, x1: float, y1: float, head: bool = False) -> None:
        if head:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=arrow)
        else:
            ax.plot([x0, x1], [y0, y1], color=INK, linewidth=0.7, solid_capstyle="butt")

    centre = width / 2
    y = total - margin
    bottom = box(centre - top_width / 2, y, top_width, top[0], bold_first=True)
    side_x = width - side_width - margin
    side_mid = bottom - max(side_h, 0.3) / 2 - step / 2
    box(side_x, side_mid + side_h / 2, side_width, top[1])
    y = bottom - max(side_h, 0.3) - step
    line(centre, bottom, centre, y, head=True)
    line(centre, side_mid, side_x, side_mid, head=True)
    bottom = box(centre - top_width / 2, y, top_width, top[2], bold_first=True)
    bus = bottom - 0.16
    groups_top = bus - 0.16
    lefts = [margin + i * (column + FLOW_GAP_IN) for i in range(n_groups)]
    line(centre, bottom, centre, bus)
    line(lefts[0] + column / 2, bus, lefts[-1] + column / 2, bus)
    for left, lines, outcomes in zip(lefts, group_lines, outcome_lines):
        line(left + column / 2, bus, left + column / 2, groups_top, head=True)
        group_bottom = box(left, groups_top, column, lines, h=group_h, fill=BOX_FILL, bold_first=True)
        spine = left + indent / 2
        y_top = group_bottom - step
        middle = y_top
        for r, lines_r in enumerate(outcomes):
            box(left + indent, y_top, column - indent, lines_r, h=row_heights[r], centre=False)
            middle = y_top - min(row_heights[r], 2 * FLOW_LINE_IN + 2 * FLOW_PAD_IN) / 2
            line(spine, middle, left + indent, middle, head=True)
            y_top -= row_heights[r] + step
        line(spine, group_bottom, spine, middle)
    carried = sum(g.carried_forward for g in flow.groups)
    placed = sum(g.placed_by_window for g in flow.groups)
    by_window = f", with a visit placed by the visit window ({patients_phrase(placed)} in all)" if placed else ""
    caption = (
        f"Every included patient, the patients without a trough level (described in Table 1 but not compared), and "
        f"the analysed patients of each {group} at month {month}: with a month-{month} visit{by_window}, or carried forward "
        f"from an earlier visit ({patients_phrase(carried)} in all), with the reasons of those who withdrew."
    )
    alt = (
        f"Flow diagram: {patients_phrase(flow.included)} included, {flow.no_level} without a trough level, "
        f"{flow.analysed} analysed in the trough-level groups: "
        + "; ".join(
            f"{group.label} {group.analysed} ({group.reached_follow_up} with a month-{month} visit, "
            + (f"{group.placed_by_window} placed by the visit window, " if placed else "")
            + f"{group.carried_forward} carried forward, {group.withdrawn} of them withdrawn)"
            for group in flow.groups
        )
        + "."
    )
    return _Drawn(FLOW_FIGURE, "Flow of patients", caption, figure, alt)


# --- helpers ----------------------------------------------------------------------------------


def _density(ax: Axes, x: np.ndarray, y: np.ndarray, colour: str, alpha: float, x_range: tuple[float, float], bins_x: int) -> None:
    """A crowded point cloud drawn as what its translucent points would show, in one small image.

    Each cell (about the size of one point) is painted as ``count`` overlapping points of opacity
    ``alpha`` would paint it: opacity 1 - (1 - alpha) ** count. Drawing 100,000 markers one by one cost
    Agg 7 µs each; the histogram is one pass of numpy.
    """
    from matplotlib.colors import to_rgb

    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if not x.size:
        return
    y_range = (min(0.0, float(y.min())), float(y.max()) or 1.0)
    counts, _, _ = np.histogram2d(x, y, bins=(bins_x, DENSITY_BINS_Y), range=(x_range, y_range))
    image = np.zeros((DENSITY_BINS_Y, bins_x, 4))
    image[..., :3] = to_rgb(colour)
    image[..., 3] = 1.0 - (1.0 - alpha) ** counts.T
    drawn = ax.imshow(
        image, origin="lower", extent=(*x_range, *y_range), aspect="auto", interpolation="nearest", zorder=3
    )
    drawn.sticky_edges.x.clear()
    drawn.sticky_edges.y.clear()
    drawn.set_in_layout(False)


@contextmanager
def _style(settings: dict[str, object]) -> Iterator[None]:
    """matplotlib's default style (``"default"``: its built-in rcParams, not the rc file read at import) with
    ``settings`` on top; everything is put back afterwards."""
    from matplotlib import style

    with style.context(["default", settings]):
        yield


def _register_fonts() -> None:
    """Make the shipped files the only fonts of FONT_FAMILY that matplotlib knows.

    Another copy of the family (installed on the machine, or listed in the font cache in $MPLCONFIGDIR) would
    be found first, and another version of it would move every text of the figures.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    ours = [str(templates_dir() / "fonts" / file_name) for file_name in FONT_FILES]
    if any(entry.name == FONT_FAMILY and entry.fname not in ours for entry in manager.ttflist):
        manager.ttflist = [entry for entry in manager.ttflist if entry.name != FONT_FAMILY and entry.fname not in ours]
    known = {entry.fname for entry in manager.ttflist}
    for path in ours:
        if path not in known:
            manager.addfont(path)  # clears matplotlib's cache of font look-ups


def _format_ticks(ax: Axes, formatter: Formatter, axis: str) -> None:
    """Tick labels through the report's Formatter, with as few decimals as the tick step needs."""
    axes = {"x": [ax.xaxis], "y": [ax.yaxis], "both": [ax.xaxis, ax.yaxis]}[axis]
    for which in axes:
        ticks = which.get_majorticklocs()
        which.set_major_formatter(formatter.tick_formatter(_decimals_needed(ticks)))


def _decimals_needed(ticks: np.ndarray) -> int:
    for decimals in range(0, 4):
        if np.allclose(ticks, np.round(ticks, decimals), atol=1e-9):
            return decimals
    return 3


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: amount 0 keeps it, 1 gives white."""
    from matplotlib.colors import to_hex, to_rgb

    rgb = np.asarray(to_rgb(colour))
    return to_hex(rgb + (1.0 - rgb) * amount)


def _groups_n(results: Results) -> str:
    """``Q1 n = 9, Q2 n = 8, ...`` for an alt text."""
    return ", ".join(f"{stratum.label} {_n_equals(stratum.n)}" for stratum in results.strata)


def _tilt_crowded_labels(figure: MplFigure) -> None:
    """Group labels the study names itself (``group_labels``, e.g. "subtherapeutic") can be wider than the
    space between two groups on the axis, and then run into each other. Such labels are tilted, anchored at
    their right end under their group, the count line ending with them. Measured on the laid-out figure with
    the Agg renderer's font metrics. Call when everything else is drawn: when no label is tilted, the layout
    done here is the figure's (``to_svg`` then saves it as it is); otherwise it is done again when the figure
    is saved, making room for the tilted labels."""
    from matplotlib.backends.backend_agg import RendererAgg

    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
    width, height = figure.get_size_inches() * figure.dpi
    renderer = RendererAgg(int(width), int(height), figure.dpi)
    tilted = False
    for ax in figure.axes:
        labels = [label for label in ax.get_xticklabels() if label.get_text()]
        if len(labels) < 2:
            continue
        low, high = ax.get_xlim()
        spacing = ax.get_window_extent(renderer).width / (high - low)  # between two groups' centres, pixels
        widest = max(label.get_window_extent(renderer).width for label in labels)
        if widest > TILT_LABELS_ABOVE * spacing:
            tilted = True
            for label in labels:
                label.set_rotation(TILT_DEGREES)
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
                label.set_multialignment("right")
    if engine is not None and not tilted:
        figure.set_layout_engine(None)  # laid out above, once: to_svg need not do it again


def _n_equals(n: int, compact: bool = False) -> str:
    return f"n={n}" if compact else f"n = {n}"
