"""The example report end to end, as README command 1 makes it: what a reader finds in the PDF and HTML."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from reportgen.cli import main

ROOT = Path(__file__).resolve().parent.parent
COHORT = ROOT / "input" / "cohort.xlsx"
# Pinned after looking at every page (pdftoppm -png -r 60); a change here means the layout moved.
EXPECTED_PAGES = 18  # 10 before the Missing data section, withdrawals table, flow figure and Limitations (13), the CIs and the adjusted estimates (14), the sensitivity and pairwise tables (16), and the grouping words (17), and the Word file in the appendix's note on the files, which moves the software table to a page of its own (18)


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "output"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1715938200")
    try:
        assert main(["build", str(COHORT), "--out", str(out), "--quiet"]) == 0
    finally:
        monkeypatch.undo()
    (folder,) = [path for path in out.iterdir() if path.is_dir() and not path.is_symlink()]
    return folder


@pytest.fixture(scope="module")
def pdf_text(build_folder: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; `make test` installs it")
    result = subprocess.run(["pdftotext", "-layout", str(build_folder / "report.pdf"), "-"], capture_output=True, check=True)
    return result.stdout.decode("utf-8")


def test_build_folder_is_named_by_time_and_input_hash(build_folder: Path) -> None:
    assert re.fullmatch(r"20240517T093000Z-[0-9a-f]{8}", build_folder.name)
    assert (build_folder.parent / "latest").resolve() == build_folder.resolve()
    for name in ("report.html", "report.pdf", "report.docx", "results.json", "abstract.txt", "manifest.json", "cohort.xlsx"):
        assert (build_folder / name).is_file(), name
    assert sorted(path.name for path in (build_folder / "figures").glob("*.svg")) and len(list((build_folder / "figures").glob("*.svg"))) == 4


def test_pdf_has_every_section_in_reading_order(pdf_text: str) -> None:
    # The abstract repeats "Methods", "Results", "Conclusions", so each heading is looked for after the previous one.
    headings = ["Abstract", "Background", "Objectives", "Methods", "Results", "Conclusions",
                "Patients and follow-up", "Disease-activity indices", "Trough-level groups", "Statistical analysis",
                "Table 1.", "Table 2.", "Table 3.", "Figure 1.", "Figure 2.", "Figure 3.", "Conclusions",
                "Published vs reproduced", "Appendix", "Patients carried forward", "Software"]
    position = 0
    for heading in headings:
        found = pdf_text.find(heading, position)
        assert found >= 0, f"{heading!r} missing after position {position}"
        position = found + len(heading)


def test_pdf_shows_the_abstracts_headline_numbers(pdf_text: str) -> None:
    flat = re.sub(r"\s+", " ", pdf_text.replace("\u00a0", " "))
    assert "Q1 8 (24.2%); Q2 7 (21.2%); Q3 8 (24.2%); Q4 10 (30.3%)" in flat
    assert "Q1 4.46 ± 1.53" in flat  # printed in the abstract as 4,46 ± 1,5
    assert "none 4/1/1/0; moderate 3/0/4/1; good 1/6/3/9 (p = 0.006)" in flat


def test_pdf_and_results_json_give_the_confidence_intervals(build_folder: Path, pdf_text: str) -> None:
    # Issue #13: rho = -0.56 has a 95 % CI of about -0.75 to -0.26; good response 1/8 in Q1 (Wilson roughly 2-47 %).
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    ci = results["outcomes"]["das28_esr"]["spearman"]["ci"]
    assert ci["method"] == "fisher-z" and (round(ci["lower"], 2), round(ci["upper"], 2)) == (-0.75, -0.26)
    flat = re.sub(r"\s+", " ", pdf_text.replace("\u00a0", " "))
    assert "ρ = −0.56 (95% CI −0.75 to −0.26; p < 0.001)" in flat  # the abstract
    assert "1 of 8 in Q1 (12.5%; 95% CI 2.2 to 47.1%)" in flat and "9 of 10 in Q4 (90.0%; 95% CI 59.6 to 98.2%)" in flat
    assert "ε² 0.52 (95% CI " in flat and "Q4 − Q1 shift −2.00 (95% CI −3.61 to −0.97)" in flat  # Table 2
    # Table 2, DAS28-ESR in Q1: mean ± SD, its t interval, median [IQR], its order-statistic interval (n = 8:
    # the 1st and 8th values, the range, as the binomial coverage 1 - 2/256 >= 0.95 > 1 - 18/256 requires).
    stub, cells = _body_rows(build_folder / "report.html", 2)[0]
    group = results["outcomes"]["das28_esr"]["groups"][0]
    assert stub == "DAS28-ESRprimary outcome" and cells[1] == ("4.46\u00a0±\u00a01.53", ["(3.18–5.73)", "4.13 [3.42–5.33]", "(2.59–7.17)"])
    assert (group["median_ci"]["lower"], group["median_ci"]["upper"]) == (group["min"], group["max"])
    assert "(3.18–5.73)" in flat
    assert "95% CIs: means, t distribution; medians, distribution-free interval" in flat  # the footnote naming methods


def test_pdf_page_count_is_stable_and_every_font_is_embedded(build_folder: Path) -> None:
    with pikepdf.open(build_folder / "report.pdf") as pdf:
        assert len(pdf.pages) == EXPECTED_PAGES
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                descendants = font.get("/DescendantFonts", [font])
                for part in descendants:
                    descriptor = part.get("/FontDescriptor")
                    assert descriptor is not None and any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_abstract_txt_is_within_the_limit_and_matches_the_report(build_folder: Path) -> None:
    abstract = (build_folder / "abstract.txt").read_text(encoding="utf-8")
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    assert results["cohort"] == {
        "n_included": 34, "n_analysed": 33, "n_locf": 5, "n_placed_by_window": 0, "n_no_level": 1, "follow_up_month": 12,
    }  # fmt: skip
    body = abstract.split("\n", 1)[1]  # the first line is the title
    assert len(body.strip()) <= 3600
    for heading in ("Background:", "Objectives:", "Methods:", "Results:", "Conclusions:"):
        assert heading in abstract


# --- Tables 1 and 4, cell by cell, against results.json -------------------------------------------------
# Written here, not taken from reportgen.formatting: the decimals each measure is printed with, rounding
# half up, "mean ± SD" joined by no-break spaces, "n (%)" with one decimal, p with three decimals (below
# 0.001 as "<0.001").
COUNT_MEASURES = {"prior_biologics"}  # written as median [IQR] only
DECIMALS = {"age_years": 1, "disease_duration_years": 1, "prior_biologics": 1, "esr_mm_h": 1,
            "das28_esr": 2, "cdai": 2, "sdai": 2, "tjc28": 2, "sjc28": 2, "crp_mg_l": 2}


def _fixed(value: float, decimals: int) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else _fixed(value, 3)


def _n_percent(count: int, total: int) -> str:
    return f"{count} ({_fixed(100.0 * count / total, 1)})"


def _body_rows(html_path: Path, number: int) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """Table ``number``'s body rows: (stub text, [(cell's first line, [its further lines])])."""
    import lxml.html

    doc = lxml.html.parse(str(html_path)).getroot()
    (table,) = [t for t in doc.xpath("//table") if t.xpath("string(./caption/span[@class='label'])") == f"Table {number}."]
    rows = []
    for tr in table.xpath("./tbody/tr[td]"):
        stub = tr.xpath("string(./th)")
        cells = [((td.text or "").strip(), [span.text_content() for span in td.xpath("./span[@class='line']")]) for td in tr.xpath("./td")]
        rows.append((stub, cells))
    return rows


def test_table_1_body_is_results_json_cell_by_cell(build_folder: Path) -> None:
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    rows = _body_rows(build_folder / "report.html", 1)
    assert len(rows) == len(results["baseline"])
    for (stub, cells), (variable, entry) in zip(rows, results["baseline"].items()):
        # Where values are missing, the patients with a value follow the name (issue #13 item 7).
        missing = results["missing"][variable]
        known = f"known for {results['cohort']['n_included'] - missing}" if missing else ""
        p_cell = cells[-1][0]
        assert p_cell == _p(entry["p_value"]), (variable, p_cell)
        if entry["kind"] == "continuous":
            columns = [entry["overall"], *entry["groups"]]
            label = f"{entry['label']} ({entry['unit']})" if entry["unit"] else entry["label"]
            d = DECIMALS[variable]
            if variable in COUNT_MEASURES:  # a small count: median [IQR] only (issue #13 item 9)
                assert stub == f"{label}, median [IQR]{known}"
                for (first, lines), summary in zip(cells[:-1], columns):
                    assert first == f"{_fixed(summary['median'], d)} [{_fixed(summary['q1'], d)}–{_fixed(summary['q3'], d)}]", variable
                    assert lines == [], variable
                continue
            assert stub == label + known
            for (first, lines), summary in zip(cells[:-1], columns):
                assert first == f"{_fixed(summary['mean'], d)}\u00a0±\u00a0{_fixed(summary['sd'], d)}", (variable, first)
                assert lines == [f"{_fixed(summary['median'], d)} [{_fixed(summary['q1'], d)}–{_fixed(summary['q3'], d)}]"], variable
        else:
            assert stub == f"{entry['label']}, n (%){known}"
            counts = [entry["counts"][c] for c in entry["categories"]]  # [category][stratum]
            totals = [sum(entry["overall"].values())] + [sum(column) for column in zip(*counts)]
            first = entry["categories"][0]  # the category the table shows
            shown = [entry["overall"][first], *entry["counts"][first]]
            assert [first for first, _ in cells[:-1]] == [_n_percent(n, t) for n, t in zip(shown, totals)], variable


def test_table_4_body_is_results_json_cell_by_cell(build_folder: Path) -> None:
    """The activity categories: Table 4 before the sensitivity analyses (3) and the primary outcome's pairs (4)
    came after Table 2, now Table 6."""
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    rows = _body_rows(build_folder / "report.html", 6)
    expected = []
    for entry in results["activity_categories"].values():
        counts = [entry["counts"][c] for c in entry["categories"]]  # [category][stratum]
        totals = [sum(entry["overall"].values())] + [sum(column) for column in zip(*counts)]
        for category in entry["categories"]:
            shown = [entry["overall"][category], *entry["counts"][category]]
            expected.append((category.capitalize(), [_n_percent(n, t) for n, t in zip(shown, totals)]))
    assert [(stub, [first for first, _ in cells]) for stub, cells in rows] == expected


def test_the_examples_given_cut_points_are_not_called_quartiles_and_its_own_quartiles_stand_beside_them(pdf_text: str) -> None:
    flat = re.sub(r"\s+", " ", pdf_text.replace("\u00a0", " ")).replace("µg/ mL", "µg/mL")  # a line may break after '/'
    sentence = (
        "placed in 4 groups defined by the cut points 2.90, 9.10 and 18.50 µg/mL, given in the study sheet (Q1–Q4). "
        "The cohort's own quartiles (sample quantiles for as many groups, linear interpolation) are 3.50, 12.10 and "
        "20.80 µg/mL, so these groups are not its quartiles."
    )
    assert flat.count(sentence) == 2  # in the abstract and in the Methods
    assert "Trough-level quartile" not in flat and "across quartiles" not in flat


def test_the_sensitivity_and_pairwise_tables_reproduce_the_reviewers_numbers(build_folder: Path) -> None:
    """'Completers only (n = 28): DAS28 p = 0.009, EULAR p = 0.026; withdrawals as non-responders: EULAR
    p = 0.034'; 'with the data's own quartiles EULAR p is 0.164'; 'Q1–Q4 p = 0.0016' (0.002 at 3 decimals)."""
    sensitivity = [(stub, [first for first, _ in cells]) for stub, cells in _body_rows(build_folder / "report.html", 3)]
    das28, eular = sensitivity[:4], sensitivity[4:]
    assert [(stub, cells[0], cells[2]) for stub, cells in das28] == [
        ("Last observation carried forward (primary analysis)", "33", "<0.001"), ("Completers only", "28", "0.009"),
        ("Withdrawals as non-responders", "33", "0.009"), ("The data's own quantile groups", "33", "0.018"),
    ]  # fmt: skip
    assert [(stub, cells[0], cells[2]) for stub, cells in eular] == [
        ("Last observation carried forward (primary analysis)", "33", "0.006"), ("Completers only", "28", "0.026"),
        ("Withdrawals as non-responders", "33", "0.034"), ("The data's own quantile groupsa", "33", "0.164"),
    ]  # fmt: skip
    pairs = {stub: [first for first, _ in cells] for stub, cells in _body_rows(build_folder / "report.html", 4)}
    assert pairs["Q1 vs Q4"] == ["\u22123.65", "<0.001", "0.002"]
    assert pairs["Q2 vs Q3"][0] == "1.75"  # not monotone: Q3 above Q2
    results = json.loads((build_folder / "results.json").read_text(encoding="utf-8"))
    assert round(results["outcomes"]["das28_esr"]["posthoc"][2]["p_adjusted"], 4) == 0.0016
    assert {k for k, v in results["outcomes"].items() if v["p_holm"] < 0.05} == {"das28_esr", "cdai", "sdai", "esr_mm_h"}


def test_the_results_and_conclusions_say_the_eular_result_depends_on_the_cut_points(pdf_text: str) -> None:
    flat = re.sub(r"\s+", " ", pdf_text.replace("\u00a0", " "))
    assert (
        "With the data's own quantile groups, EULAR response no longer differed significantly across groups "
        "(p = 0.164; p = 0.006 in the primary analysis)." in flat
    )
    assert "The conclusion on EULAR response changed in a sensitivity analysis: with the data's own quantile groups (p = 0.164)" in flat
    conclusions = flat.rsplit("Conclusions", 1)[1]
    assert conclusions.lstrip().startswith("Higher trough levels were associated with lower DAS28-ESR at follow-up, the primary outcome")
    assert "found for DAS28-CRP (adjusted p = 0.059), swollen joint count (28) (adjusted p = 0.059), tender joint count (28)" in conclusions


# --- issue #14: tagged PDF/A-3a, submission view, journal figure files, --draft --------------------------


def _structure(element: pikepdf.Dictionary) -> list[pikepdf.Dictionary]:
    """Every structure element under ``element`` (a StructTreeRoot or StructElem), in reading order."""
    kids = element.get("/K")
    found: list[pikepdf.Dictionary] = []
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found += [kid, *_structure(kid)]
    return found


def test_pdf_is_tagged_with_headings_table_headers_and_figures_described_by_their_numbers(build_folder: Path) -> None:
    with pikepdf.open(build_folder / "report.pdf") as pdf:
        assert pdf.open_metadata().pdfa_status == "3A"
        assert str(pdf.Root.Lang) == "en" and bool(pdf.Root.MarkInfo.Marked)
        elements = _structure(pdf.Root.StructTreeRoot)
        kinds = [str(element.S) for element in elements]
        assert kinds.count("/H1") == 1 and {"/H2", "/H3"} <= set(kinds)
        for table in (element for element in elements if element.S == "/Table"):
            assert any(kid.S == "/TH" for kid in _structure(table)), "a table without header cells"
        alts = [str(element.Alt) for element in elements if element.S == "/Figure"]
        with pdf.open_outline() as bookmarks:
            outline = [str(item.title) for item in bookmarks.root]
    assert len(alts) == len(list((build_folder / "figures").glob("*.svg"))) == 4
    assert all(alt.strip() for alt in alts)
    assert "Q1 n = 8" in alts[0] and "DAS28-ESR Q1 4.13" in alts[0]  # medians, from the data
    assert "Spearman ρ = −0.56" in alts[1]
    assert "Q4 (n = 10) none 0.0%, moderate 10.0%, good 90.0%" in alts[2]
    assert "34 patients included, 1 without a trough level, 33 analysed" in alts[3]
    assert outline and outline[0].startswith("Serum tocilizumab")  # the bookmark outline of the sections


def test_pdfinfo_says_tagged_and_rules_are_artifacts(build_folder: Path) -> None:
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed; `make test` installs it")
    info = subprocess.run(["pdfinfo", str(build_folder / "report.pdf")], capture_output=True, check=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    with pikepdf.open(build_folder / "report.pdf") as pdf:
        # The abstract's and the tables' rules are borders: marked content outside the structure tree.
        assert re.search(rb"/Artifact\s+BMC", pdf.pages[0].Contents.read_bytes())


def test_submission_view_keeps_the_build_stamp_off_the_title_page(build_folder: Path) -> None:
    import lxml.html

    doc = lxml.html.parse(str(build_folder / "report.html")).getroot()
    title_block = doc.xpath("string(//header[@class='title-block'])")
    sha256 = json.loads((build_folder / "manifest.json").read_bytes())["workbook"]["sha256"]
    for stamp in ("2024-05-17 09:30 UTC", sha256[:12], "reportgen 0.1.0", "Built"):
        assert stamp not in title_block
    appendix = " ".join(doc.xpath("string(//section[@id='appendix'])").split())
    assert f"Built 2024-05-17 09:30 UTC from cohort.xlsx (SHA-256 {sha256[:12]}…) with reportgen" in appendix
    with pikepdf.open(build_folder / "report.pdf") as pdf:
        subject = str(pdf.docinfo["/Subject"])
        described = pdf.open_metadata().get("dc:description")
    assert subject == described == f"Built 2024-05-17 09:30 UTC from cohort.xlsx (SHA-256 {sha256}) with reportgen 0.1.0"


def test_journal_figure_files_at_column_width_600_dpi_with_fonts_embedded(build_folder: Path) -> None:
    from PIL import Image

    from reportgen.figures import DOUBLE_COLUMN_MM, SINGLE_COLUMN_MM

    # Three panels, and the flow diagram's four groups side by side, need the double column.
    widths = {1: DOUBLE_COLUMN_MM, 2: SINGLE_COLUMN_MM, 3: SINGLE_COLUMN_MM, 4: DOUBLE_COLUMN_MM}
    manifest = json.loads((build_folder / "manifest.json").read_bytes())
    for number, millimetres in widths.items():
        stem = build_folder / "figures" / f"figure{number}"
        pixels = round(millimetres / 25.4 * 600)
        for suffix, compression in (("tiff", "tiff_lzw"), ("png", None)):
            with Image.open(stem.with_suffix(f".{suffix}")) as image:
                assert image.mode == "RGB" and abs(image.width - pixels) <= 1
                assert [round(value) for value in image.info["dpi"]] == [600, 600]
                assert image.info.get("compression") == compression
            assert f"figures/figure{number}.{suffix}" in manifest["files"]
        with pikepdf.open(stem.with_suffix(".pdf")) as pdf:
            (page,) = pdf.pages
            assert abs(float(page.MediaBox[2]) - millimetres / 25.4 * 72) < 0.5
            fonts = list(page.Resources.Font.values())
            assert fonts and all(font.Subtype == "/Type3" and "/CharProcs" in font for font in fonts)  # glyphs inside
            assert "/CreationDate" not in pdf.docinfo and "/Producer" not in pdf.docinfo


@pytest.fixture(scope="module")
def draft_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example as a draft, PDF only, through the command line in its own process: (folder, its stderr)."""
    out = tmp_path_factory.mktemp("draft") / "output"
    command = [sys.executable, "-m", "reportgen", "build", str(COHORT), "--out", str(out), "--draft", "--formats", "pdf"]
    done = subprocess.run(command, env={**os.environ, "SOURCE_DATE_EPOCH": "1715938200"}, capture_output=True, text=True, check=True)
    return Path(done.stdout.strip()), done.stderr


