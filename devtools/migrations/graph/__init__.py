"""The Alembic revision graph, read statically: `model` (what files declare, the graph),
`read` (revision files, with `ast`), `alembic` (heads and cycles as Alembic computes them),
`rules` (the graph checks)."""
