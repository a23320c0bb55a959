"""Alembic environment: runs on the connection handed over by bot.db.migrate (or a URL from -x url=)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import bot.db.tables  # noqa: F401  (registers every table on Base.metadata)
from bot.db.base import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///warroom.db")
    with create_engine(url).connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
