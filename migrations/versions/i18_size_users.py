"""Capacity (issue 18): diary entries indexed by the dilator size they name.

A size relabelled (or retired) moves the summary version of every patient whose diary
names it, since the timeline's entries table, kept under that version, shows the size's
label (clinic.monitoring.upkeep, `_SIZE_USERS`). Without this index finding them read the
whole diary table, every clinic's.

Revision ID: i18_size_users
Revises: i18_staff
Create Date: 2026-12-06 02:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i18_size_users'
down_revision = 'i18_staff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('diary_entries', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_diary_entries_dilator_size_id'), ['dilator_size_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('diary_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diary_entries_dilator_size_id'))
