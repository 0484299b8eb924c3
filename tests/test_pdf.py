"""reportgen.pdf: PDF/A-3a (tagged) with Source and Data attachments, embedded fonts, fixed dates, and a sandbox."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pikepdf
import pytest

from reportgen.model import BuildInfo, StudyOptions
from reportgen.pdf import EMBED_SOURCE_UP_TO, FolderURLFetcher, PdfAttachment, render_pdf, source_attachment, split_authors

BUILD_TIME = datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc)
INFO = BuildInfo(build_time=BUILD_TIME, version="0.1.0", source_name="cohort.xlsx", source_sha256="ab" * 32)
STUDY = StudyOptions(title="Tocilizumab trough levels and disease activity", authors="C. Tornero Marin; C. Plasencia")
WORKBOOK_BYTES = b"PK\x03\x04 not really a workbook"
RESULTS_BYTES = b'{"cohort": {"n_included": 34}}\n'
ATTACHMENTS = (
    PdfAttachment("cohort.xlsx", WORKBOOK_BYTES, "Source"),
    PdfAttachment("results.json", RESULTS_BYTES, "Data"),
)
SIMPLE_HTML = """<!doctype html><html lang=en><head><meta charset=utf-8><title>ignored title</title></head>
<body><h1>Report</h1><p>Plain, <b>bold</b> and <i>italic</i> text: DAS28 4,46 ± 1,5 µg/mL.</p></body></html>"""
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def render(html: str = SIMPLE_HTML, *, base_dir: Path, info: BuildInfo = INFO) -> bytes:
    return render_pdf(html, info=info, study=STUDY, attachments=ATTACHMENTS, base_dir=base_dir)


def page_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """The folder the renderer may read, beside a folder it must not."""
    inside = tmp_path / "templates"
    inside.mkdir()
    (inside / "style.css").write_text("h1 { color: navy }")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.css").write_text('h1::after { content: "LEAKED-FROM-OUTSIDE" }')
    (outside / "secret.txt").write_text("SECRET-PATIENT-LIST")
    return inside


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and block) every attempt to open a connection; the fetcher must refuse before one."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_pdf_is_pdf_a_3a_with_title_authors_and_build_time(sandbox: Path) -> None:
    with pikepdf.open(io.BytesIO(render(base_dir=sandbox))) as pdf:
        metadata = pdf.open_metadata()
        assert metadata.pdfa_status == "3A"
        assert metadata["dc:title"] == STUDY.title
        assert metadata["dc:creator"] == ["C. Tornero Marin", "C. Plasencia"]
        assert metadata["xmp:CreateDate"] == "2024-05-17T09:30:00Z"
        assert pdf.docinfo["/CreationDate"] == "D:20240517093000Z"


def test_workbook_and_results_are_attached_as_source_and_data(sandbox: Path) -> None:
    with pikepdf.open(io.BytesIO(render(base_dir=sandbox))) as pdf:
        assert sorted(pdf.attachments) == ["cohort.xlsx", "results.json"]
        relationships = {name: str(spec.obj["/AFRelationship"]) for name, spec in pdf.attachments.items()}
        assert relationships == {"cohort.xlsx": "/Source", "results.json": "/Data"}
        assert pdf.attachments["cohort.xlsx"].get_file().read_bytes() == WORKBOOK_BYTES
        assert pdf.attachments["results.json"].get_file().read_bytes() == RESULTS_BYTES
        # Attachment dates default to "now" in WeasyPrint; they must be the build time.
        params = pdf.attachments["cohort.xlsx"].obj.EF.F.Params
        assert params.CreationDate == params.ModDate == "D:20240517093000Z"
        # PDF/A-3 associates each attachment with the document, once.
        assert len(pdf.Root.AF) == 2


def test_every_font_is_embedded(sandbox: Path) -> None:
    with pikepdf.open(io.BytesIO(render(base_dir=sandbox))) as pdf:
        descriptors = [
            (font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor)
            for page in pdf.pages
            for font in page.Resources.Font.values()
        ]
        assert descriptors
        for descriptor in descriptors:
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), descriptor.FontName


def test_same_html_and_build_time_give_identical_bytes(sandbox: Path) -> None:
    first = render(base_dir=sandbox)
    second = render(base_dir=sandbox)
    assert first == second


def test_build_time_is_the_only_date_in_the_file(sandbox: Path) -> None:
    later = BuildInfo(**{**INFO.__dict__, "build_time": datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)})
    assert b"20300102030405" in render(base_dir=sandbox, info=later)
    assert b"20300102030405" not in render(base_dir=sandbox)


def test_files_inside_the_folder_and_data_uris_are_read(sandbox: Path) -> None:
    if not DEJAVU.is_file():
        pytest.skip("DejaVu Sans is not installed")
    (sandbox / "fonts").mkdir()
    shutil.copy(DEJAVU, sandbox / "fonts" / "Body.ttf")
    html = """<html><head><link rel=stylesheet href="style.css"><style>
      @font-face { font-family: Body; src: url(fonts/Body.ttf) }
      body { font-family: Body }</style></head>
      <body><h1>Inside</h1><img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E"></body></html>"""
    fetcher = FolderURLFetcher(sandbox)
    fetcher.fetch((sandbox / "style.css").as_uri()).close()
    with pikepdf.open(io.BytesIO(render(html, base_dir=sandbox))) as pdf:
        fonts = [str(font.get("/BaseFont")) for page in pdf.pages for font in page.Resources.Font.values()]
    assert fonts and all(name.endswith(("+Body", "+Body-Bold")) for name in fonts), fonts


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/x.css",
        "https://evil.example/x.css",
        "ftp://evil.example/x.css",
        "file:///etc/passwd",
        "file://evil.example/share/x.css",
        "gopher://evil.example/",
        "jar:file:///tmp/x.zip!/a",
    ],
)
def test_fetcher_refuses_anything_but_data_and_the_folder(sandbox: Path, no_network: list[object], url: str) -> None:
    fetcher = FolderURLFetcher(sandbox)
    with pytest.raises(PermissionError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert no_network == []


def test_fetcher_refuses_escapes_by_dot_dot_and_symlink(sandbox: Path) -> None:
    (sandbox / "link.css").symlink_to(sandbox.parent / "outside" / "leak.css")
    (sandbox / "fonts").symlink_to(sandbox.parent / "outside", target_is_directory=True)
    fetcher = FolderURLFetcher(sandbox)
    escapes = (sandbox.as_uri() + "/../outside/leak.css", (sandbox / "link.css").as_uri(), (sandbox / "fonts" / "leak.css").as_uri())
    for url in escapes:
        with pytest.raises(PermissionError):
            fetcher.fetch(url)


def test_hostile_references_embed_nothing(sandbox: Path, no_network: list[object]) -> None:
    outside = sandbox.parent / "outside"
    html = f"""<html><head>
      <link rel=stylesheet href="http://evil.example/x.css">
      <link rel=stylesheet href="https://evil.example/x.css">
      <link rel=stylesheet href="{(outside / 'leak.css').as_uri()}">
      <link rel=stylesheet href="../outside/leak.css">
      <link rel=attachment href="{(outside / 'secret.txt').as_uri()}">
      <link rel=attachment href="data:text/plain,SMUGGLED-VIA-DATA-URI">
      <link rel=attachment href="style.css">
      <style>body {{ background: url(https://evil.example/bg.png) }}</style>
      </head><body><h1>Report</h1>
      <img src="http://evil.example/pixel.png"><img src="{(outside / 'secret.txt').as_uri()}">
      <a rel=attachment href="{(outside / 'secret.txt').as_uri()}">secret</a>
      <a rel=attachment href="data:text/plain,SMUGGLED-VIA-LINK">smuggled</a>
      </body></html>"""
    pdf_bytes = render(html, base_dir=sandbox)
    assert no_network == []
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert sorted(pdf.attachments) == ["cohort.xlsx", "results.json"]
        annotations = [annot for page in pdf.pages for annot in page.get("/Annots", [])]
        assert not [annot for annot in annotations if annot.get("/Subtype") == "/FileAttachment"]
        streams = b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))
    for marker in (b"SECRET-PATIENT-LIST", b"SMUGGLED", b"LEAKED"):
        assert marker not in streams
    assert "LEAKED" not in page_text(pdf_bytes)


