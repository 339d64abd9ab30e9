"""Stage 1: the text of every page of a PDF, extracted with pypdf and hardened.

The sync functions (``count_pages``, ``extract_page_range``, ``extract_pages``) are pure,
top-level and picklable so they can run in a process pool; the PDF handler splits one
document into page ranges over ``handlers.pool.KillablePool``.

Failure policy:

* a document that cannot be read at all (empty, not a PDF, truncated, encrypted with a
  password, no text layer anywhere) raises :class:`InputError` naming the file;
* one bad page never fails the document: a page whose content stream is too large, whose
  extraction times out or raises, comes back as ``PageText(skipped=reason)``;
* pypdf's log records and warnings are collected into ``TextResult.warnings`` instead of
  reaching the terminal.

The per-page timeout uses ``SIGALRM``, which only works in a process's main thread (a pool
worker process, or a direct call from a CLI). Called from any other thread the timeout is
not enforced. A signal handler also cannot interrupt a long call inside C code, e.g. zlib.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from types import FrameType
from typing import TypeVar

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.filters import ASCII85Decode, ASCIIHexDecode
from pypdf.generic import ArrayObject, IndirectObject, NameObject, StreamObject

from domain.records import PageText
from handlers.geometry import layout_text
from handlers.pool import die_with_parent
from handlers.textfix import repair_text
from pipeline.errors import InputError

_T = TypeVar("_T")

_HEADER_WINDOW = 1024  # the PDF spec tolerates junk before "%PDF-"; readers look this far
_MAX_WARNINGS = 50  # a broken file can log thousands of times; keep the result small
_MAX_REASON = 160
_ZLIB_MAX_RATIO = 1032  # deflate cannot expand input by more than this factor
_DECODE_CHUNK = 1 << 20
_FLATE = ("/FlateDecode", "/Fl")
_ARMOUR: dict[str, Callable[[bytes], bytes]] = {
    "/ASCII85Decode": ASCII85Decode.decode,
    "/A85": ASCII85Decode.decode,
    "/ASCIIHexDecode": ASCIIHexDecode.decode,
    "/AHx": ASCIIHexDecode.decode,
}


@dataclass(frozen=True)
class TextResult:
    pages: tuple[PageText, ...]
    warnings: tuple[str, ...]
    page_count: int  # pages in the whole document, not only in ``pages``


class _PageTimeout(BaseException):
    """Raised by the SIGALRM handler.

    A BaseException on purpose: pypdf wraps much of its non-strict parsing in
    ``except Exception`` and would otherwise swallow the timeout and carry on.
    """


# --- opening and validation -------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _check_bytes(data: bytes, filename: str) -> None:
    if not data:
        raise InputError(f"{filename}: empty file (0 bytes)")
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise InputError(f"{filename}: not a PDF (starts with {data[:8]!r})")


def _decrypt(reader: PdfReader, filename: str) -> None:
    # Many PDFs are "encrypted" only to set permissions, with an empty user password.
    try:
        result = reader.decrypt("")
    except Exception as exc:  # e.g. an unsupported security handler or algorithm
        raise InputError(f"{filename}: encrypted: cannot decrypt ({_short(exc)})") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise InputError(f"{filename}: encrypted: a password is required")


def _open(data: bytes, filename: str) -> tuple[PdfReader, int]:
    """A reader ready for page access and the page count, or InputError."""
    _check_bytes(data, filename)
    # pypdf raises a wide range of exception types on malformed input (PdfReadError,
    # but also ValueError, KeyError, IndexError, ...); all of them mean "damaged" here.
    try:
        reader = PdfReader(BytesIO(data), strict=False)
    except Exception as exc:
        raise InputError(f"{filename}: damaged or truncated PDF: {_short(exc)}") from exc
    if reader.is_encrypted:
        _decrypt(reader, filename)
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise InputError(f"{filename}: damaged or truncated PDF: {_short(exc)}") from exc
    if count == 0:
        raise InputError(f"{filename}: damaged or truncated PDF: no pages")
    return reader, count


# --- capturing pypdf's chatter ----------------------------------------------------------


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(record.getMessage())


@contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Collect pypdf log records and Python warnings raised inside the block."""
    sink: list[str] = []
    logger = logging.getLogger("pypdf")
    handler = _ListHandler(sink)
    old_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False  # keep them off the root logger, i.e. the terminal
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield sink
        sink.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate


def _tidy_warnings(messages: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(m.strip() for m in messages if m.strip()))
    if len(unique) > _MAX_WARNINGS:
        extra = len(unique) - _MAX_WARNINGS
        unique = [*unique[:_MAX_WARNINGS], f"... and {extra} more warnings"]
    return tuple(unique)


