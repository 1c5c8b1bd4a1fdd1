"""A protocol for a patient under 18 names the specialist service that leads it:
`protocols.specialist_direction`.

The product is not for children outside a specialist service (the clinical reference;
vaginal agenesis / MRKH is often treated from adolescence, led by a specialist service).
Empty for every protocol started before this revision and for adults; the protocol's
hash chain covers it only when it is filled, so existing chains verify as before.

Revision ID: i22_specialist
Revises: i21_claimed_at
Create Date: 2026-12-06 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i22_specialist'
down_revision = 'i21_claimed_at'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('specialist_direction', sa.String(length=200), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.drop_column('specialist_direction')
