"""Capacity (issue 18): the day each summary last read the questionnaires' evidence.

A diary entry moves nothing a questionnaire's flag is made of, so the refresh before its
commit reads that evidence only when it was not read yet on the summary's day (days
passing make a questionnaire overdue): `patient_summaries.measures_on`. NULL (every
summary until its next refresh) means not read today.

Revision ID: i18_measures_on
Revises: i18_size_users
Create Date: 2026-12-06 04:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i18_measures_on'
down_revision = 'i18_size_users'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patient_summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('measures_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('patient_summaries', schema=None) as batch_op:
        batch_op.drop_column('measures_on')
