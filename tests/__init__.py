"""The test suite.

Run in parallel (pytest-xdist, as ``make test`` does), each worker gets a PostgreSQL database of its own when
``DATABASE_URL`` points at PostgreSQL: the tests make and drop their tables per test, so two workers must not
share a database. It is made here, before the application reads ``DATABASE_URL``, and dropped when the
worker exits. SQLite tests use an in-memory database per app and need nothing.
"""

import atexit
import os


def _database_of_this_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("DATABASE_URL", "")
    if not worker or not url.startswith(("postgresql", "postgres:")):
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    for prefix in ("postgres://", "postgresql://"):  # as config.database_url, which must not be imported yet
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    base = make_url(url)
    own = f"{base.database}_{worker}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{own}"'))
    os.environ["DATABASE_URL"] = base.set(database=own).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)


_database_of_this_worker()
