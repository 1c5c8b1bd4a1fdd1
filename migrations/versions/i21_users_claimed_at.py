"""Adherence counts from the day a patient began the diary: `users.claimed_at`.

When the account's invitation was accepted (its first password chosen). Days before it
could not be logged, so adherence neither prescribes nor misses them, and "not logging"
counts from it (clinic.domain.adherence, `diary_since`). Filled for accounts claimed
before this revision from their accepted invitation; left empty where there is none (an
account given a password another way), which counts every day, as before.

Revision ID: i21_claimed_at
Revises: i18_size_users
Create Date: 2026-12-06 08:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i21_claimed_at'
down_revision = 'i18_size_users'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE users SET claimed_at = ("
        " SELECT min(invitations.used_at) FROM invitations"
        " WHERE invitations.user_id = users.id AND invitations.purpose = 'invitation'"
        ") WHERE users.password_hash IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