# --- one page -----------------------------------------------------------------------------


_FIRED = [False]  # set by the alarm itself, for when its exception cannot propagate


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    _FIRED[0] = True
    raise _PageTimeout


def _run_with_deadline(fn: Callable[[], _T], seconds: float) -> _T:
    """Run ``fn``; raise _PageTimeout if it runs past ``seconds`` (main thread only)."""
    usable = seconds > 0 and threading.current_thread() is threading.main_thread()
    if not usable:
        return fn()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _FIRED[0] = False
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            result = fn()
        finally:
            # If the alarm fires between fn() returning and this line, the one-shot timer
            # is already spent; the outer finally still restores the handler.
            signal.setitimer(signal.ITIMER_REAL, 0)
        if _FIRED[0]:
            # The alarm went off inside a finalizer, whose exception Python can only report
            # as unraisable, and fn() went on: the deadline passed all the same.
            raise _PageTimeout
        return result
    finally:
        signal.signal(signal.SIGALRM, previous)


def run_with_deadline(fn: Callable[[], _T], seconds: float) -> _T:
    """``fn()``, or TimeoutError after ``seconds`` (enforced in a process's main thread)."""
    try:
        return _run_with_deadline(fn, seconds)
    except _PageTimeout as exc:
        raise TimeoutError(f"took longer than {seconds:g}s") from exc


def _content_streams(page: PageObject) -> list[StreamObject]:
    contents = page.get(NameObject("/Contents"))
    if contents is None:
        return []
    contents = contents.get_object()
    items = list(contents) if isinstance(contents, ArrayObject) else [contents]
    streams = (item.get_object() for item in items)
    return [s for s in streams if isinstance(s, StreamObject)]


def _filter_names(stream: StreamObject) -> list[str]:
    filters = stream.get(NameObject("/Filter"))
    if filters is None:
        return []
    filters = filters.get_object()
    items = list(filters) if isinstance(filters, ArrayObject) else [filters]
    return [str(item.get_object()) for item in items]


def _inflated_size(raw: bytes, limit: int) -> int:
    """Decoded size of a deflate stream, counting no further than just past ``limit``.

    Streams the decompression so a zip bomb never materialises in memory.
    """
    decoder = zlib.decompressobj()
    total = 0
    pending = raw
    while total <= limit:
        total += len(decoder.decompress(pending, _DECODE_CHUNK))
        pending = decoder.unconsumed_tail
        if not pending or decoder.eof:
            break
    return total


def _decoded_size(stream: StreamObject, limit: int) -> int:
    """How many bytes the content stream decodes to (a lower bound past ``limit``)."""
    raw = stream._data
    names = _filter_names(stream)
    try:
        if not names:
            return len(raw)
        # The common shapes: Flate, optionally under an ASCII armour (reportlab writes
        # [/ASCII85Decode /FlateDecode]). The armour only shrinks, so decoding it is safe.
        if names[-1] in _FLATE and all(n in _ARMOUR for n in names[:-1]):
            for name in names[:-1]:
                raw = _ARMOUR[name](raw)
            return _inflated_size(raw, limit)
        # Anything else: pypdf's decoders, which cap their output (75 MB by default).
        return len(stream.get_data())
    except Exception:  # a broken stream; let extraction and pypdf's recovery judge it
        return len(raw)


def _oversize_reason(page: PageObject, limit: int) -> str | None:
    streams = _content_streams(page)
    raw_total = sum(len(s._data) for s in streams)
    if raw_total > limit:
        return f"content stream too large ({raw_total} bytes)"
    if raw_total * _ZLIB_MAX_RATIO <= limit:
        return None  # even maximally compressed, it would fit
    decoded = 0
    for stream in streams:
        decoded += _decoded_size(stream, limit)
        if decoded > limit:
            return f"content stream too large (over {limit} bytes decoded)"
    return None


def _extract_one(
    reader: PdfReader, index: int, *, page_timeout_s: float, max_content_bytes: int
) -> PageText:
    number = index + 1
    try:
        page = reader.pages[index]
        reason = _oversize_reason(page, max_content_bytes)
        if reason is not None:
            return PageText(page=number, text="", skipped=reason)
        raw = _run_with_deadline(functools.partial(layout_text, page), page_timeout_s)
    except _PageTimeout:
        reason = f"text extraction timed out after {page_timeout_s:g}s"
        return PageText(page=number, text="", skipped=reason)
    except Exception as exc:  # one malformed page must not fail the document
        reason = f"text extraction failed: {type(exc).__name__}: {_short(exc)}"
        return PageText(page=number, text="", skipped=reason)
    text = repair_text(raw, keep_spacing=True)
    return PageText(page=number, text=text, needs_ocr=not text.strip())


