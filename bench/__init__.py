"""Benchmarks, each a script: ``.venv/bin/python bench/<name>.py`` (a package only so that type
checking tells ``bench/agents.py`` from the ``agents`` app)."""
