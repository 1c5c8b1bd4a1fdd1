"""Alerts (issue 14): a clinic's opening hours, response and escalation times, duty
address, sender name and out-of-hours text; the escalation level a red flag reached.

Revision ID: i14_alerts
Revises: i14_accounts
Create Date: 2026-12-04 20:50:27.209076

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_alerts'
down_revision = 'i14_accounts'
branch_labels = None
depends_on = None

OUT_OF_HOURS = (
    'Outside opening hours, the clinic reads messages on its next working day. If you '
    'are worried and it cannot wait, contact your out-of-hours medical service or urgent care.'
)


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_hours', sa.Integer(), server_default='4', nullable=False))
        batch_op.add_column(sa.Column('working_days', sa.String(length=7), server_default='12345', nullable=False))
        batch_op.add_column(sa.Column('opens_at_minute', sa.Integer(), server_default='480', nullable=False))
        batch_op.add_column(sa.Column('closes_at_minute', sa.Integer(), server_default='1080', nullable=False))
        batch_op.add_column(sa.Column('escalate_after_working_hours', sa.Integer(), server_default='4', nullable=False))
        batch_op.add_column(sa.Column('escalate_again_after_hours', sa.Integer(), server_default='24', nullable=False))
        batch_op.add_column(sa.Column('duty_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mail_sender_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('out_of_hours_text', sa.Text(), server_default=OUT_OF_HOURS, nullable=False))
        batch_op.create_check_constraint('response_hours_range', 'response_hours BETWEEN 1 AND 72')
        batch_op.create_check_constraint('working_days_given', 'length(working_days) BETWEEN 1 AND 7')
        batch_op.create_check_constraint(
            'opening_hours_order',
            'opens_at_minute >= 0 AND closes_at_minute <= 1440 AND opens_at_minute < closes_at_minute',
        )
        batch_op.create_check_constraint('escalate_after_range', 'escalate_after_working_hours BETWEEN 1 AND 72')
        batch_op.create_check_constraint('escalate_again_range', 'escalate_again_after_hours BETWEEN 1 AND 336')
        batch_op.create_check_constraint('out_of_hours_text_given', 'length(out_of_hours_text) BETWEEN 1 AND 1000')

    with op.batch_alter_table('red_flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_level', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('escalated_level_range', 'escalated_level BETWEEN 0 AND 2')
    # Flags open before alerts existed are not news: they are not escalated all at once.
    op.execute(sa.text('UPDATE red_flags SET escalated_level = 2'))


def downgrade():
    with op.batch_alter_table('red_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_red_flags_escalated_level_range'), type_='check')
        batch_op.drop_column('escalated_level')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        for name in (
            'out_of_hours_text_given',
            'escalate_again_range',
            'escalate_after_range',
            'opening_hours_order',
            'working_days_given',
            'response_hours_range',
        ):
            batch_op.drop_constraint(op.f(f'ck_clinics_{name}'), type_='check')
        batch_op.drop_column('out_of_hours_text')
        batch_op.drop_column('mail_sender_name')
        batch_op.drop_column('duty_email')
        batch_op.drop_column('escalate_again_after_hours')
        batch_op.drop_column('escalate_after_working_hours')
        batch_op.drop_column('closes_at_minute')
        batch_op.drop_column('opens_at_minute')
        batch_op.drop_column('working_days')
        batch_op.drop_column('response_hours')