# --- public sync API (picklable, for process pools) ---------------------------------------


def count_pages(data: bytes, filename: str) -> int:
    """Validate the document and return its page count; InputError if unreadable."""
    with _captured_warnings():
        _, count = _open(data, filename)
    return count


PageKey = tuple[object, ...]


def _page_key(page: PageObject) -> PageKey | None:
    """What a page's text depends on, when it is all shared objects: pages with equal keys
    read the same. A PDF bomb gives hundreds of pages one huge content stream; this is
    how that stream is parsed once. None when something is the page's own (not shared)."""
    contents = page.get(NameObject("/Contents"))  # the reference, not the stream
    refs = list(contents) if isinstance(contents, ArrayObject) else [contents]
    resources = page.get(NameObject("/Resources"))
    shared = [ref for ref in [*refs, resources] if isinstance(ref, IndirectObject)]
    if len(shared) != len(refs) + 1:
        return None
    ids = tuple((ref.idnum, ref.generation) for ref in shared)
    box = tuple(float(v) for v in page.mediabox)
    return (ids, box, page.get(NameObject("/Rotate"), 0))


def page_keys(data: bytes, filename: str) -> list[PageKey | None]:
    """Validate the document; one key per page (see ``_page_key``); InputError if
    unreadable. Reads page dictionaries only, no content stream."""
    with _captured_warnings():
        reader, count = _open(data, filename)
        keys: list[PageKey | None] = []
        for i in range(count):
            try:
                keys.append(_page_key(reader.pages[i]))
            except Exception:  # a damaged page tree entry: that page is just not shared
                keys.append(None)
    return keys


def extract_page_range(
    data: bytes,
    filename: str,
    start: int,
    stop: int,
    *,
    page_timeout_s: float = 20.0,
    max_content_bytes: int = 20_000_000,
    budget_s: float = 0.0,
) -> TextResult:
    """Text of pages ``[start, stop)`` (0-based; clipped to the document).

    Pages without text are flagged ``needs_ocr`` but, unlike ``extract_pages``, a range
    without any text is not an error: other ranges of the document may have text. With a
    ``budget_s``, the range stops early once that much time is spent (after at least one
    page), so that a pool process is free for other documents' pages between jobs: the
    caller asks again for the rest.
    """
    started = time.monotonic()
    with _captured_warnings() as messages:
        reader, count = _open(data, filename)
        pages: list[PageText] = []
        for i in range(max(start, 0), min(stop, count)):
            if pages and budget_s and time.monotonic() - started > budget_s:
                break
            pages.append(
                _extract_one(
                    reader, i, page_timeout_s=page_timeout_s, max_content_bytes=max_content_bytes
                )
            )
    return TextResult(pages=tuple(pages), warnings=_tidy_warnings(messages), page_count=count)


def same_as(number: int, original: int) -> PageText:
    """A page made of exactly the objects of an earlier one: not read (nor stored) again."""
    return PageText(page=number, text="", skipped=f"same content as page {original}")


def require_text(result: TextResult, filename: str) -> None:
    """Raise InputError when no page of ``result`` has any text."""
    if any(p.text.strip() for p in result.pages):
        return
    ocr = sum(p.needs_ocr for p in result.pages)
    if ocr:
        raise InputError(f"{filename}: no text layer — scanned PDF? ({ocr} pages need OCR)")
    first = next((p.skipped for p in result.pages if p.skipped), "no pages")
    raise InputError(f"{filename}: no page could be read (e.g. {first})")


def extract_pages(
    data: bytes,
    filename: str,
    *,
    page_timeout_s: float = 20.0,
    max_content_bytes: int = 20_000_000,
) -> TextResult:
    """Text of every page of the document; InputError if it has no text at all."""
    result = extract_page_range(
        data,
        filename,
        0,
        2**31,
        page_timeout_s=page_timeout_s,
        max_content_bytes=max_content_bytes,
    )
    require_text(result, filename)
    return result


# --- async API ------------------------------------------------------------------------------


def make_text_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool for text extraction.

    "spawn", not "fork": the caller runs an asyncio loop with threads, and forking a threaded
    process can copy locks held by other threads into the child. Not "forkserver" either: a
    forkserver outlives a SIGKILLed worker, and so would its pool processes. Spawned pool
    processes are children of the worker and ask the kernel to kill them when it dies.
    """
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
