"""Timing helpers shared by the micro-benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_us(function: Callable[[], object], iterations: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time per call, in microseconds.

    The median of several means keeps one disturbed repeat (this machine is shared) from
    moving the figure.
    """
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(iterations):
            function()
        samples.append((time.perf_counter() - started) / iterations * 1e6)
    return statistics.median(samples)
