"""The one way every benchmark turns timings into figures: exact percentiles of the samples
(inclusive method: the 95th of 20 samples lies between the 19th and the 20th), not a tool's
rounded histogram buckets."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], q: int) -> float:
    """The q-th percentile (1-99) of `samples`; a single sample is every percentile."""
    if not samples:
        raise ValueError("no samples to take a percentile of")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def spread(samples_ms: list[float], digits: int = 2) -> dict[str, float]:
    """p50, p95 and the slowest of timings in milliseconds, as the JSON reports keep them."""
    return {
        "p50_ms": round(percentile(samples_ms, 50), digits),
        "p95_ms": round(percentile(samples_ms, 95), digits),
        "max_ms": round(max(samples_ms), digits),
    }
