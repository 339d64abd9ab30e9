"""Benchmark stage 2 (llm): throughput against a server with fixed latency.

With ``in_flight`` requests allowed at once and a server that takes ``latency`` per request,
no client can beat ``in_flight / latency`` requests/s. This measures how close the llm
extractor gets (every chunk distinct, so the cache never answers). The last line is
``bound_ratio=<achieved/bound>``.

    .venv/bin/python -m bench.llm [--chunks 160] [--latency 0.2] [--in-flight 8]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from domain.records import Chunk
from handlers.llm.cache import MemoryResponseCache
from handlers.llm.config import LlmConfig
from handlers.llm.extractor import LlmExtractor
from tests.llm_server import FakeLlmServer

_KINDS = ("Elementary School", "Middle School", "High School", "Academy")


def make_chunk(index: int, schools: int = 12) -> Chunk:
    lines = []
    for j in range(schools):
        lines.append(f"Name {index}-{j} {_KINDS[j % len(_KINDS)]}")
        lines.append(f"{index * 100 + j} Main Street, Springfield")
        lines.append("")
    return Chunk(index=index, page=1 + index // 4, text="\n".join(lines))


async def run(chunks: int, latency: float, in_flight: int) -> float:
    with FakeLlmServer(latency_s=latency) as server:
        config = LlmConfig(
            api_key="bench", base_url=server.url, model="bench", max_in_flight=in_flight
        )
        async with LlmExtractor(config, MemoryResponseCache()) as extractor:
            # One request first: the SDK imports its resource modules lazily (~0.1 s), a
            # one-off cost that is not throughput.
            await extractor.extract(make_chunk(-1))
            started = time.perf_counter()
            results = await asyncio.gather(
                *(extractor.extract(make_chunk(i)) for i in range(chunks))
            )
            elapsed = time.perf_counter() - started
        records = sum(len(r.records) for r in results)
        requests = len(server.log) - 1
        print(f"{chunks} chunks, {records} records, {requests} requests in {elapsed:.2f}s")
        print(
            f"server latency {latency * 1000:.0f} ms, max in flight {in_flight}, "
            f"server saw at most {server.max_concurrency} at once"
        )
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=160)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    if args.latency <= 0 or args.in_flight < 1 or args.chunks < 1:
        parser.error("--latency must be > 0, --in-flight and --chunks at least 1")
    achieved = asyncio.run(run(args.chunks, args.latency, args.in_flight))
    bound = args.in_flight / args.latency
    print(f"achieved {achieved:.1f} requests/s, bound {bound:.1f} requests/s")
    print(f"bound_ratio={achieved / bound:.3f}")


if __name__ == "__main__":
    main()
