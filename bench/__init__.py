"""Benchmarks: `make bench` (or `python -m bench.stream_bench`) runs them against a real deployment."""
