"""Figures: deterministic SVG, bounded size at 100,000 patients, tick labels through the Formatter."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import make_derived, make_patients, make_results

from reportgen.analysis import analyse
from reportgen.derive import derive
from reportgen.figures import CROWDED_ABOVE, POINTS_CROWDED, RASTERIZE_ABOVE, _density, draw_figures, figure_files, make_figures
from reportgen.formatting import Formatter
from reportgen.model import StudyOptions
from tests.cohorts import random_cohort


@pytest.fixture(scope="module")
def figures():
    return make_figures(make_derived(), make_results(), Formatter("."))


def test_three_numbered_figures_with_captions(figures) -> None:
    assert [f.number for f in figures] == [1, 2, 3]
    assert all(f.svg.startswith("<svg") and f.caption and f.title for f in figures)
    assert "Spearman ρ = " in figures[1].caption
    assert "p\u00a0=" in figures[2].caption or "p\u00a0<" in figures[2].caption


def test_identical_input_gives_identical_svg(figures) -> None:
    again = make_figures(make_derived(), make_results(), Formatter("."))
    assert [f.svg for f in again] == [f.svg for f in figures]


def test_svg_ids_are_unique_across_figures_and_nothing_points_outside(figures) -> None:
    ids = [i for f in figures for i in re.findall(r'\bid="([^"]+)"', f.svg)]
    assert len(ids) == len(set(ids))
    for figure in figures:
        for target in re.findall(r'href="([^"]*)"', figure.svg):
            assert target.startswith(("#", "data:"))
        urls = re.findall(r"https?://[^\"' )]+", figure.svg)
        assert set(urls) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
        assert "<metadata" not in figure.svg


def test_text_is_text_in_the_shipped_family_only(figures) -> None:
    for figure in figures:
        styles = re.findall(r'<text style="([^"]*)"', figure.svg)
        assert styles and all("font-family: 'Reportgen Serif';" in style for style in styles)
        assert "@font-face" not in figure.svg  # inline copies take the report's own @font-face rules


def test_stand_alone_files_embed_the_subset_fonts_their_text_uses(figures) -> None:
    files = figure_files(figures)
    assert files == figure_files(figures)  # deterministic
    assert sorted(files) == [f"figures/{f.name}.svg" for f in figures]
    for figure in figures:
        svg = files[f"figures/{figure.name}.svg"].decode()
        faces = re.findall(r"font-weight: (\d+); font-style: (\w+); src: url\(data:font/otf;base64,", svg)
        assert ("400", "normal") in faces and ("700", "normal") in faces  # tick labels, bold panel titles
        assert svg.replace(re.search(r"\n<defs><style.*?</style></defs>", svg, re.S).group(0), "") == figure.svg


def test_decimal_comma_on_every_tick_label() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    drawn = draw_figures(make_derived(), make_results(), Formatter(","))
    labels = []
    for item in drawn:
        FigureCanvasAgg(item.figure).draw()
        for ax in item.figure.axes:
            labels += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
            formatter = ax.yaxis.get_major_formatter()
            assert "." not in formatter(2.5, 0)
    assert labels and not any(re.search(r"\d\.\d", label) for label in labels)
    results = make_results()
    captions = " ".join(f.caption for f in make_figures(make_derived(), results, Formatter(",")))
    rho = next(o for o in results.outcomes if o.variable == "das28_esr").spearman.rho
    assert re.search(r"ρ = −?0,\d\d\b", captions) and f"ρ = {Formatter(',').rho(rho)}" in captions
    assert not re.search(r"\d\.\d", captions)


def test_figure_groups_are_the_table_groups_when_levels_sit_on_the_cut_points() -> None:
    """Figure 1 draws, per quartile, exactly the patients Table 4 describes, with a level on a cut point in
    the lower quartile (closed on the right) in both; the figures never assign quartiles themselves."""
    derived = derive(random_cohort(21, 240))
    levels = derived.patients["trough_level"].dropna().to_numpy()
    cuts = tuple(float(c) for c in np.quantile(levels, [0.25, 0.5, 0.75], method="lower"))  # levels that occur
    study = StudyOptions(quartile_cutpoints=cuts)
    results = analyse(derived, study)
    on_cut = derived.patients["trough_level"].isin(cuts)
    assert on_cut.sum() >= 3  # the case that tells the closed sides apart

    (boxplots,) = [item for item in draw_figures(derived, results, Formatter(".")) if item.name == "figure1-activity"]
    table = {outcome.variable: outcome for outcome in results.outcomes}
    for ax, variable in zip(boxplots.figure.axes, ("das28_esr", "cdai", "sdai")):
        drawn = [np.sort(points.get_offsets()[:, 1].data) for points in ax.collections]
        assert len(drawn) == len(results.strata)
        for values, group, stratum in zip(drawn, table[variable].groups, results.strata):
            assert values.size == group.n == stratum.n  # no missing values in this cohort
            assert float(np.median(values)) == pytest.approx(group.median, rel=1e-12)
            assert float(np.mean(values)) == pytest.approx(group.mean, rel=1e-12)
    # And the lower quartile holds the patients whose level equals its upper cut point.
    q1 = derived.patients.loc[derived.patients["trough_level"] <= cuts[0], "das28_esr"].to_numpy()
    first = np.sort(boxplots.figure.axes[0].collections[0].get_offsets()[:, 1].data)
    np.testing.assert_array_equal(first, np.sort(q1))


@pytest.mark.parametrize("n", [RASTERIZE_ABOVE + 1, CROWDED_ABOVE + 1, pytest.param(100_000, marks=pytest.mark.slow)])
def test_size_stays_bounded_for_large_cohorts(n: int) -> None:
    small = make_patients()
    rng = np.random.default_rng(1)
    analysed = small[small["quartile"].notna()]
    big = analysed.sample(n=n, replace=True, random_state=1).reset_index(drop=True)
    big["patient_id"] = [f"B{i:06d}" for i in range(n)]
    big["trough_level"] = big["trough_level"] + rng.uniform(-0.03, 0.03, n)
    big["das28_esr"] = big["das28_esr"] + rng.normal(0, 0.2, n)
    figures = make_figures(make_derived(big), make_results(big), Formatter("."))
    for figure in figures[:2]:
        assert "<image" in figure.svg  # point clouds became one embedded PNG
        assert len(figure.svg) < 1_500_000
    # Above CROWDED_ABOVE the points are drawn as their density, and the captions say how to read it.
    assert (POINTS_CROWDED in figures[0].caption) == (n > CROWDED_ABOVE)
    assert ("translucent point" in figures[1].caption) == (n > CROWDED_ABOVE)


def test_a_crowded_cloud_is_shaded_as_its_overlapping_translucent_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure as MplFigure

    import reportgen.figures as figures_module

    ax = MplFigure().subplots()
    # 3 points in one cell, 1 in another, none elsewhere: a 2 x 2 grid over [0, 2] x [0, 2].
    x = np.array([0.5, 0.5, 0.5, 1.5, np.nan])
    y = np.array([0.5, 0.5, 0.5, 1.5, 1.0])
    monkeypatch.setattr(figures_module, "DENSITY_BINS_Y", 2)
    _density(ax, x, y, "#ff0000", 0.35, (0.0, 2.0), bins_x=2)
    (image,) = ax.get_images()
    rgba = image.get_array()
    assert rgba.shape == (2, 2, 4)
    np.testing.assert_allclose(rgba[..., 3], [[1 - 0.65**3, 0.0], [0.0, 1 - 0.65]])  # rows are y, from the bottom
    np.testing.assert_allclose(rgba[0, 0, :3], [1.0, 0.0, 0.0])
    assert image.get_extent() == [0.0, 2.0, 0.0, 1.5]


def test_captions_follow_the_results() -> None:
    results = make_results()
    eular = replace(results.eular_response, test=replace(results.eular_response.test, p_value=0.00636))
    figures = make_figures(make_derived(), replace(results, eular_response=eular), Formatter(","))
    assert "p\u00a0=\u00a00,006" in figures[2].caption


def test_captions_of_tests_not_computed_say_why_not_p_dash() -> None:
    results = make_results()
    not_tested = dict(p_value=None, statistic=None, not_tested="all values are equal")
    outcomes = tuple(replace(o, test=replace(o.test, **not_tested)) if o.variable == "das28_esr" else o for o in results.outcomes)
    eular = replace(results.eular_response, test=replace(results.eular_response.test, **not_tested))
    figures = make_figures(make_derived(), replace(results, outcomes=outcomes, eular_response=eular), Formatter("."))
    assert "DAS28-ESR (not tested: all values are equal)" in figures[0].caption
    assert "not tested: all values are equal." in figures[2].caption
    assert "p\u00a0=\u00a0\u2013" not in figures[0].caption + figures[2].caption


# A matplotlibrc that would change every figure, or stop it (usetex with no LaTeX installed).
HOSTILE_MATPLOTLIBRC = """\
text.usetex: True
font.family: monospace
font.size: 20
lines.linewidth: 5
axes.prop_cycle: cycler('color', ['ff0000'])
axes.facecolor: ff00ff
axes.unicode_minus: False
figure.dpi: 300
figure.constrained_layout.use: False
savefig.facecolor: 00ff00
savefig.bbox: tight
svg.fonttype: path
svg.hashsalt: salt
svg.image_inline: False
path.simplify: False
hatch.linewidth: 4
xtick.labelsize: 3
"""
FIGURES_IN_A_FRESH_PROCESS = """
import json
from report_fixtures import make_derived, make_results
from reportgen.figures import make_figures
from reportgen.formatting import Formatter
print(json.dumps([figure.svg for figure in make_figures(make_derived(), make_results(), Formatter("."))]))
"""


@pytest.mark.parametrize(
    "where", [pytest.param("current folder", marks=pytest.mark.slow), "MATPLOTLIBRC", pytest.param("MPLCONFIGDIR", marks=pytest.mark.slow)]
)
def test_a_users_matplotlibrc_changes_no_byte_of_the_figures(figures, tmp_path: Path, where: str) -> None:
    # Issue #15 item 10: matplotlib reads a matplotlibrc when imported; it changed the figures (and so the
    # reproducible hashes), and text.usetex: True stopped the build with a RuntimeError.
    import matplotlib

    tests = Path(__file__).resolve().parent
    environment = {**os.environ, "PYTHONPATH": str(tests)}
    environment.pop("MATPLOTLIBRC", None)
    folder = tmp_path / "config"
    folder.mkdir()
    # Without usetex in the current folder, so that the other settings are seen to change nothing either.
    rc = HOSTILE_MATPLOTLIBRC.replace("text.usetex: True\n", "") if where == "current folder" else HOSTILE_MATPLOTLIBRC
    (folder / "matplotlibrc").write_text(rc)
    if where == "MATPLOTLIBRC":
        environment["MATPLOTLIBRC"] = str(folder / "matplotlibrc")
    elif where == "MPLCONFIGDIR":
        environment["MPLCONFIGDIR"] = str(folder)
        for cache in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):  # spare the font scan
            shutil.copy(cache, folder)
    cwd = folder if where == "current folder" else tmp_path
    result = subprocess.run(
        [sys.executable, "-c", FIGURES_IN_A_FRESH_PROCESS], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [figure.svg for figure in figures]


def test_another_copy_of_the_font_family_on_the_machine_changes_no_byte(figures, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue #15 item 10: a font of the same family known to matplotlib first (installed on the machine, or in the
    # font cache of $MPLCONFIGDIR) was used instead of the shipped one, and moved every text.
    from dataclasses import replace as replace_entry

    import matplotlib
    from matplotlib import font_manager

    other = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf")
    impostor = replace_entry(font_manager.ttfFontProperty(font_manager.get_font(other)), name="Reportgen Serif")
    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [impostor, *manager.ttflist])
    manager._findfont_cached.cache_clear()
    try:
        again = make_figures(make_derived(), make_results(), Formatter("."))
    finally:
        manager._findfont_cached.cache_clear()
    assert [figure.svg for figure in again] == [figure.svg for figure in figures]


@pytest.mark.parametrize(
    ("study", "k", "word", "plural"),
    [(StudyOptions(grouping="halves"), 2, "half", "halves"), (StudyOptions(cut_points=(1.0, 3.0, 6.0, 10.0, 20.0)), 6, "group", "groups")],
)
def test_every_group_is_drawn_with_its_own_marker_and_named_by_the_design(study: StudyOptions, k: int, word: str, plural: str) -> None:
    derived = derive(random_cohort(22, 120))
    results = analyse(derived, study)
    drawn = {item.name: item for item in draw_figures(derived, results, Formatter("."))}
    boxplots = drawn["figure1-activity"]
    for ax in boxplots.figure.axes:
        points = [collection for collection in ax.collections if len(collection.get_offsets())]
        assert len(points) == k == sum(1 for s in results.strata if s.n)  # the sixth group is drawn too
        assert len({tuple(map(tuple, c.get_paths()[0].vertices.round(3))) for c in points}) == k  # a marker each
    assert boxplots.title.endswith(f"by trough-level {word}") and drawn["figure3-eular"].title.endswith(f"by trough-level {word}")
    assert f"between the {plural}" in drawn["figure2-trough-das28"].caption


@pytest.mark.parametrize(
    ("labels", "tilted"),
    [(("subtherapeutic", "therapeutic", "supratherapeutic"), True), (("low", "mid", "high"), False)],
)
def test_group_labels_too_wide_for_their_place_on_the_axis_are_tilted(labels: tuple[str, ...], tilted: bool) -> None:
    # Issue 12: a user's labels ran into each other under Figure 1's three panels ("subtherapeutictherapeutic…").
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from reportgen.figures import TILT_DEGREES

    derived = derive(random_cohort(22, 120))
    drawn = draw_figures(derived, analyse(derived, StudyOptions(cut_points=(3.0, 8.0), group_labels=labels)), Formatter("."))
    boxplots = next(item for item in drawn if item.name == "figure1-activity").figure
    canvas = FigureCanvasAgg(boxplots)
    canvas.draw()
    for ax in boxplots.axes:
        ticks = ax.get_xticklabels()
        assert [tick.get_text().split("\n")[0] for tick in ticks] == list(labels)
        assert {tick.get_rotation() for tick in ticks} == ({TILT_DEGREES} if tilted else {0.0})
        if not tilted:  # upright labels stay apart
            boxes = [tick.get_window_extent(canvas.get_renderer()) for tick in ticks]
            assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:]))


def test_group_labels_are_drawn_as_typed_never_as_mathtext() -> None:
    study = StudyOptions(grouping="halves", group_labels=(r"$\foo{$", "$x^2$"))
    derived = derive(random_cohort(23, 40))
    figures = make_figures(derived, analyse(derived, study), Formatter("."))  # an unknown TeX command must not stop it
    assert all("$x^2$" in figure.svg for figure in figures)


# --- journal figure files and alternative text (issue 14) ----------------------------------------


def test_every_figure_has_alt_text_with_its_groups_and_numbers(figures) -> None:
    results = make_results()
    labels = [stratum.label for stratum in results.strata]
    for figure in figures:
        assert figure.alt and all(label in figure.alt for label in labels)
        assert re.search(r"\d", figure.alt)
    assert all(f"{stratum.label} n = {stratum.n}" in figures[0].alt for stratum in results.strata)


@pytest.mark.slow  # draws every figure at 600 dpi twice; runs with `make test-all`
def test_journal_files_are_deterministic_at_column_width_and_600_dpi() -> None:
    import io

    from PIL import Image

    from reportgen.figures import DOUBLE_COLUMN_MM, JOURNAL_FILE, SINGLE_COLUMN_MM, journal_files, make_figures_and_drawings

    def made() -> dict[str, bytes]:
        figures, drawings = make_figures_and_drawings(make_derived(), make_results(), Formatter("."))
        return journal_files(figures, drawings)

    files = made()
    numbers = range(1, len(make_figures(make_derived(), make_results(), Formatter("."))) + 1)
    assert sorted(files) == [f"figures/figure{n}.{suffix}" for n in numbers for suffix in ("pdf", "png", "tiff")]
    assert all(JOURNAL_FILE.fullmatch(name) for name in files)
    for name, millimetres in (("figure1", DOUBLE_COLUMN_MM), ("figure2", SINGLE_COLUMN_MM), ("figure3", SINGLE_COLUMN_MM)):
        with Image.open(io.BytesIO(files[f"figures/{name}.tiff"])) as image:
            assert abs(image.width - millimetres / 25.4 * 600) <= 1 and image.info["compression"] == "tiff_lzw"
    assert made() == files  # byte for byte
