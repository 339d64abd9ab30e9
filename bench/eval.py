"""Score the rules extractor on samples/*.pdf against samples/*.expected.json.

Usage: ``python -m bench.eval [SAMPLES_DIR]``. Prints precision / recall / F1 per sample and
per field, an overall line, and how many merges.json pairs normalize to matching names.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from domain.normalize import match_key
from domain.records import Evidence, PageText, SchoolRecord
from handlers.reader.extractor import OfflineReader
from handlers.text import extract_page_range
from pipeline.errors import InputError

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FIELDS = ("address", "city", "region", "postal_code", "phone", "grades", "website")
NAME_MATCH = 90.0

Normalizer = Callable[[SchoolRecord], SchoolRecord]


def load_normalizer() -> Normalizer | None:
    """domain.normalize is written separately; score loosely until it exists."""
    try:
        module = importlib.import_module("domain.normalize")
    except ImportError:
        return None
    fn = getattr(module, "normalize_record", None)
    return fn if callable(fn) else None


def read_pages(path: Path) -> list[PageText]:
    """Page texts as the pipeline's stage 1 produces them; unreadable files give no pages."""
    try:
        return list(extract_page_range(path.read_bytes(), path.name, 0, 2**31).pages)
    except InputError:
        return []  # e.g. needs a password: the handler fails it, so nothing is expected


async def extract(pages: Sequence[PageText]) -> list[SchoolRecord]:
    extractor = OfflineReader()
    results = await asyncio.gather(*(extractor.extract(c) for c in extractor.chunks(pages)))
    return [r for res in results for r in res.records]


def loose(value: object, key: str = "") -> str:
    """Compare without a normalizer: casefold, collapse spaces; phones by their last 9 digits."""
    if value is None:
        return ""
    text = " ".join(str(value).casefold().split())
    if key == "phone":
        return re.sub(r"\D", "", text)[-9:]
    if key == "website":
        return re.sub(r"^https?://", "", text).rstrip("/")
    if key == "grades":
        # US "KG-05" and WA "KIN-Y06" / "PPR-Y12" spellings of "K-5", "K-6", "PP-12"
        text = text.replace("–", "-").replace("kin", "k").replace("kg", "k").replace("ppr", "pp")
        return re.sub(r"\b(?:y|year ?)?0*(\d+)", r"\1", text)
    return text


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


@dataclass
class Result:
    name: Score = field(default_factory=Score)
    fields: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in FIELDS})

    def add(self, other: Result) -> None:
        self.name.add(other.name)
        for k in FIELDS:
            self.fields[k].add(other.fields[k])


def match(got: list[SchoolRecord], want: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Greedy best-first pairing by name similarity (casefolded), each side used once."""
    cands = []
    for i, g in enumerate(got):
        for j, w in enumerate(want):
            score = fuzz.ratio(g.name.casefold(), str(w["name"]).casefold())
            if score >= NAME_MATCH:
                cands.append((score, i, j))
    return best_first(cands)


def best_first(cands: list[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """One-to-one pairs from scored (score, got, want) candidates, the best taken first."""
    used_i: set[int] = set()
    used_j: set[int] = set()
    pairs = []
    for _, i, j in sorted(cands, reverse=True):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((i, j))
    return pairs


def score(got: list[SchoolRecord], want: list[dict[str, Any]]) -> Result:
    res = Result()
    pairs = match(got, want)
    res.name = Score(len(pairs), len(got) - len(pairs), len(want) - len(pairs))
    paired_got = {i for i, _ in pairs}
    for key in FIELDS:
        s = res.fields[key]
        for i, j in pairs:
            g, w = loose(getattr(got[i], key), key), loose(want[j].get(key), key)
            if g and w:
                s.tp, s.fp, s.fn = s.tp + (g == w), s.fp + (g != w), s.fn + (g != w)
            else:
                s.fp, s.fn = s.fp + bool(g), s.fn + bool(w)
        # values on records that match no expected school are false positives too
        s.fp += sum(1 for i, g in enumerate(got) if i not in paired_got and getattr(g, key))
        s.fn += sum(1 for j, w in enumerate(want) if j not in {b for _, b in pairs} and w.get(key))
    return res


def _fmt(label: str, s: Score) -> str:
    p, r, f = s.prf()
    return f"{label:<12} P={p:.3f} R={r:.3f} F1={f:.3f}"


def report(sample: str, res: Result) -> None:
    print(f"{sample:<20} {_fmt('name', res.name)}")
    print(" " * 21 + "  ".join(f"{k}={res.fields[k].prf()[2]:.2f}" for k in FIELDS))


def _blank(name: str) -> SchoolRecord:
    return SchoolRecord(name=name, evidence=Evidence(1, 0, len(name), name))


def check_merges(samples: Path, normalize: Normalizer | None) -> None:
    path = samples / "merges.json"
    if not path.exists():
        return
    pairs = json.loads(path.read_text(encoding="utf-8"))
    norm = normalize or (lambda r: r)
    ok = 0
    for pair in pairs:
        # names are stored as printed; matching compares their keys
        a, b = match_key(norm(_blank(pair["a"])).name), match_key(norm(_blank(pair["b"])).name)
        ok += fuzz.token_sort_ratio(a, b) >= NAME_MATCH
    print(f"merges: {ok}/{len(pairs)} same-school pairs match after normalization")


def run(samples: Path) -> Result:
    normalize = load_normalizer()
    print(f"normalizer: {'domain.normalize' if normalize else 'none (loose compare)'}")
    total = Result()
    for pdf in sorted(samples.glob("*.pdf")):
        expected_path = pdf.with_suffix(".expected.json")
        if not expected_path.exists():
            continue
        want = json.loads(expected_path.read_text(encoding="utf-8"))
        got = asyncio.run(extract(read_pages(pdf)))
        if normalize:
            got = [normalize(r) for r in got]
        got = [replace(r, name=" ".join(r.name.split())) for r in got]
        res = score(got, want)
        report(pdf.stem, res)
        total.add(res)
    report("OVERALL", total)
    check_merges(samples, normalize)
    return total


def main(argv: Sequence[str]) -> None:
    run(Path(argv[0]) if argv else SAMPLES)


if __name__ == "__main__":
    main(sys.argv[1:])
