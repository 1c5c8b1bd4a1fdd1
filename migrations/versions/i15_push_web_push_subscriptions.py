"""Web Push (issue 15): the devices on which a patient turned notifications on.

Revision ID: i15_push
Revises: i15_rem
Create Date: 2026-12-05 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'i15_push'
down_revision = 'i15_rem'
branch_labels = None
depends_on = None


def upgrade():
    # AUTOINCREMENT on SQLite: the outbox keys a push message by its subscription's id.
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=2048), nullable=False),
        sa.Column('p256dh', sa.String(length=200), nullable=False),
        sa.Column('auth', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_push_subscriptions_clinic_id_clinics')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_subscriptions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
        sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_subscriptions_user_id'), ['user_id'], unique=False)


def downgrade():
    # The outbox's push messages go with the devices they were for.
    op.execute("DELETE FROM outbox_messages WHERE channel = 'push'")
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_user_id'))
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_clinic_id'))
    op.drop_table('push_subscriptions')
