"""The kernel's behaviour, written once and run on both databases.

Every test here takes the `db` fixture (or one built on it), whose `kernel_url` is parametrised:
`[sqlite]` runs in the unit tier, `[postgresql]` in the postgres tier (a throwaway PostgreSQL 15
cluster; skipped with the reason where there is none). The tier comes from the parameter's
marker, not from this folder.
"""
