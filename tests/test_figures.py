"""Figures: deterministic SVG, bounded size at 100,000 patients, tick labels through the Formatter."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from report_fixtures import make_derived, make_patients, make_results

from reportgen.figures import CROWDED_ABOVE, POINTS_CROWDED, RASTERIZE_ABOVE, _density, analysed_patients, draw_figures, figure_files, make_figures
from reportgen.formatting import Formatter
from reportgen.model import Derived


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


def test_quartiles_computed_from_strata_when_the_column_is_absent() -> None:
    frame = make_patients()
    results = make_results(frame)
    derived = Derived(visits=pd.DataFrame(), patients=frame.drop(columns="quartile"), follow_up_month=12)
    computed = analysed_patients(derived, results)["quartile"]
    given = frame.loc[frame["quartile"].notna(), "quartile"]
    assert computed.tolist() == given.tolist()


@pytest.mark.parametrize("n", [RASTERIZE_ABOVE + 1, CROWDED_ABOVE + 1, pytest.param(100_000, marks=pytest.mark.slow)])
def test_size_stays_bounded_for_large_cohorts(n: int) -> None:
    small = make_patients()
    rng = np.random.default_rng(1)
    analysed = small[small["quartile"].notna()]
    big = analysed.sample(n=n, replace=True, random_state=1).reset_index(drop=True)
    big["trough_level"] = big["trough_level"] + rng.uniform(-0.03, 0.03, n)
    big["das28_esr"] = big["das28_esr"] + rng.normal(0, 0.2, n)
    results = make_results()
    figures = make_figures(Derived(visits=pd.DataFrame(), patients=big, follow_up_month=12), results, Formatter("."))
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