def test_refusals_are_not_printed_as_errors(sandbox: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    # lang: a tagged PDF without a language is reported (a real problem), which is not what is tested here.
    render('<html lang="en"><body><img src="http://evil.example/p.png"><p>x</p></body></html>', base_dir=sandbox)
    assert capsys.readouterr().err == ""
    assert [record for record in caplog.records if record.name.startswith(("weasyprint", "reportgen"))] == []


def test_real_rendering_errors_still_reach_the_log(sandbox: Path, caplog: pytest.LogCaptureFixture) -> None:
    render('<html><body><img src="missing.png"></body></html>', base_dir=sandbox)
    assert any("missing.png" in record.getMessage() for record in caplog.records if record.name == "reportgen.pdf")


def test_environment_is_restored_after_a_render(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    render(base_dir=sandbox)
    import os

    assert "SOURCE_DATE_EPOCH" not in os.environ


def test_fonttools_subsetting_stamps_fonts_with_the_build_time_without_touching_the_environment(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # WeasyPrint falls back to fontTools when libharfbuzz-subset is missing; fontTools stamps head.modified.
    import os

    from fontTools.misc.timeTools import epoch_diff  # the Unix epoch in seconds since 1904, negated
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables import _h_e_a_d
    from weasyprint.pdf import fonts

    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")  # a day after 1970: must not be what the font says
    environment = dict(os.environ)
    clock = _h_e_a_d.timestampNow
    (sandbox / "fonts").mkdir()
    shutil.copy(DEJAVU, sandbox / "fonts" / "Body.ttf")
    html = """<!doctype html><html lang=en><head><meta charset=utf-8><style>
      @font-face { font-family: Body; src: url(fonts/Body.ttf) }
      body { font-family: Body }</style></head><body><p>Subset me</p></body></html>"""
    with pikepdf.open(io.BytesIO(render(html, base_dir=sandbox))) as pdf:
        files = [
            descriptor.FontFile2.read_bytes()
            for page in pdf.pages
            for font in page.Resources.Font.values()
            for descriptor in [font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor]
            if "/FontFile2" in descriptor
        ]
    assert files
    for data in files:
        assert TTFont(io.BytesIO(data))["head"].modified + epoch_diff == int(BUILD_TIME.timestamp())
    assert dict(os.environ) == environment and _h_e_a_d.timestampNow is clock


def test_authors_split_on_semicolons_else_commas() -> None:
    assert split_authors("A. Smith, B. Jones") == ["A. Smith", "B. Jones"]
    assert split_authors("Smith, A.; Jones, B.") == ["Smith, A.", "Jones, B."]
    assert split_authors("") == []


def test_a_workbook_up_to_2_mb_is_embedded_a_larger_one_is_named_by_a_reference(sandbox: Path) -> None:
    import json

    small = source_attachment("cohort.xlsx", b"x" * EMBED_SOURCE_UP_TO, "cd" * 32)
    assert (small.name, small.relationship, len(small.content)) == ("cohort.xlsx", "Source", EMBED_SOURCE_UP_TO)
    large = source_attachment("registry.xlsx", b"x" * (EMBED_SOURCE_UP_TO + 1), "cd" * 32)
    assert (large.name, large.relationship) == ("source-reference.json", "Source")
    assert large == source_attachment("registry.xlsx", b"x" * (EMBED_SOURCE_UP_TO + 1), "cd" * 32)
    reference = json.loads(large.content)
    assert reference["file"] == "registry.xlsx" and reference["bytes"] == EMBED_SOURCE_UP_TO + 1
    assert reference["sha256"] == "cd" * 32 and "build folder" in reference["note"]
    pdf_bytes = render_pdf(SIMPLE_HTML, info=INFO, study=STUDY, attachments=(large, ATTACHMENTS[1]), base_dir=sandbox)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3A"
        assert {name: str(spec.obj["/AFRelationship"]) for name, spec in pdf.attachments.items()} == {
            "source-reference.json": "/Source",
            "results.json": "/Data",
        }
    assert len(pdf_bytes) < 100_000


def _xmp_packet(pdf: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return document.Root.Metadata.read_bytes()


def test_xmp_metadata_stays_well_formed_whatever_the_title_holds(sandbox: Path) -> None:
    """Validation refuses control characters; the metadata is the second line of defence (issue 15)."""
    import xml.etree.ElementTree as ElementTree

    from reportgen.untrusted import LINE_BREAKS, visible

    study = StudyOptions(title="TCZ\x01 cohort \x1b[2J \u202eydutS & <b>", authors="A.\x01 Rossi; B.\u2067 Chen")
    pdf = render_pdf(SIMPLE_HTML, info=INFO, study=study, attachments=ATTACHMENTS, base_dir=sandbox)
    ElementTree.fromstring(_xmp_packet(pdf))  # raises on a control character: not well-formed XML
    with pikepdf.open(io.BytesIO(pdf)) as document:
        metadata = document.open_metadata()
        assert metadata.pdfa_status == "3A"
        assert metadata["dc:title"] == visible(study.title, keep=LINE_BREAKS) == "TCZ\\x01 cohort \\x1b[2J \\u202eydutS & <b>"
        assert metadata["dc:creator"] == ["A.\\x01 Rossi", "B.\\u2067 Chen"]
