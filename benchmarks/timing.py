# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The one timing loop of the benchmarks."""
import statistics
import time
from typing import Callable

import torch


def median_time(fn: Callable[[], object], repeats: int, device: str) -> float:
    """Median wall time of ``fn()`` in seconds, after one warm-up call.

    Waits for the GPU before and after each call when ``device`` is CUDA.
    """
    sync = torch.cuda.synchronize if device.startswith('cuda') else None
    fn()
    times = []
    for _ in range(repeats):
        if sync:
            sync()
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
