"""Rendered HTML: numbers equal the Results after half-up rounding, decimal comma, hostile text inert,
templates strict and overridable, and nothing the page would fetch."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import lxml.html
import pytest
from report_fixtures import (
    HOSTILE,
    fake_figures,
    hostile_inputs,
    make_derived,
    make_info,
    make_patients,
    make_published,
    make_results,
    make_study,
    make_warnings,
)

from reportgen.errors import BuildError
from reportgen.formatting import Formatter
from reportgen.model import CarriedForward, Problem, RenderedReport, Results, StudyOptions, TestName
from reportgen import model
from reportgen.document import csv_cell, listing_files
from reportgen.exporters.html import STYLESHEET, render_report
from reportgen.resources import templates_dir
from reportgen.stylesheet import table_layout


# The EULAR table follows the outcomes (2), the sensitivity analyses (3) and the primary outcome's pairs (4).
EULAR_TABLE = "table-5"


def render(results: Results | None = None, *, published=None, templates: Path | None = None, **changes) -> RenderedReport:
    results = results or make_results()
    arguments = dict(
        results=results,
        figures=fake_figures(),
        published=published,
        info=make_info(),
        warnings=make_warnings(),
        formatter=Formatter.for_study(results.study),
        templates=templates,
    )
    arguments.update(changes)
    return render_report(**arguments)


def half_up(value: float, decimals: int) -> str:
    """An independent rounding for the checks: Decimal of the shortest repr, half up."""
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def cells(html: str, table_id: str) -> list[list[str]]:
    document = lxml.html.fromstring(html)
    rows = document.xpath(f'//div[@id="{table_id}"]//tbody/tr')
    return [[cell.text_content() for cell in row.xpath("./th|./td")] for row in rows]


@pytest.fixture(scope="module")
def report() -> RenderedReport:
    return render(published=make_published())


def test_table_2_numbers_equal_the_results(report: RenderedReport) -> None:
    results = make_results()
    decimals = {"das28_esr": 2, "cdai": 2, "sdai": 2, "sjc28": 2, "tjc28": 2, "esr_mm_h": 1, "crp_mg_l": 2}
    rows = cells(report.html, "table-2")
    # Each measure: its row, then a row with its effect size and the Q4 - Q1 shift, each with its 95% CI.
    assert len(rows) == 2 * len(results.outcomes)
    for row, estimates_row, outcome in zip(rows[::2], rows[1::2], results.outcomes):
        d = decimals[outcome.variable]

        def span(interval) -> str:
            low, high = half_up(interval.lower, d), half_up(interval.upper, d)
            return f"({low}; {high})" if "-" in low + high else f"({low}–{high})"

        for cell, summary in zip(row[1:6], (outcome.overall, *outcome.groups)):
            mean_sd = f"{half_up(summary.mean, d)}\u00a0±\u00a0{half_up(summary.sd, d)}"
            median = f"{half_up(summary.median, d)} [{half_up(summary.q1, d)}–{half_up(summary.q3, d)}]"
            median_ci = span(summary.median_ci) if summary.median_ci.lower is not None else "(–)"
            assert cell == (mean_sd + span(summary.mean_ci) + median + median_ci).replace("-", "−")
        p, holm = outcome.test.p_value, outcome.p_holm
        # The p (with its footnote letter), and below it the Holm-adjusted p.
        written = [("<0.001" if value < 0.001 else half_up(value, 3)) for value in (p, holm)]
        assert re.fullmatch(re.escape(written[0]) + "[ab]?" + re.escape(written[1]), row[6]), row[6]
        effect, shift = outcome.test.effect_size_ci, outcome.difference
        expected = (
            f"ε² {half_up(outcome.test.effect_size, 2)} (95%\u00a0CI {half_up(effect.lower, 2)} to {half_up(effect.upper, 2)}); "
            f"Q4 − Q1 shift {half_up(shift.estimate, d)} (95%\u00a0CI {half_up(shift.ci.lower, d)} to {half_up(shift.ci.upper, d)})"
        )
        assert estimates_row == ["", expected.replace("-", "−")]


def test_table_3_counts_and_both_percentage_views(report: RenderedReport) -> None:
    rows = cells(report.html, EULAR_TABLE)
    body = [r for r in rows if len(r) > 1]
    # none, % of quartile, each with its Wilson 95% CI (4/8: 21.5-78.5 %, 1/7: 2.6-51.3 %, 1/8: 2.2-47.1 %, 0/10: 0-27.8 %)
    assert body[0][2:] == ["4 (50.0)(21.5–78.5)", "1 (14.3)(2.6–51.3)", "1 (12.5)(2.2–47.1)", "0 (0.0)(0.0–27.8)"]
    assert body[5][2:] == ["1 (5.3)", "6 (31.6)", "3 (15.8)", "9 (47.4)"]  # good, % of response (abstract layout)
    notes = lxml.html.fromstring(report.html).xpath(f'//div[@id="{EULAR_TABLE}"]//div[@class="table-notes"]')[0].text_content()
    assert "Pearson χ² test" in notes and "p\u00a0=\u00a00.006" in notes
    assert "its 95%\u00a0CI (Wilson score interval)" in notes and "Cramér’s V = 0.52 (95%\u00a0CI " in notes


def test_table_3_gives_the_linear_by_linear_trend_beside_the_omnibus_test() -> None:
    results = make_results()
    trend = model.TestResult(test=TestName.LINEAR_BY_LINEAR, statistic=8.388, p_value=0.00378, df=1.0, effect_size_name="pearson-r", effect_size=0.512)
    html = render(results=replace(results, eular_response=replace(results.eular_response, trend=trend))).html
    notes = _table_notes(html, _table_titled(html, "Table", "EULAR response at month 12 by"))
    assert (
        "Linear-by-linear association test across the ordered groups and responses (none < moderate < good): "
        "M² = 8.39; df = 1; p\u00a0=\u00a00.004; r = 0.51." in notes
    )
    assert "Linear-by-linear" not in lxml.html.fromstring(render(results=results).html).xpath('//div[@id="table-3"]')[0].text_content()


def _with_adjusted(results: Results) -> Results:
    """Every outcome with an adjusted estimate; the second one not estimated."""
    outcomes = []
    for i, outcome in enumerate(results.outcomes):
        ci = model.ConfidenceInterval(0.95, model.IntervalMethod.OLS_T, -0.4660 - i, -0.1291 - i)
        adjusted = model.AdjustedEstimate(
            beta=-0.29755 - i, ci=ci, p_value=0.00111, covariates=("x_baseline", "ln(esr_mm_h_baseline)"),
            covariate_labels=("baseline x", "ln baseline ESR"), n=33 - i, df=30 - i, level_not_positive=2,
        )  # fmt: skip
        if i == 1:
            adjusted = replace(adjusted, beta=None, p_value=None, ci=replace(ci, lower=None, upper=None), not_estimated="too few")
        outcomes.append(replace(outcome, adjusted=adjusted))
    return replace(results, outcomes=tuple(outcomes))


def test_the_adjusted_table_gives_each_estimate_with_its_interval() -> None:
    results = _with_adjusted(make_results())
    html = render(results=results).html
    adjusted_table = _table_titled(html, "Table", "Association of the trough level")
    rows = cells(html, adjusted_table)
    assert len(rows) == len(results.outcomes)
    first = results.outcomes[0]
    assert rows[0] == [first.label, "33", "\u22120.30 (\u22120.47 to \u22120.13)", "0.001"]
    assert rows[1][2:] == ["\u2013a", "\u2013"]
    document = lxml.html.fromstring(html)
    notes = document.xpath(f'//div[@id="{adjusted_table}"]//div[@class="table-notes"]')[0].text_content()
    assert "log2 of the trough level, adjusted for the same measure at baseline" in notes
    assert "and for ln baseline ESR;" in notes and "per doubling" in notes
    assert "2 patients with a trough level of 0 were left out, since 0 cannot be logged" in notes
    assert f"{results.outcomes[1].label}: not estimated: too few." in notes
    assert f"Table {adjusted_table.split('-')[1]} gives each measure" in html and "association with the trough level itself" in html
    assert "Association of the trough level" not in render(results=make_results()).html  # no estimates, no table


def test_stratum_headers_and_accessible_tables(report: RenderedReport) -> None:
    document = lxml.html.fromstring(report.html)
    for table in document.xpath("//table"):
        assert table.xpath("./caption")
        assert all(th.get("scope") in {"col", "row", "colgroup"} for th in table.xpath(".//th"))
    head = document.xpath('//div[@id="table-1"]//thead')[0].text_content()
    assert "< 4.20" in head and "4.20–11.30" in head and "> 18.50" in head and "n = 10" in head
    # The closed side is said once, in the notes: a level at a cut point counts in the lower group.
    for block in document.xpath('//div[starts-with(@id, "table-")]'):  # every table with the groups' ranges
        if "Trough-level group (µg/mL)" in block.text_content():
            assert "a level exactly at a cut point counts in the lower group (4.20 µg/mL in Q1)" in block.text_content()


def test_title_block_and_metadata(report: RenderedReport) -> None:
    document = lxml.html.fromstring(report.html)
    meta = {m.get("name"): m.get("content") for m in document.xpath("//meta[@name]")}
    assert meta["dcterms.created"] == meta["dcterms.modified"] == "2024-05-17T09:30:00Z"
    assert meta["author"] == make_study().authors
    assert document.xpath("//title")[0].text == make_study().title
    # The submission view: the build stamp, checksum and software line are in the appendix, not the title block.
    title = document.xpath('//header[@class="title-block"]')[0].text_content()
    assert "cohort.xlsx" not in title and "3f7a1c2b9d8e" not in title and "0.1.0" not in title
    appendix = document.xpath('//section[@id="appendix"]')[0].text_content()
    assert "cohort.xlsx" in appendix and "3f7a1c2b9d8e" in appendix and "3f7a1c2b9d8e4" not in appendix and "0.1.0" in appendix
    # A draft shows them in the title block too.
    draft = lxml.html.fromstring(render(draft=True).html)
    title = draft.xpath('//header[@class="title-block"]')[0].text_content()
    assert "cohort.xlsx" in title and "3f7a1c2b9d8e" in title and "3f7a1c2b9d8e4" not in title and "0.1.0" in title
    for heading in ("Abstract", "Methods", "Results", "Conclusions", "Published vs reproduced", "Appendix"):
        assert heading in [h.text_content() for h in document.xpath("//h2")]


def test_published_section_only_with_a_check(report: RenderedReport) -> None:
    assert 'id="published"' in report.html and "mismatch" in report.html
    assert 'id="published"' not in render().html


def test_decimal_comma_leaves_no_decimal_point_in_numbers() -> None:
    results = make_results(study=make_study(decimal_separator=","))
    html = render(results, published=None).html
    document = lxml.html.fromstring(html)
    for node in document.xpath('//*[@id="appendix"]|//dl[@class="provenance"]|//style|//svg'):
        node.getparent().remove(node)  # version numbers are not measurements
    text = document.text_content()
    assert not re.findall(r"\d\.\d", text)
    assert "24,2" in text and "p\u00a0=\u00a00,006" in text


def test_hostile_workbook_text_stays_inert() -> None:
    results, _derived, info, warnings = hostile_inputs()
    html = render(results, info=info, warnings=warnings).html
    document = lxml.html.fromstring(html)
    assert not document.xpath("//script|//img|//link|//iframe|//object|//embed")
    text = document.text_content()
    for hostile in HOSTILE:
        assert hostile in text  # shown as text, exactly
    assert "{{ 7*7 }}" in text and ">49<" not in html
    assert "<script>" not in html and "<img src=http" not in html and "<link rel=attachment" not in html
    style = "".join(document.xpath("//style/text()"))
    assert "evil.example" not in style
    for element in document.iter():
        for name, value in element.attrib.items():
            if name != "content":  # <meta name="author" content="..."> carries the (escaped) authors
                assert "evil.example" not in value



BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_overrides_and_controls_from_the_workbook_are_printed_as_escapes() -> None:
    """A U+202E in a file name would show 'cohortxslx.exe' as 'cohortexe.xlsx'; every one is written as \\u202e."""
    frame = make_patients()
    frame["patient_id"] = [f"P{i}\u202e{i}" for i in range(len(frame))]
    study = make_study(title="Cohort \u202eydutS", authors="A.\u2067 Rossi", institution="City\u202d Hospital")
    results = make_results(frame, study)
    results = replace(
        results, carried_forward=tuple(replace(c, withdrawal_reason="moved\u202e away") for c in results.carried_forward)
    )
    info = replace(make_info(), source_name="cohort\u202exslx.exe.xlsx")
    # Validation refuses control characters; a warning naming an extra column may still hold one.
    warnings = (Problem(sheet="visits", row=1, column="x\x1b[2J", value=None, rule="the column x\x1b[2J is not part of it", severity="warning"),)
    report = render(results, info=info, warnings=warnings)
    assert not [char for char in BIDI + "\x1b" if char in report.html or char in report.abstract_text]
    text = lxml.html.fromstring(report.html).text_content()
    for shown in ("cohort\\u202exslx.exe.xlsx", "Cohort \\u202eydutS", "A.\\u2067 Rossi", "City\\u202d Hospital", "moved\\u202e away", "x\\x1b[2J"):
        assert shown in text, shown
    carried = results.carried_forward[0].patient_id
    assert "\u202e" in carried and carried.replace("\u202e", "\\u202e") in text
    assert "Cohort \\u202eydutS" in report.abstract_text
    assert "moved\\u202e away" in listing_files(warnings, results.carried_forward)["carried-forward.csv"].decode("utf-8-sig")


def test_no_external_reference_of_any_kind() -> None:
    from reportgen.figures import make_figures

    results = make_results()
    html = render(results, figures=make_figures(make_derived(), results, Formatter("."))).html
    namespaces = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert set(re.findall(r"https?://[^\"'\s)<>]+", html)) <= namespaces
    for value in re.findall(r'\b(?:src|href|xlink:href)\s*=\s*"([^"]*)"', html):
        assert value.startswith(("data:", "#")), value
    for value in re.findall(r"url\(([^)]*)\)", html):
        assert value.strip("'\"").startswith(("data:", "#")), value[:40]
    assert "@import" not in html and "file:" not in html


def test_long_carried_forward_lists_are_summarised() -> None:
    results = make_results()
    many = tuple(CarriedForward(patient_id=f"X{i}", from_month=3 + 3 * (i % 3), withdrawal_reason="inefficacy") for i in range(51))
    html = render(replace(results, carried_forward=many)).html
    appendix = lxml.html.fromstring(html).xpath('//*[@id="appendix"]')[0].text_content()
    assert "51 patients carried forward" in appendix and "results.json" in appendix and "X50" not in appendix
    short = lxml.html.fromstring(render(results).html).xpath('//*[@id="appendix"]')[0].text_content()
    assert "P003" in short and "adverse event" in short


def test_long_warning_lists_are_cut_with_a_pointer_to_the_csv() -> None:
    many = tuple(Problem(sheet="patients", row=i + 2, column="age", value=str(91 + i % 5), rule="age above 90", severity="warning") for i in range(1969))
    appendix = lxml.html.fromstring(render(warnings=many).html).xpath('//*[@id="appendix"]')[0]
    assert len(appendix.xpath('.//ul[@class="warnings"]/li')) == 20
    text = appendix.text_content()
    assert "… and 1949 more; the full list is in warnings.csv" in text and "row 21," in text and "row 22," not in text
    few = lxml.html.fromstring(render().html).xpath('//*[@id="appendix"]')[0].text_content()
    assert "esr_mm_h" in few and "more; the full list" not in few


def test_carried_forward_table_is_cut_at_50_with_a_pointer_to_the_csv() -> None:
    many = tuple(CarriedForward(patient_id=f"X{i}", from_month=3, withdrawal_reason=None) for i in range(120))
    appendix = lxml.html.fromstring(render(replace(make_results(), carried_forward=many)).html).xpath('//*[@id="appendix"]')[0]
    assert len(appendix.xpath('.//div[@id="table-carried-forward"]//tbody/tr')) == 50
    assert "… and 70 more; the full list is in carried-forward.csv" in appendix.text_content()


def test_full_lists_are_csv_files_with_formulas_neutralised() -> None:
    warnings = (
        *make_warnings(),
        Problem(sheet="visits", row=None, column=None, value='=HYPERLINK("http://evil.example","x")', rule="+1 odd", severity="warning"),
    )
    carried = (
        CarriedForward(patient_id="@SUM(A1)", from_month=6, withdrawal_reason="-2+3"),
        CarriedForward(patient_id="P, \"quoted\"", from_month=0, withdrawal_reason=None),
    )
    files = listing_files(warnings, carried)
    assert files == listing_files(warnings, carried)  # deterministic bytes
    assert set(files) == {"warnings.csv", "carried-forward.csv"}
    import csv
    import io

    def rows(name: str) -> list[list[str]]:
        assert files[name].startswith(b"\xef\xbb\xbf") and b"\r\n" in files[name]
        return list(csv.reader(io.StringIO(files[name].decode("utf-8-sig"), newline="")))

    assert rows("warnings.csv") == [
        ["sheet", "row", "column", "value", "rule", "severity"],
        ["visits", "14", "esr_mm_h", "135", "ESR above 120 mm/h is unusual", "warning"],
        ["visits", "", "", '\'=HYPERLINK("http://evil.example","x")', "\'+1 odd", "warning"],
    ]
    assert rows("carried-forward.csv") == [
        ["patient_id", "from_month", "withdrawal_reason"],
        ["\'@SUM(A1)", "6", "\'-2+3"],
        ['P, "quoted"', "0", ""],
    ]
    assert listing_files((), ())["warnings.csv"] == b"\xef\xbb\xbfsheet,row,column,value,rule,severity\r\n"
    assert [csv_cell(v) for v in (None, 3, "\tx", "ok")] == ["", "3", "\'\tx", "ok"]


@pytest.mark.parametrize(
    "text",
    [" =1+1", "  +1", "\u00a0-2", "\u3000@SUM(A1)", "\n=1", "\r=1", "\t=1",
     '＝HYPERLINK("http://evil.example")', "＋1", "－1", "＠SUM(A1)", " ＝1", "﹦1", "﹢1", "﹣1", "﹫x"],
)
def test_csv_cells_starting_like_a_formula_after_white_space_or_in_full_width_are_text(text: str) -> None:
    # Issue #15 item 14d: OWASP CSV injection; leading white space and full-width '＝' slipped through.
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["ok", " ok", "P-01", "a=b", "", "   ", "−3", "＃1"])
def test_csv_cells_not_starting_like_a_formula_are_kept_as_they_are(text: str) -> None:
    assert csv_cell(text) == text


def test_quartile_tables_give_column_widths_for_a_fixed_layout(report: RenderedReport) -> None:
    document = lxml.html.fromstring(report.html)
    for table_id in ("table-1", "table-2", EULAR_TABLE):
        table = document.xpath(f'//div[@id="{table_id}"]/table')[0]
        widths = [col.get("style") for col in table.xpath("./colgroup/col")]
        assert table.get("class") == "fixed" and widths[0] is None and len(widths) == 2 + 4 + (table_id != EULAR_TABLE) + (table_id == "table-2")
        millimetres = [float(re.fullmatch(r"width: ([0-9.]+)mm", width).group(1)) for width in widths[1:]]
        assert 80 < sum(millimetres) < 166 - 12  # the stub keeps at least 12 mm of the 166 mm text width


def test_decision_records_are_on_screen_and_named_in_print(report: RenderedReport) -> None:
    appendix = lxml.html.fromstring(report.html).xpath('//*[@id="appendix"]')[0]
    assert appendix.xpath('.//div[@id="table-decisions"]//tbody/tr')
    note = appendix.xpath('.//p[@class="print-only"]')[0].text_content()
    assert "report.html" in note and "results.json" in note
    assert re.search(r"@media print \{\s*\.decisions \{ display: none; \}", report.html)


def test_appendix_says_what_the_pdf_embeds() -> None:
    def files(**changes) -> str:
        return lxml.html.fromstring(render(**changes).html).xpath('//*[@id="appendix"]')[0].text_content()

    without_word = frozenset({"html", "pdf"})
    assert "embeds the workbook, cohort.xlsx, and results.json as attachments" in files(source_bytes=14_000, formats=without_word)
    large = files(source_bytes=29_900_000, formats=without_word)
    assert "(29.9 MB), is larger than the 2 MB the PDF embeds" in large and "source-reference.json" in large
    assert "warnings.csv" in large and "carried-forward.csv" in large
    # With the Word file (issue 14): beside the report, and attached to the PDF.
    word = files(source_bytes=14_000)
    assert "embeds the workbook, cohort.xlsx, results.json and report.docx as attachments" in word
    assert "report.docx (the report as an editable Word document)" in word
    assert "with results.json and report.docx." in files(source_bytes=29_900_000)


def test_abstract_text_is_returned(report: RenderedReport) -> None:
    assert report.abstract_text.startswith(make_study().title + "\n\nBackground: ")


def test_user_templates_override_and_fall_back(tmp_path: Path) -> None:
    (tmp_path / "report.css").write_text("body { color: rebeccapurple; }")
    html = render(templates=tmp_path).html
    assert "rebeccapurple" in html and "Table 1." in html  # the built-in report.html.j2 still used
    (tmp_path / "report.html.j2").write_text("<p>{{ report.title.title }} {{ report.conclusions | length }}</p>")
    assert render(templates=tmp_path).html.startswith("<p>Tocilizumab")


def test_strict_undefined_names_the_mistake(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("{{ report.no_such_thing }}")
    with pytest.raises(BuildError, match="no_such_thing"):
        render(templates=tmp_path)


@pytest.mark.parametrize("name", ["../secret.txt", "../../etc/passwd", "/etc/passwd"])
def test_templates_cannot_read_outside_their_folders(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (folder / "report.html.j2").write_text(f'{{% include "{name}" %}}')
    with pytest.raises(BuildError):
        render(templates=folder)


@pytest.mark.parametrize("link", ["file", "folder", "template itself"])
def test_templates_cannot_follow_symlinks_out_of_their_folder(tmp_path: Path, link: str) -> None:
    # Issue #15 item 3: a symlink inside --templates (to a file, or to a folder) put /etc/passwd into the report.
    folder = tmp_path / "templates"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET")
    if link == "file":
        (folder / "passwd.j2").symlink_to(outside / "secret.txt")
        (folder / "report.html.j2").write_text("{% include 'passwd.j2' %}")
    elif link == "folder":
        (folder / "etc").symlink_to(outside, target_is_directory=True)
        (folder / "report.html.j2").write_text("{% include 'etc/secret.txt' %}")
    else:
        (outside / "report.html.j2").write_text("TOP SECRET")
        (folder / "report.html.j2").symlink_to(outside / "report.html.j2")
    with pytest.raises(BuildError, match="leads outside that folder"):
        render(templates=folder)


def test_templates_may_link_inside_their_folder_and_the_folder_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "parts").mkdir(parents=True)
    (real / "parts" / "body.j2").write_text("{{ report.title.title }}")
    (real / "body.j2").symlink_to(real / "parts" / "body.j2")
    (real / "report.html.j2").write_text("<p>{% include 'body.j2' %}</p>")
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert render(templates=tmp_path / "link").html.startswith("<p>Tocilizumab")


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("{{ report.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}")
    with pytest.raises(BuildError):
        render(templates=tmp_path)


def test_autoescape_covers_j2_templates(tmp_path: Path) -> None:
    (tmp_path / "report.html.j2").write_text("{{ report.title.title }}")
    results = make_results(study=make_study(title="<b>x</b>"))
    assert render(results, templates=tmp_path).html == "&lt;b&gt;x&lt;/b&gt;"


# --- column widths from the active report.css -------------------------------------------------------


def _table_widths(html: str) -> dict[str, list[str]]:
    """Column widths of each numbered table, by table id ('' for the stub column)."""
    document = lxml.html.fromstring(html)
    return {
        block.get("id"): [col.get("style", "") for col in block.xpath(".//colgroup/col")]
        for block in document.xpath('//*[starts-with(@id, "table-") and .//colgroup]')
        if block.get("id")[-1].isdigit()
    }


def _override(folder: Path, *changes: tuple[str, str]) -> Path:
    css = (templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    for old, new in changes:
        assert old in css
        css = css.replace(old, new)
    (folder / STYLESHEET).write_text(css, encoding="utf-8")
    return folder


def test_the_shipped_stylesheet_holds_the_layout_numbers() -> None:
    layout = table_layout((templates_dir() / STYLESHEET).read_text(encoding="utf-8"))
    assert layout is not None and layout.width_mm == 210 - 22 - 22  # A4 less the page margins
    assert (layout.normal.cell_pt, layout.normal.padding_mm, layout.compact.cell_pt, layout.compact.padding_mm) == (8.6, 1.6, 8.0, 1.2)
    assert layout.compact.classes == "compact" and layout.normal.classes == ""
    assert layout.wide_width_mm == 297 - 22 - 22  # tables too wide for the portrait page get a landscape one


def test_a_templates_css_with_another_type_size_changes_the_column_widths(tmp_path: Path) -> None:
    shipped = _table_widths(render().html)
    assert shipped["table-1"][1] == "width: 25.7mm"
    smaller_type = (("font-size: 8.6pt;", "font-size: 7.6pt;"), (".line { display: block; font-size: 7.6pt;", ".line { display: block; font-size: 6.6pt;"))
    smaller = _table_widths(render(templates=_override(tmp_path, *smaller_type)).html)
    assert float(smaller["table-1"][1].removeprefix("width: ").removesuffix("mm")) < 25.7


def test_a_templates_css_with_a_narrower_page_is_honoured(tmp_path: Path) -> None:
    html = render().html
    assert "table-2" in _table_widths(html)
    # With 60 mm margins the page holds 90 mm: too narrow for Table 2's columns, which keep the automatic layout.
    narrow_pages = (("margin: 22mm 22mm 24mm 22mm;", "margin: 22mm 60mm 24mm 60mm;"), ("@page wide { size: A4 landscape; }", "@page wide { size: A4; }"))
    narrow = render(templates=_override(tmp_path, *narrow_pages)).html
    assert "table-2" not in _table_widths(narrow)


def test_a_stylesheet_without_the_numbers_leaves_tables_to_the_automatic_layout(tmp_path: Path) -> None:
    (tmp_path / STYLESHEET).write_text("body { font-family: serif; }\n", encoding="utf-8")
    assert table_layout("body { font-family: serif; }") is None
    assert _table_widths(render(templates=tmp_path).html) == {}
    assert table_layout("@page { size: A4; margin: 1em } table { font-size: 8pt }") is None  # not absolute


# --- wording defects found by a statistical reviewer (issue #13 item 9) -------------------------------


def _table_notes(html: str, table_id: str) -> str:
    return lxml.html.fromstring(html).xpath(f'//div[@id="{table_id}"]//div[@class="table-notes"]')[0].text_content()


def test_prior_biologics_a_small_count_is_median_iqr_only(report: RenderedReport) -> None:
    results = make_results()
    biologics = next(c for c in results.baseline if c.variable == "prior_biologics")
    row = next(r for r in cells(report.html, "table-1") if r[0].startswith("Prior biologics"))
    assert row[0] == "Prior biologics (n), median [IQR]"
    formatter = Formatter(".")
    assert row[1:6] == [formatter.median_iqr(s, "prior_biologics") for s in (biologics.overall, *biologics.groups)]
    assert all("±" not in cell for cell in row)
    age = next(r for r in cells(report.html, "table-1") if r[0].startswith("Age"))
    assert "±" in age[1]  # other continuous rows keep mean ± SD with the median below


def test_table_1_note_agrees_with_its_count_and_says_nothing_of_zero(report: RenderedReport) -> None:
    results = make_results()
    one = replace(results, cohort=replace(results.cohort, n_no_level=1))
    assert "1 patient without a trough level appears under All patients only." in _table_notes(render(one).html, "table-1")
    none = replace(results, cohort=replace(results.cohort, n_no_level=0))
    note = _table_notes(render(none).html, "table-1")
    assert "Group columns hold the analysed patients." in note and "0 patients" not in note


def test_table_3_lower_block_counts_only_the_analysed_patients(report: RenderedReport) -> None:
    rows = [r for r in cells(report.html, EULAR_TABLE) if len(r) > 1]
    eular = make_results().eular_response
    lower = rows[len(eular.categories):]
    for row, category, counts in zip(lower, eular.categories, eular.counts):
        assert row[0] == f"{category.capitalize()}{sum(counts)} analysed"
        assert row[1] == ""  # the All patients column holds no number in the analysed-only block
    headers = lxml.html.fromstring(report.html).xpath(f'//div[@id="{EULAR_TABLE}"]//tbody//th[@scope="colgroup"]')
    assert headers[1].text_content().startswith("Analysed patients, n (% of response category)")


def test_a_categorical_test_not_computed_says_why_in_the_table_note() -> None:
    results = make_results()
    test = replace(results.eular_response.test, p_value=None, statistic=None, df=None, effect_size=None, not_tested="all values are equal")
    html = render(replace(results, eular_response=replace(results.eular_response, test=test))).html
    note = _table_notes(html, EULAR_TABLE)
    assert "not tested: all values are equal" in note and "p\u00a0=\u00a0\u2013" not in note


def test_a_p_cell_of_a_test_not_computed_has_a_footnote_saying_why() -> None:
    results = make_results()
    crp = next(o for o in results.outcomes if o.variable == "crp_mg_l")
    test = replace(crp.test, p_value=None, statistic=None, not_tested="all values are equal")
    outcomes = tuple(replace(o, test=test) if o is crp else o for o in results.outcomes)
    html = render(replace(results, outcomes=outcomes)).html
    row = next(r for r in cells(html, "table-2") if r[0].startswith("CRP"))
    assert row[6] == "\u2013c"
    assert "c Kruskal–Wallis test across groups, not tested: all values are equal." in _table_notes(html, "table-2")


# --- k groups (issue #12) -----------------------------------------------------------------------------


def _grouped_results(study: StudyOptions) -> Results:
    from reportgen.analysis import analyse
    from reportgen.derive import derive
    from tests.cohorts import random_cohort

    return analyse(derive(random_cohort(5, 60, study=study)), study)


@pytest.mark.parametrize(
    ("study", "labels", "word"),
    [
        (StudyOptions(grouping="halves"), ["H1", "H2"], "half"),
        (StudyOptions(grouping="tertiles", group_labels=("low", "middle", "high")), ["low", "middle", "high"], "tertile"),
        (StudyOptions(grouping="quintiles"), ["Q1", "Q2", "Q3", "Q4", "Q5"], "quintile"),
        (StudyOptions(cut_points=(1.0, 3.0, 6.0, 10.0, 20.0)), ["G1", "G2", "G3", "G4", "G5", "G6"], "group"),
    ],
)
def test_tables_have_a_column_per_group_named_by_the_design_and_fit_the_page(study: StudyOptions, labels: list[str], word: str) -> None:
    results = _grouped_results(study)
    html = render(results).html
    document = lxml.html.fromstring(html)
    by_group = ("table-1", "table-2", _table_titled(html, "Table", "EULAR response at month 12 by"))
    for table_id in by_group:
        head = document.xpath(f'//div[@id="{table_id}"]//thead/tr')
        columns = [th.text_content() for th in head[1].xpath("./th")]
        assert len(columns) == len(labels) and all(column.startswith(label) for column, label in zip(columns, labels))
        assert f"Trough-level {word} (µg/mL)" in head[0].text_content()
    widths = _table_widths(html)
    assert all(table_id in widths for table_id in by_group)  # fixed layout: fits the page
    words = re.sub(r"interquartile", "", document.text_content())
    assert ("quartile" in words) == (word == "quartile")  # the word appears only when the groups are quartiles


def test_ranges_are_written_as_clinicians_write_them() -> None:
    results = _grouped_results(StudyOptions(cut_points=(5.0, 8.0), group_labels=("sub", "thera", "supra")))
    head = lxml.html.fromstring(render(results).html).xpath('//div[@id="table-2"]//thead/tr')[1].text_content()
    assert "sub< 5.00" in head and "thera5.00–8.00" in head and "supra> 8.00" in head


def test_an_empty_group_is_said_plainly() -> None:
    results = _grouped_results(StudyOptions(cut_points=(5.0, 8.0, 1000.0)))
    assert results.strata[-1].n == 0
    report = render(results)
    text = " ".join(lxml.html.fromstring(report.html).text_content().split())
    assert "No analysed patient had a level in G4 (> 1000.00 µg/mL): it is empty and is left out of every test." in text
    assert not re.search(r"\b0 to \d+ patients", text) and "0 patients per" not in text



# --- primary outcome, sensitivity analyses, pairwise comparisons (issue #13 items 2, 3, 5) -------------


def _table_titled(html: str, starts: str, contains: str = "") -> str:
    """The id of the one table of the Results whose caption starts with ``starts`` and contains ``contains``."""
    (found,) = [table_id for table_id, caption in _captions(html) if caption.startswith(starts) and contains in caption]
    return found


def _captions(html: str) -> list[tuple[str, str]]:
    document = lxml.html.fromstring(html)
    return [
        (block.get("id"), block.xpath("./table/caption")[0].text_content())
        for block in document.xpath('//section[@id="results"]//div[contains(@class, "table-block")]')
    ]


def test_the_sensitivity_table_follows_the_primary_result_then_the_pairs_then_eular(report: RenderedReport) -> None:
    captions = _captions(report.html)
    assert [table_id for table_id, _ in captions][:5] == ["table-1", "table-2", "table-3", "table-4", EULAR_TABLE]
    assert captions[2][1] == "Table 3. Sensitivity analyses of the primary outcome (DAS28-ESR) and EULAR response at month 12"
    assert captions[3][1].startswith("Table 4. Pairwise comparisons of DAS28-ESR at month 12")
    assert captions[4][1].startswith("Table 5. EULAR response")
    intro = lxml.html.fromstring(report.html).xpath('//section[@id="results"]/p')[0].text_content()
    assert "Table 3 the sensitivity analyses of the primary outcome, DAS28-ESR, and of EULAR response" in intro
    assert "Table 4 the pairwise comparisons of DAS28-ESR" in intro and "Table 5 and Figure 3 the EULAR response" in intro


def test_the_sensitivity_table_shows_n_estimate_with_its_interval_and_p(report: RenderedReport) -> None:
    results = make_results()
    rows = [r for r in cells(report.html, "table-3") if len(r) > 1]
    assert len(rows) == len(results.sensitivity)
    names = {
        "locf": "Last observation carried forward (primary analysis)", "completers": "Completers only",
        "nri": "Withdrawals as non-responders", "sample-quantiles": "The data's own quantile groups",
    }  # fmt: skip
    by_outcome = sorted(results.sensitivity, key=lambda row: row.outcome != "das28_esr")  # one block per outcome
    for row, sensitivity in zip(rows, by_outcome):
        assert row[0] == names[sensitivity.analysis]
        assert row[1] == str(sensitivity.n)
        scale, decimals = (1, 2) if sensitivity.outcome == "das28_esr" else (100, 1)
        written = [half_up(scale * value, decimals).replace("-", "\u2212") for value in (sensitivity.estimate, sensitivity.ci.lower, sensitivity.ci.upper)]
        assert row[2] == f"{written[0]}{written[1]} to {written[2]}"
        p = sensitivity.test.p_value
        assert row[3] == ("<0.001" if p < 0.001 else half_up(p, 3))
    groups = lxml.html.fromstring(report.html).xpath('//div[@id="table-3"]//tbody//th[@scope="colgroup"]')
    assert [g.text_content() for g in groups] == [
        "DAS28-ESR: Hodges–Lehmann difference Q4 − Q1", "EULAR response: good responders, Q4 − Q1, percentage points",
    ]  # fmt: skip
    assert "95%\u00a0CI" in lxml.html.fromstring(report.html).xpath('//div[@id="table-3"]//thead')[0].text_content()


def test_a_sensitivity_row_that_changes_the_conclusion_is_marked_and_said_in_the_results() -> None:
    results = make_results()
    rows = tuple(
        replace(row, test=replace(row.test, p_value=0.164), conclusion_changes=True)
        if (row.analysis, row.outcome) == ("sample-quantiles", "eular_response")
        else row
        for row in results.sensitivity
    )
    html = render(replace(results, sensitivity=rows)).html
    flagged = lxml.html.fromstring(html).xpath('//div[@id="table-3"]//tr[@class="flagged"]')
    assert [row.xpath("./th")[0].text_content() for row in flagged] == ["The data's own quantile groupsa"]
    assert "a The conclusion changes: p falls on the other side of 0.05 than in the primary analysis." in _table_notes(html, "table-3")
    intro = lxml.html.fromstring(html).xpath('//section[@id="results"]/p')[0].text_content()
    assert (
        "With the data's own quantile groups, EULAR response no longer differed significantly across groups "
        "(p\u00a0=\u00a00.164; p\u00a0=\u00a00.006 in the primary analysis)." in intro
    )
    unchanged = lxml.html.fromstring(render(results).html).xpath('//section[@id="results"]/p')[0].text_content()
    assert "No sensitivity analysis changed a conclusion of the primary analysis." in unchanged
    assert "flagged" not in "".join(lxml.html.fromstring(render(results).html).xpath('//div[@id="table-3"]//tr/@class'))


def test_the_pairwise_table_shows_the_primary_outcomes_dunn_holm_pairs(report: RenderedReport) -> None:
    das28 = make_results().outcomes[0]
    assert das28.posthoc
    rows = cells(report.html, "table-4")
    assert len(rows) == len(das28.posthoc)
    for row, pair in zip(rows, das28.posthoc):
        written = [("<0.001" if p < 0.001 else half_up(p, 3)) for p in (pair.p_value, pair.p_adjusted)]
        assert row == [f"{pair.group_a} vs {pair.group_b}", half_up(pair.statistic, 2).replace("-", "\u2212"), *written]
    assert "p Holm: adjusted by Holm's method over the 6 pairs." in _table_notes(report.html, "table-4")


def test_without_pairs_there_is_no_pairwise_table_and_eular_moves_up() -> None:
    results = make_results()
    outcomes = tuple(replace(o, posthoc=()) for o in results.outcomes)
    html = render(replace(results, outcomes=outcomes)).html
    assert [table_id for table_id, _ in _captions(html)][:4] == ["table-1", "table-2", "table-3", "table-4"]
    assert _captions(html)[3][1].startswith("Table 4. EULAR response")
    intro = lxml.html.fromstring(html).xpath('//section[@id="results"]/p')[0].text_content()
    assert "pairwise" not in intro and "Table 4 and Figure 3 the EULAR response" in intro


def test_table_2_marks_the_primary_outcome_and_says_how_holm_was_applied() -> None:
    html = render(make_results(study=make_study(primary_outcome="cdai"))).html
    stubs = [row[0] for row in cells(html, "table-2")]
    assert [stub for stub in stubs if stub.endswith("primary outcome")] == ["CDAIprimary outcome"]
    note = _table_notes(html, "table-2")
    assert "adjusted by Holm's method over the 7 overall tests of this table" in note
    assert "the primary outcome (CDAI) on its own p." in note
    assert _captions(html)[3][1].startswith("Table 4. Pairwise comparisons of CDAI")


def test_a_sensitivity_test_not_computed_shows_no_p_and_a_footnote_saying_why() -> None:
    results = make_results()
    reason = "the analysed patients' own quantiles coincide (many patients share one level)"
    rows = tuple(
        replace(row, n=0, estimate=None, ci=None, test=replace(row.test, p_value=None, statistic=None, not_tested=reason))
        if row.analysis == "sample-quantiles"
        else row
        for row in results.sensitivity
    )
    html = render(replace(results, sensitivity=rows)).html
    body = [r for r in cells(html, "table-3") if len(r) > 1]
    own = [r for r in body if r[0] == "The data's own quantile groups"]
    assert own == [["The data's own quantile groups", "0", "\u2013\u2013", "\u2013a"]] * 2
    assert f"a Not tested: {reason}." in _table_notes(html, "table-3")
