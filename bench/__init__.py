"""Benchmark harness (issue 9): scenarios against the real station, store and broker.

Run ``python -m bench`` from the repository root; see bench/README.md.
"""
