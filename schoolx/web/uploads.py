"""Checks on uploaded files: size, PDF signature, and a safe file name."""

from __future__ import annotations

import re
import unicodedata

from fastapi import UploadFile

from schoolx.web.errors import HttpError

PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # readers accept the signature anywhere in the first kilobyte
READ_CHUNK = 1 << 20
MAX_NAME = 200
DEFAULT_NAME = "upload.pdf"


def sanitize_filename(raw: str | None) -> str:
    """Basename only, no control or format characters: ``../../x.pdf`` -> ``x.pdf``."""
    name = re.split(r"[/\\]", raw or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if not name:
        return DEFAULT_NAME
    if len(name) > MAX_NAME:  # keep the extension, which tells people what it is
        stem, dot, ext = name.rpartition(".")
        name = stem[: MAX_NAME - len(ext) - 1] + dot + ext if dot and len(ext) < 10 else name
        name = name[:MAX_NAME]
    return name


def looks_like_pdf(data: bytes) -> bool:
    return PDF_MAGIC in data[: MAGIC_WINDOW + len(PDF_MAGIC)]


def too_large(limit: int) -> HttpError:
    return HttpError(413, f"file too large: the limit is {limit} bytes ({limit / 1e6:.1f} MB)")


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The whole file, refused with 413 as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        parts.append(chunk)
    data = b"".join(parts)
    if not data:
        raise HttpError(415, "the file is empty; upload a PDF")
    if not looks_like_pdf(data):
        raise HttpError(415, "not a PDF: the file does not start with %PDF-")
    return data
