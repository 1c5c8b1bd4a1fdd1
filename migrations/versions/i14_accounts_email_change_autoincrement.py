"""Accounts (issue 14): email-change links hold the new address; on SQLite, account and
patient ids are never reused (AUTOINCREMENT), so an erased patient's id never comes back
as a new colleague's and the audit trail never mixes the two.

On SQLite, AUTOINCREMENT is part of the table's definition: `users` and `patients` are
rebuilt (batch mode copies every row, keeping ids). Foreign keys are switched off for the
rebuild (SQLite's documented procedure for changing a table: other tables refer to these
two, and dropping the old copy would otherwise fail), then checked once it is done.
PostgreSQL never reuses a sequence's values: nothing to do there.

Revision ID: i14_accounts
Revises: 5b7739e50926
Create Date: 2026-12-04 20:51:15.850999

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_accounts'
down_revision = '5b7739e50926'
branch_labels = None
depends_on = None

REBUILT = ('users', 'patients')


def _rebuild_sqlite_tables(autoincrement):
    """Rebuild `users` and `patients` on SQLite with or without AUTOINCREMENT."""
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
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('new_email', sa.String(length=254), server_default='', nullable=False)
        )
    _rebuild_sqlite_tables(autoincrement=True)


def downgrade():
    _rebuild_sqlite_tables(autoincrement=False)
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('new_email')
