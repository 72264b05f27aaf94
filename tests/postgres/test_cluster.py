from __future__ import annotations

import psycopg

from tests.fixtures.postgres import PgCluster


def test_cluster_is_postgres_15_on_loopback_as_non_root(pg_cluster: PgCluster) -> None:
    with psycopg.connect(pg_cluster.conninfo(), autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and str(version[0]).startswith("15")
        addr = conn.execute("SELECT inet_server_addr()::text").fetchone()
        assert addr is not None and addr[0].startswith("127.0.0.1")
        owner = conn.execute("SELECT pg_catalog.current_setting('data_directory')").fetchone()
        assert owner is not None


def test_each_test_gets_its_own_database(pg_url: str, pg_cluster: PgCluster) -> None:
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.conninfo(dbname), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        row = conn.execute("SELECT count(*) FROM t").fetchone()
        assert row == (0,)
