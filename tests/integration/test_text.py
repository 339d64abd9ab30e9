"""Stage 1 against real PDFs generated with reportlab."""

from __future__ import annotations

import io
import signal
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest
from pypdf import PageObject, PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

import handlers.text as text_module
from handlers.geometry import layout_text
from handlers.text import (
    count_pages,
    extract_page_range,
    extract_pages,
    make_text_pool,
)
from pipeline.errors import InputError

NAME = "list.pdf"


def _line(page: int, row: int) -> str:
    return f"P{page} School {row}  123 Main St  Chicago IL 60614  (773) 582-1100"


def make_pdf(pages: list[int | None], *, compress: bool = True) -> bytes:
    """One page per entry: ``n`` text lines, or ``None`` for a page with only shapes."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, pageCompression=int(compress))
    for number, lines in enumerate(pages, start=1):
        if lines is None:
            pdf.rect(72, 72, 300, 200)
            pdf.line(72, 400, 400, 600)
        else:
            for row in range(lines):
                pdf.drawString(40, 760 - (row % 60) * 12, _line(number, row))
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def encrypt(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = make_text_pool(2)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def test_multi_page_document() -> None:
    result = extract_pages(make_pdf([3, 5, 2]), NAME)
    assert result.page_count == 3
    assert [p.page for p in result.pages] == [1, 2, 3]
    assert "P2 School 4" in result.pages[1].text
    assert not any(p.needs_ocr or p.skipped for p in result.pages)
    assert count_pages(make_pdf([1, 1]), NAME) == 2


def test_page_range_is_clipped_and_numbered_from_one() -> None:
    result = extract_page_range(make_pdf([1, 1, 1, 1]), NAME, 2, 10)
    assert [p.page for p in result.pages] == [3, 4]
    assert result.page_count == 4


def test_password_protected_pdf_is_rejected() -> None:
    data = encrypt(make_pdf([2]), "secret")
    with pytest.raises(InputError, match=r"list\.pdf: encrypted: a password is required"):
        extract_pages(data, NAME)


def test_empty_user_password_is_readable() -> None:
    result = extract_pages(encrypt(make_pdf([2]), ""), NAME)
    assert "P1 School 1" in result.pages[0].text


def test_page_without_text_needs_ocr() -> None:
    result = extract_pages(make_pdf([2, None, 2]), NAME)
    assert [p.needs_ocr for p in result.pages] == [False, True, False]


def test_no_text_layer_anywhere() -> None:
    with pytest.raises(InputError, match=r"list\.pdf: no text layer .*\(2 pages need OCR\)"):
        extract_pages(make_pdf([None, None]), NAME)


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"list\.pdf: empty file \(0 bytes\)"),
        (_zip_bytes(), r"list\.pdf: not a PDF \(starts with b'PK\\x03\\x04"),
        (make_pdf([20, 20])[:1500], r"list\.pdf: damaged or truncated PDF: "),
    ],
    ids=["empty", "zip", "truncated"],
)
def test_unreadable_documents(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        extract_pages(data, NAME)
    with pytest.raises(InputError, match=message):
        count_pages(data, NAME)


@pytest.mark.parametrize("compress", [True, False])
def test_huge_content_stream_is_skipped(compress: bool) -> None:
    data = make_pdf([1, 200, 1], compress=compress)
    result = extract_pages(data, NAME, max_content_bytes=4000)
    assert result.pages[1].skipped is not None
    assert result.pages[1].skipped.startswith("content stream too large")
    assert result.pages[1].text == ""
    assert "P3 School 0" in result.pages[2].text


def test_slow_page_times_out_and_alarm_is_disarmed(monkeypatch: pytest.MonkeyPatch) -> None:
    original = layout_text
    slept_through: list[bool] = []

    def slow(page: PageObject) -> str:
        if "P2 " in original(page):
            time.sleep(600)  # only the page timeout's alarm ends this
            slept_through.append(True)
        return original(page)

    monkeypatch.setattr(text_module, "layout_text", slow)
    before = signal.getsignal(signal.SIGALRM)
    result = extract_pages(make_pdf([1, 1, 1]), NAME, page_timeout_s=0.2)
    assert not slept_through
    assert result.pages[1].skipped == "text extraction timed out after 0.2s"
    assert "P3 School 0" in result.pages[2].text
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


def test_page_exception_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    original = layout_text

    def broken(page: PageObject) -> str:
        if "P1 " in original(page):
            raise KeyError("/Font")
        return original(page)

    monkeypatch.setattr(text_module, "layout_text", broken)
    result = extract_pages(make_pdf([1, 1]), NAME)
    assert result.pages[0].skipped is not None
    assert "KeyError" in result.pages[0].skipped
    assert "P2 School 0" in result.pages[1].text


def test_pypdf_warnings_are_captured(caplog: pytest.LogCaptureFixture) -> None:
    data = make_pdf([2, 2])
    # A wrong startxref offset makes pypdf log a warning and rebuild the xref table.
    broken = data.replace(b"startxref\n", b"startxref\n1").rstrip()
    result = extract_pages(broken, NAME)
    assert result.warnings
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
