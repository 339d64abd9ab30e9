"""PDF bombs for the fault tests: many pages that share one huge content stream.

The file stays tiny (the stream is deflated, and stored once), while every page asks the
reader to parse the whole stream: pages x stream bytes of work from a few kilobytes.
"""

from __future__ import annotations

import functools
import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject


@functools.cache
def shared_stream_bomb(pages: int, stream_bytes: int, *, distinct: bool = False) -> bytes:
    """``pages`` pages whose /Contents is one stream of about ``stream_bytes`` bytes of
    text-showing operators (``distinct``: a stream of its own for each page). Seconds to
    make: made when a test first asks (not when the tests are collected), then kept."""
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    writer = PdfWriter()
    shared = writer._add_object(_stream(stream_bytes, 0))
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    resources = writer._add_object(DictionaryObject({NameObject("/Font"): fonts}))
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        own = writer._add_object(_stream(stream_bytes, number)) if distinct else None
        page[NameObject("/Contents")] = own or shared
        page[NameObject("/Resources")] = resources
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(size: int, number: int) -> StreamObject:
    op = f"BT /F1 9 Tf 72 700 Td (Lincoln Elementary School {number} Main St) Tj ET\n".encode()
    stream = StreamObject()
    stream.set_data(zlib.compress(op * max(1, size // len(op)), 9))
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Length")] = NumberObject(len(stream.get_data()))
    return stream
