"""Alembic environment for the tracker schema.

Run by :mod:`tracker.db` with ``config.attributes["connection"]``: the migrations execute on
that connection, inside the transaction (and under the lock) its caller holds. There is no
alembic.ini; to write a new revision, see ``tracker/migrations/__init__.py``.
"""

from alembic import context

from tracker.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("tracker migrations run through tracker.db, on a given connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them: batch mode does it safely
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
