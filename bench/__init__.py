"""Benchmarks for issue 7: ``python -m bench`` (``make bench``); see docs/benchmarks.md.

Kept out of the package and of the default test run: they time whole builds in fresh processes.
"""
