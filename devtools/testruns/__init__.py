"""`omc-dev tests`: pytest results per test, baselines that ratchet, and polluters found.

(Named `testruns`, not `tests`, so it never shadows the repository's own tests/ package.)
"""
