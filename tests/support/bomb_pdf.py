"""PDF bombs for the fault tests: many pages that share one huge content stream.

The file stays tiny (the stream is deflated, and stored once), while every page asks the
reader to parse the whole stream: pages x stream bytes of work from a few kilobytes.
"""

from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject


def shared_stream_bomb(pages: int, stream_bytes: int) -> bytes:
    """``pages`` pages whose /Contents is one stream of about ``stream_bytes`` bytes of
    text-showing operators."""
    op = b"BT /F1 9 Tf 72 700 Td (Lincoln Elementary School 12 Main St) Tj ET\n"
    body = op * max(1, stream_bytes // len(op))
    stream = StreamObject()
    stream.set_data(zlib.compress(body, 9))
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Length")] = NumberObject(len(stream.get_data()))
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    writer = PdfWriter()
    ref = writer._add_object(stream)
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    resources = writer._add_object(DictionaryObject({NameObject("/Font"): fonts}))
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = ref
        page[NameObject("/Resources")] = resources
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
