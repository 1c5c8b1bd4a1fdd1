"""Capacity (issue 18): a clinic's staff revision, for pages kept that name staff.

The caseload list is kept rendered under the clinic's caseload version, which moves with
every patient and summary; it also names each patient's responsible clinician, whose
name is not a summary's input. `clinics.staff_revision` moves by 1 whenever a staff
member's name changes (clinic.account.upkeep), and is part of the list's key.

Revision ID: i18_staff
Revises: i18_erasures
Create Date: 2026-12-05 20:35:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18_staff'
down_revision = 'i18_erasures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_revision', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('staff_revision')
