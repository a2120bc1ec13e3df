"""Benchmarks run by `make bench` (`make bench BENCH=<name>` for one).

Each module here with a `main()` is one benchmark: it prints its figures and writes them to
`.bench/<name>.json`. Ratios are measured against a baseline taken in the same run.
"""