@pytest.mark.slow  # a second full build of the example; runs with `make test-all`
def test_draft_has_its_header_on_every_page_and_only_the_chosen_formats(draft_build: tuple[Path, str]) -> None:
    from reportgen.document import DRAFT_HEADER

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; `make test` installs it")
    folder, _ = draft_build
    pdf = folder / "report.pdf"
    with pikepdf.open(pdf) as document:
        pages = len(document.pages)
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, check=True).stdout
        assert text.decode("utf-8").count(DRAFT_HEADER) == 1, f"page {page}"
    written = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    assert "report.html" not in written and not any(re.fullmatch(r"figures/figure\d+\.(pdf|tiff|png)", name) for name in written)
    assert {"report.pdf", "results.json", "abstract.txt", "figures/figure1-activity.svg"} <= written
    assert json.loads((folder / "manifest.json").read_bytes())["options"] == {"formats": ["pdf"], "draft": True}


def test_build_prints_the_abstracts_character_counts(draft_build: tuple[Path, str]) -> None:
    from reportgen.narrative import abstract_counts

    folder, stderr = draft_build
    counts = abstract_counts((folder / "abstract.txt").read_text(encoding="utf-8"))
    assert f"abstract.txt: {counts.sentence()}" in stderr
    assert f"{counts.with_headings} characters with spaces" in stderr


@pytest.mark.slow  # a second full build of the example; runs with `make test-all`
def test_verify_rebuilds_a_draft_with_its_formats(draft_build: tuple[Path, str]) -> None:
    assert main(["verify", str(draft_build[0])]) == 0
