"""Issue 14 review: ids that name a message are never reused on SQLite; a worker's claim
on the messages it sends is its own.

On SQLite, a table without AUTOINCREMENT hands a deleted row's id to the next row. The
outbox keys messages by those ids (a report's first flag, an invitation, a questionnaire
assignment) and sends the outbox's own id as the Message-ID, so an id coming back after an
erasure or the daily clean-up made a new message a "duplicate" of the old one: never
written. `red_flags`, `invitations`, `measure_assignments` and `outbox_messages` are
rebuilt with AUTOINCREMENT (as `users` and `patients` were by i14_accounts): foreign keys
off for the rebuild (SQLite's documented procedure), checked once it is done.
PostgreSQL never reuses a sequence's values: nothing to do there.

A LATER MIGRATION THAT REBUILDS ONE OF THESE TABLES IN BATCH MODE must pass
table_kwargs={'sqlite_autoincrement': True}, or SQLite drops AUTOINCREMENT again
(tests/integration/test_migrations.py checks it after every migration).

`outbox_messages.claim_token`: the random token of the worker that claimed a message; it
writes what became of the message only while the token is still its own.

Revision ID: i14_fix
Revises: i16_templates
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_fix'
down_revision = 'i16_templates'
branch_labels = None
depends_on = None

REBUILT = ('red_flags', 'invitations', 'measure_assignments', 'outbox_messages')


def _rebuild_sqlite_tables(autoincrement):
    """Rebuild the tables whose ids name messages, with or without AUTOINCREMENT."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    context = op.get_context()
    with context.autocommit_block():
        op.execute('PRAGMA foreign_keys=OFF')  # outside a transaction, or it does nothing
    for table in REBUILT:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
        ):
            pass
    problems = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
    if problems:
        raise RuntimeError(f'foreign keys broken by the rebuild: {problems[:5]}')
    with context.autocommit_block():
        op.execute('PRAGMA foreign_keys=ON')


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
    _rebuild_sqlite_tables(autoincrement=True)


def downgrade():
    _rebuild_sqlite_tables(autoincrement=False)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('claim_token')
