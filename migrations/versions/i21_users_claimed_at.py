"""Adherence counts from the day a patient began the diary: `users.claimed_at`.

When the account's invitation was accepted (its first password chosen). Days before it
could not be logged, so adherence neither prescribes nor misses them, and "not logging"
counts from it (clinic.domain.adherence, `diary_since`). Filled for accounts claimed
before this revision from their accepted invitation, or, where the daily clean-up has
deleted it (30 days after), from the audit trail's "invitation.accept" event, which is
never deleted; left empty where there is neither (an account given a password another
way), which counts every day, as before. Every clinic's summaries are then due again
(`summaries_on` emptied): the next daily work or dashboard visit recomputes them by the
new rule (`flask refresh-summaries` does it at once).

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
        "UPDATE users SET claimed_at = coalesce(("
        " SELECT min(invitations.used_at) FROM invitations"
        " WHERE invitations.user_id = users.id AND invitations.purpose = 'invitation'"
        "), ("
        " SELECT min(audit_events.at) FROM audit_events"
        " WHERE audit_events.actor_id = users.id AND audit_events.action = 'invitation.accept'"
        ")) WHERE users.password_hash IS NOT NULL"
    )
    op.execute("UPDATE clinics SET summaries_on = NULL")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
