"""Benchmarks for gladia_async: one script per figure, each printing ratios against baselines.

Run from the repository root, e.g. ``python -m benchmarks.bench_decode --quick``.
Not run by CI or pytest; see benchmarks/README.md.
"""
