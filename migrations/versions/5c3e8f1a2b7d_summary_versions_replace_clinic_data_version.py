"""Per-patient summary versions replace the clinic's data version: the dashboard's cache
key is read from the summaries (count, sum of versions, erasures), so writes about
different patients of a clinic no longer take the same clinic row.

Revision ID: 5c3e8f1a2b7d
Revises: b16fe6a6a426
Create Date: 2026-12-04 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c3e8f1a2b7d'
down_revision = 'b16fe6a6a426'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patient_summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_column('data_version')


def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('patient_summaries', schema=None) as batch_op:
        batch_op.drop_column('version')
