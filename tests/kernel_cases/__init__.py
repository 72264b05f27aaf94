"""Kernel behaviour tests written once and collected by two tiers.

`tests/unit/kernel/test_*.py` run them on SQLite and `tests/postgres/kernel/test_*.py` on a real
PostgreSQL, by importing the same test functions; each tier's conftest supplies `kernel_url`.
"""
