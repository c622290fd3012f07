"""`unspin bench`: score restorers on the development sets and write reports.

- `metrics`: the scorer (documents, spans, restoration, calibration), pure functions;
- `baselines`: doing nothing, and exact lookup of known tortured phrases;
- `runner`: runs the engine and the baselines over the sets (seen / unseen protocols);
- `report`: JSON, Markdown and self-contained HTML with plots.
"""

from __future__ import annotations

from unspin.bench.runner import BenchConfig, BenchError, load_devsets, run_bench

__all__ = ["BenchConfig", "BenchError", "load_devsets", "run_bench"]
