"""FHIR API (issue 19): the tokens other systems call the API with, and the referrals they
post, waiting for an administrator to accept or decline them.

Revision ID: i19_api
Revises: i18_perf
Create Date: 2026-12-05 10:18:10.523640

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i19_api'
down_revision = 'i18_perf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('can_import', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_api_tokens_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('pending_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', name='referral_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('resource', sa.Text(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('identifier', sa.String(length=300), nullable=False),
    sa.Column('referrer', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('indication', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('dedup_key', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_pending_referrals_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_pending_referrals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_pending_referrals_patient_id_patients')),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_pending_referrals_token_id_api_tokens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_referrals'))
    )
    with op.batch_alter_table('pending_referrals', schema=None) as batch_op:
        batch_op.create_index('ix_pending_referrals_clinic_status', ['clinic_id', 'status', 'received_at'], unique=False)
        batch_op.create_index('uq_pending_referrals_dedup', ['clinic_id', 'dedup_key'], unique=True)



def downgrade():
    with op.batch_alter_table('pending_referrals', schema=None) as batch_op:
        batch_op.drop_index('uq_pending_referrals_dedup')
        batch_op.drop_index('ix_pending_referrals_clinic_status')

    op.drop_table('pending_referrals')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_clinic_id'))

    op.drop_table('api_tokens')
