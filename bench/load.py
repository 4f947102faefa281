"""A load generator in its own process: N keep-alive connections for D seconds against a list of
URLs; prints requests/s, p50 and p99 latency (ms) as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def run(
    urls: list[str], connections: int, seconds: float, headers: dict[str, str]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            n = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(urls[n % len(urls)])
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1
                n += connections

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "requests": len(latencies),
        "errors": errors,
    }


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(
        json.dumps(
            asyncio.run(
                run(spec["urls"], spec["connections"], spec["seconds"], spec.get("headers", {}))
            )
        )
    )
