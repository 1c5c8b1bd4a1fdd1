"""Patient reminders (issue 15): each patient's reminder settings (slots in their own time
zone, quiet hours, subject, sender name, channels, when the minute's job next looks at
them) and the clinic's "nudge after N days without an entry".

Revision ID: i15_rem
Revises: i16_neo
Create Date: 2026-12-05 04:30:18.793074

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i15_rem'
down_revision = 'i16_neo'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('slots_text', sa.String(length=400), nullable=False),
    sa.Column('quiet_from_minute', sa.Integer(), nullable=True),
    sa.Column('quiet_to_minute', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('show_clinic_name', sa.Boolean(), nullable=False),
    sa.Column('by_email', sa.Boolean(), nullable=False),
    sa.Column('by_push', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(quiet_from_minute IS NULL) = (quiet_to_minute IS NULL)', name=op.f('ck_reminder_plans_quiet_hours_pair')),
    sa.CheckConstraint('NOT enabled OR since IS NOT NULL', name=op.f('ck_reminder_plans_enabled_has_since')),
    sa.CheckConstraint('quiet_from_minute IS NULL OR (quiet_from_minute BETWEEN 0 AND 1439 AND quiet_to_minute BETWEEN 0 AND 1439)', name=op.f('ck_reminder_plans_quiet_hours_range')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_reminder_plans_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id', 'clinic_id'], ['patients.id', 'patients.clinic_id'], name='fk_reminder_plans_patient_clinic'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_plans')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_reminder_plans_patient_id'))
    )
    with op.batch_alter_table('reminder_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_plans_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_plans_next_due_at'), ['next_due_at'], unique=False)

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_nudge_days', sa.Integer(), server_default='4', nullable=False))
        batch_op.create_check_constraint('reminder_nudge_days_range', 'reminder_nudge_days BETWEEN 2 AND 14')



def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_reminder_nudge_days_range'), type_='check')
        batch_op.drop_column('reminder_nudge_days')

    with op.batch_alter_table('reminder_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_plans_next_due_at'))
        batch_op.drop_index(batch_op.f('ix_reminder_plans_clinic_id'))

    op.drop_table('reminder_plans')
