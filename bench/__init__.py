"""Baton's benchmarks (``bench/run.py``, ``bench/bench_http.py``); a package
so that the HTTP benchmark's Django app imports as ``bench.httpbase``."""
