"""Alembic environment of the preference memory.

``memory.db.upgrade`` passes an open connection (inside the store's migration lock) through
``config.attributes["connection"]``; the alembic CLI (``alembic -c memory/alembic.ini``) uses the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from memory.schema import Base

VERSION_TABLE = "memory_alembic_version"
config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
