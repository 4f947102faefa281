"""A load generator in its own process: N keep-alive connections against a list of URLs, for D
seconds (GET) or for a number of requests (POST, each with its own Idempotency-Key); prints
requests/s, p50 and p99 latency (ms) and the count of unexpected statuses as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import httpx


async def run(spec: dict[str, Any]) -> dict[str, float]:
    urls: list[str] = spec["urls"]
    connections: int = spec["connections"]
    method: str = spec.get("method", "GET")
    body = spec.get("json")
    expect = 201 if method == "POST" else 200
    deadline = time.perf_counter() + spec.get("seconds", 3600)
    remaining = spec.get("requests", 1 << 62)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60, headers=spec["headers"]) as client:

        async def worker(offset: int) -> None:
            nonlocal errors, remaining
            n = offset
            while time.perf_counter() < deadline and remaining > 0:
                remaining -= 1
                url = urls[n % len(urls)]
                started = time.perf_counter()
                if method == "POST":
                    key = {"Idempotency-Key": uuid.uuid4().hex}
                    response = await client.post(url, json=body, headers=key)
                else:
                    response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                if response.status_code != expect:
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
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
