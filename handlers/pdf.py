"""The ``pdf_extraction`` handler: text -> extract -> normalize -> save, each checkpointed.

Progress: stage 1 moves 0-25 page by page, stage 2 moves 25-50 chunk by chunk, stage 3
ends at 75 and stage 4 moves 75-100 batch by batch. Page text is stored per document (a
resumed or duplicate task reuses it) and each extracted chunk is its own checkpoint row, so
a resumed task goes on from the next page job and the next chunk: an LLM call already paid
for is never repeated.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from domain.matching.dedupe import group_duplicates
from domain.normalize import normalize_document
from domain.records import Chunk, ChunkResult, PageText, SchoolRecord
from handlers.extractor import Extractor
from handlers.extractors import Extractors
from handlers.llm.extractor import InvalidReplyError
from handlers.pool import JOB_GROUP
from handlers.settings import PdfSettings
from handlers.stages import CHUNK_PREFIX, STAGES
from handlers.stages import TASK_TYPE as TASK_TYPE
from handlers.text import (
    PageKey,
    TextResult,
    extract_page_range,
    page_keys,
    require_text,
    same_as,
)
from models.documents import DocumentInfo, DocumentStore
from models.schools import SaveItem, SchoolStore
from pipeline.context import TaskContext
from pipeline.errors import InputError, PermanentError, TransientError

FIRST = asyncio.FIRST_COMPLETED


class PdfHandler:
    def __init__(
        self,
        documents: DocumentStore,
        schools: SchoolStore,
        extractors: Extractors,
        pool: Executor,
        settings: PdfSettings,
    ) -> None:
        self.documents = documents
        self.schools = schools
        self.extractors = extractors
        self.pool = pool
        self.settings = settings

    async def __call__(self, ctx: TaskContext) -> dict[str, Any]:
        JOB_GROUP.set(ctx.task.id)  # this task's pool jobs take turns with other tasks'
        doc = await self.documents.get(int(ctx.payload["document_id"]))
        extractor = self.extractors.get(str(ctx.payload.get("extractor", "rules")))
        text = await ctx.stage(
            "text", lambda: self._text_guarded(ctx, doc), progress=STAGES["text"]
        )
        pages = await self.documents.load_pages(doc.id)
        found = await ctx.stage(
            "extract", lambda: self._extract(ctx, pages, extractor), progress=STAGES["extract"]
        )
        normalized = await ctx.stage(
            "normalize", lambda: self._normalize(ctx, found), progress=STAGES["normalize"]
        )
        saved = await ctx.stage(
            "save",
            lambda: self._save(ctx, doc, normalized, extractor.name),
            progress=STAGES["save"],
        )
        cost = getattr(extractor, "cost", None)
        return {
            "document_id": doc.id,
            "document": doc.filename,
            "pages": text["pages"],
            "needs_ocr": text["needs_ocr"],
            "skipped_pages": text["skipped"],
            "extractor": extractor.name,
            "schools_found": len(normalized.get("groups") or normalized["records"]),
            "dropped": found["dropped"],
            "unread_pages": found.get("unread_pages", []),
            "usage": found["usage"],
            "warnings": found.get("warnings", []),
            "cost_usd": cost(found["usage"]) if cost is not None else None,
            **saved,
        }

    # --- stage 1 ----------------------------------------------------------------------

    async def _text_guarded(self, ctx: TaskContext, doc: DocumentInfo) -> dict[str, Any]:
        try:
            return await self._text(ctx, doc)
        except BrokenProcessPool as exc:
            # Pages read so far are stored; the retry continues from the next job.
            raise TransientError(
                f"{doc.filename}: the pypdf process died while reading it (out of memory?)"
            ) from exc

    async def _text(self, ctx: TaskContext, doc: DocumentInfo) -> dict[str, Any]:
        """Every page's text, read in pool jobs of a few pages; guarded against PDF bombs:
        a page cap, pages made of another page's objects not read again, jobs that give
        their process back every ``job_budget_s``, and a deadline for the whole document
        after which unread pages are recorded as skipped."""
        loop = asyncio.get_running_loop()
        settings = self.settings
        deadline = loop.time() + settings.document_timeout_s
        data = await self.documents.content(doc.id)
        keys = await loop.run_in_executor(self.pool, page_keys, data, doc.filename)
        total = len(keys)
        if total > settings.max_pages:
            raise InputError(
                f"{doc.filename}: {total} pages, more than the limit of {settings.max_pages}"
                " (SCHOOLX_MAX_PAGES)"
            )
        await self.documents.set_page_count(doc.id, total)
        have = await self.documents.stored_pages(doc.id)
        copies = [p for p in _copies(keys) if p.page not in have]
        await self.documents.save_pages(doc.id, copies)
        have |= {p.page for p in copies}
        warnings: list[str] = []
        done = len(have)
        job = functools.partial(
            extract_page_range,
            data,
            doc.filename,
            page_timeout_s=settings.page_timeout_s,
            max_content_bytes=settings.max_content_bytes,
            budget_s=settings.job_budget_s,
        )
        running: dict[asyncio.Future[TextResult], tuple[int, int]] = {}

        def submit(start: int, stop: int) -> None:
            running[loop.run_in_executor(self.pool, job, start, stop)] = (start, stop)

        for start, stop in _missing_ranges(total, have, settings.pages_per_job):
            submit(start, stop)
        try:
            while running:
                finished, _ = await asyncio.wait(
                    running, timeout=max(0.0, deadline - loop.time()), return_when=FIRST
                )
                if not finished:
                    break  # the document's time is up
                for future in finished:
                    start, stop = running.pop(future)
                    part = future.result()
                    await self.documents.save_pages(doc.id, part.pages)
                    warnings.extend(part.warnings)
                    done += len(part.pages)
                    if start + len(part.pages) < stop:  # the job gave its process back
                        submit(start + len(part.pages), stop)
                await ctx.update_progress(25 * done / max(total, 1), f"text {done}/{total}")
        finally:
            for future in running:
                future.cancel()  # kills the pool process working on it
        if running:
            await self._skip_unread(doc, total)
        pages = await self.documents.load_pages(doc.id)
        require_text(TextResult(tuple(pages), (), total), doc.filename)
        return {
            "pages": total,
            "needs_ocr": [p.page for p in pages if p.needs_ocr],
            "skipped": {str(p.page): p.skipped for p in pages if p.skipped},
            "warnings": sorted(set(warnings))[:50],
        }

    async def _skip_unread(self, doc: DocumentInfo, total: int) -> None:
        have = await self.documents.stored_pages(doc.id)
        reason = f"not read: the document took longer than {self.settings.document_timeout_s:g}s"
        unread = [PageText(n, "", skipped=reason) for n in range(1, total + 1) if n not in have]
        await self.documents.save_pages(doc.id, unread)

    # --- stage 2 ----------------------------------------------------------------------

    async def _extract(
        self, ctx: TaskContext, pages: Sequence[PageText], extractor: Extractor
    ) -> dict[str, Any]:
        chunks = extractor.chunks(pages)
        steps = {c.index: _chunk_step(c) for c in chunks}
        stored = ctx.stored_with_prefix(CHUNK_PREFIX)
        todo = [c for c in chunks if steps[c.index] not in stored]
        done = len(chunks) - len(todo)
        unread: dict[int, str] = {}  # chunk index -> why its reply could not be used
        gate = asyncio.Semaphore(self.settings.chunk_concurrency)

        async def one(chunk: Chunk) -> None:
            nonlocal done
            # The gate is held until the chunk's checkpoint is stored, so a crash redoes at
            # most chunk_concurrency chunks (an LLM call is paid for twice at most that often).
            async with gate:
                try:
                    result = await extractor.extract(chunk)
                except InvalidReplyError as exc:
                    # One chunk the model keeps garbling must not cost the other pages:
                    # keep its reply for review, go on, and say so in the result.
                    await ctx.checkpoint(
                        f"extract/raw/{steps[chunk.index].removeprefix(CHUNK_PREFIX)}",
                        {"raw_reply": exc.raw_reply, "error": str(exc)},
                    )
                    unread[chunk.index] = str(exc)
                    return
                done += 1
                await ctx.checkpoint(
                    steps[chunk.index],
                    result.to_json(),
                    progress=25 + 25 * done / max(len(chunks), 1),
                )

        await _gather_all([one(c) for c in todo])
        if unread and len(unread) == len(chunks):
            raise PermanentError(f"no chunk could be read: {next(iter(unread.values()))}")
        # Only this chunking's checkpoints: a resumed task whose chunks came out different
        # (another chunk size, a new version) never mixes in the old ones.
        kept = [steps[c.index] for c in chunks if c.index not in unread]
        checkpoints = ctx.stored_with_prefix(CHUNK_PREFIX)
        results = [ChunkResult.from_json(checkpoints[name]) for name in kept]
        usage: Counter[str] = Counter()
        for r in results:
            usage.update(r.usage)
        unread_pages = sorted({c.page for c in chunks if c.index in unread})
        return {
            "chunks": len(chunks),
            "chunk_steps": kept,
            "records": sum(len(r.records) for r in results),
            "dropped": sum(r.dropped for r in results),
            "usage": dict(usage),
            "unread_pages": unread_pages,
            "warnings": [
                *(unread[i] for i in sorted(unread)),
                *extraction_warnings(pages, results, extractor.name),
            ],
        }

    # --- stage 3 ----------------------------------------------------------------------

    async def _normalize(self, ctx: TaskContext, found: dict[str, Any]) -> dict[str, Any]:
        stored = ctx.stored_with_prefix(CHUNK_PREFIX)
        if "chunk_steps" in found:  # one stored by an older version has no list
            stored = {name: stored[name] for name in found["chunk_steps"]}
        # CPU work for seconds on a big directory: off the event loop, so heartbeats and
        # other tasks of this worker keep running meanwhile.
        return await asyncio.to_thread(_normalize_all, stored)

    # --- stage 4 ----------------------------------------------------------------------

    async def _save(
        self, ctx: TaskContext, doc: DocumentInfo, normalized: dict[str, Any], extractor: str
    ) -> dict[str, int]:
        records = [SchoolRecord.from_json(r) for r in normalized["records"]]
        # A normalize checkpoint from before in-document groups were stored: one each.
        groups = normalized.get("groups") or [[i] for i in range(len(records))]
        items = [SaveItem(records[g[0]], tuple(records[i] for i in g[1:])) for g in groups]
        start, end = STAGES["normalize"], STAGES["save"]

        async def saved_so_far(done: int, total: int) -> None:
            # A big directory saves for minutes: move the bar batch by batch; the stage's
            # own checkpoint says 100 when the last batch is in.
            if done < total:
                await ctx.update_progress(
                    start + (end - start) * done // total, f"save {done}/{total}"
                )

        result = await self.schools.save(
            items,
            document_id=doc.id,
            task_id=ctx.task.id,
            extractor=extractor,
            on_batch=saved_so_far,
        )
        return result.to_json()


_READABLE_CHARS = 200  # a page with this much text is expected to say something
_UNSURE = 0.5


def extraction_warnings(
    pages: Sequence[PageText], results: Sequence[ChunkResult], extractor: str
) -> list[str]:
    """What the user should know the extractor did not understand, pages named."""
    warnings = [w for r in results for w in r.warnings]
    found_on = {rec.evidence.page for r in results for rec in r.records}
    wordy = [p.page for p in pages if len("".join(p.text.split())) >= _READABLE_CHARS]
    hint = " (try --extractor llm)" if extractor == "rules" else ""
    unsure = {
        page
        for r in results
        if r.confidence is not None and r.confidence < _UNSURE
        for page in _pages_of(r)
    }
    if wordy and not found_on:
        warnings.append(
            f"no schools recognised on any page, though {len(wordy)} pages have text"
            f" ({_pages(wordy)}){hint}"
        )
    elif found_on and unsure == found_on:
        warnings.append(
            "low confidence: schools were only found named in running text"
            f" ({_pages(sorted(unsure))}){hint}"
        )
    return warnings


def _pages_of(result: ChunkResult) -> set[int]:
    return {rec.evidence.page for rec in result.records}


def _pages(numbers: Sequence[int]) -> str:
    """ "pages 1-3, 7" style, at most ten ranges."""
    ranges: list[list[int]] = []
    for n in sorted(numbers):
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:10]]
    more = ", ..." if len(ranges) > 10 else ""
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(shown) + more


def _normalize_all(stored: dict[str, Any]) -> dict[str, Any]:
    """Every record, normalized, and the groups of them that are one school (indexes)."""
    records: list[SchoolRecord] = []
    for name in sorted(stored):
        records.extend(ChunkResult.from_json(stored[name]).records)
    normalized = normalize_document(records)
    return {
        "records": [r.to_json() for r in normalized],
        "groups": group_duplicates(normalized),
    }


def _chunk_step(chunk: Chunk) -> str:
    """A chunk's checkpoint name: its position and a hash of what it holds, so that a
    checkpoint is only ever reused for the very same text and context."""
    digest = hashlib.sha256()
    for part in (
        str(chunk.page),
        str(chunk.offset),
        chunk.context,
        chunk.text,
        *sorted(chunk.boilerplate),
    ):
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return f"{CHUNK_PREFIX}{chunk.index:05d}-{digest.hexdigest()[:16]}"


def _copies(keys: Sequence[PageKey | None]) -> list[PageText]:
    """Pages made of exactly the objects of an earlier page, as skipped pages."""
    first: dict[PageKey, int] = {}
    copies = []
    for number, key in enumerate(keys, start=1):
        if key is None:
            continue
        if key in first:
            copies.append(same_as(number, first[key]))
        else:
            first[key] = number
    return copies


def _missing_ranges(total: int, have: set[int], per_job: int) -> list[tuple[int, int]]:
    """0-based [start, stop) ranges covering the pages (1-based in ``have``) not yet stored."""
    missing = [i for i in range(total) if i + 1 not in have]
    ranges: list[tuple[int, int]] = []
    for i in missing:
        if ranges and ranges[-1][1] == i and i - ranges[-1][0] < per_job:
            ranges[-1] = (ranges[-1][0], i + 1)
        else:
            ranges.append((i, i + 1))
    return ranges


async def _gather_all(coros: list[Any]) -> None:
    """Run all; on the first failure cancel the rest and raise it (finished work is kept)."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
