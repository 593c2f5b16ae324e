"""The tracker's Alembic migrations (``versions/``), applied by :func:`tracker.db.connect`.

Rules: revisions are named ``NNNN_what.py`` with ``revision = "NNNN"``; a migration never
drops or rewrites a user's rows; SQLite changes go through ``op.batch_alter_table``. Every
revision is covered by tests/tracker/test_tracker_migrations.py, which writes rows at the
first revision, upgrades to the head and reads them back, and checks that the head schema
equals tracker/models.py. To draft a new revision against a scratch database::

    from alembic import command
    from tracker.db import alembic_config, connect, write_transaction
    engine = connect("sqlite:///scratch.db")
    with write_transaction(engine) as conn:
        command.revision(alembic_config(conn), "what changed", autogenerate=True,
                         rev_id="0003")
"""
