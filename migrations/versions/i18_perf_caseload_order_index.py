"""Capacity (issue 18): an index in the caseload list's order, per clinic.

The list of a clinic's patients is sorted by name and paged; without this index each
page sorted every patient of the clinic (with their joined rows) to keep 25. With it,
a page reads its own rows: on PostgreSQL at 1,000 patients the list's query fell from
7.4 ms to 0.5 ms.

Revision ID: i18_perf
Revises: i15_push
Create Date: 2026-12-05 07:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i18_perf'
down_revision = 'i15_push'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index('ix_patients_clinic_name', ['clinic_id', 'full_name', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index('ix_patients_clinic_name')
