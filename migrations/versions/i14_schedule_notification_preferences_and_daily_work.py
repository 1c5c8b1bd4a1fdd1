"""Notification preferences and the scheduled daily work (issue 14): each person's email
choices (a clinician's daily summary and its time, a patient's "something to fill in"
emails), and the clinic-local day the daily work last ran.

Revision ID: i14_schedule
Revises: i14_alerts
Create Date: 2026-12-04 20:52:57.382342

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_schedule'
down_revision = 'i14_alerts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_run_on', sa.Date(), nullable=True))

    # AUTOINCREMENT kept (i14_accounts): a rebuild of the table must not drop it.
    with op.batch_alter_table('users', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('digest_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('digest_at', sa.Time(), server_default='08:00:00', nullable=False))
        batch_op.add_column(sa.Column('questionnaire_emails', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    # AUTOINCREMENT kept (i14_accounts): a rebuild of the table must not drop it.
    with op.batch_alter_table('users', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('questionnaire_emails')
        batch_op.drop_column('digest_at')
        batch_op.drop_column('digest_enabled')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('daily_run_on')
