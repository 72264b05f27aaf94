"""Alembic migration lint: the revision graph, column types, index immutability."""
