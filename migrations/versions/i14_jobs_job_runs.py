"""Background runs (the MDT pack, the audit trail export) with their progress and, for a day, their file (issue 14).

Revision ID: i14_jobs
Revises: i16_reportables
Create Date: 2026-12-04 20:52:24.785068

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_jobs'
down_revision = 'i16_reportables'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='job_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=False),
    sa.Column('result', sa.LargeBinary(), nullable=True),
    sa.Column('result_name', sa.String(length=120), nullable=False),
    sa.Column('result_type', sa.String(length=80), nullable=False),
    sa.Column('result_size', sa.Integer(), server_default='0', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('done >= 0 AND total >= 0', name=op.f('ck_job_runs_progress_not_negative')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_job_runs_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_job_runs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_job_runs_expires_at', ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_requested_by_id'), ['requested_by_id'], unique=False)



def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_requested_by_id'))
        batch_op.drop_index('ix_job_runs_expires_at')
        batch_op.drop_index(batch_op.f('ix_job_runs_clinic_id'))

    op.drop_table('job_runs')
