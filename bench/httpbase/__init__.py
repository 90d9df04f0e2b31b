"""The HTTP benchmark's baselines: a plain DRF + ORM insert and a plain
single-row read, served by the same gunicorn as the API but only under the
benchmark's own settings (``bench.httpbase.settings``), never in production
URLs."""
