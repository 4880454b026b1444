"""The embedded PostgreSQL that `make run` and `make test` start when DATABASE_URL is unset."""

import psycopg

from tools import servers


def test_a_new_embedded_server_allows_the_connections_the_suite_needs(tmp_path, monkeypatch):
    # The default 100 ran out when a race test's 50 threads met the other workers' connections.
    monkeypatch.setattr(servers, "DEVDATA", tmp_path)
    (tmp_path / "run").mkdir()

    with servers.embedded_postgres() as url, psycopg.connect(url) as conn:
        allowed = int(conn.execute("SHOW max_connections").fetchone()[0])
        database = conn.execute("SELECT current_database()").fetchone()[0]

    assert allowed == servers.MAX_CONNECTIONS
    assert database == servers.DATABASE_NAME
