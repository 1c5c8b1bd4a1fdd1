"""Safety limits and the neovagina (issue 16): a stage's reason for going beyond the usual
limits (the oversized-step reason, renamed: one reason for every exception); what a
template or protocol suggests when pain says go back (review with the surgical team after
vaginoplasty); the clinic's depth drop that raises a red flag; red flags for a size that
could not be inserted and for a loss of depth.

Revision ID: i16_neo
Revises: i14_fix
Create Date: 2026-12-04 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_neo'
down_revision = 'i14_fix'
branch_labels = None
depends_on = None

_REASONS = (
    "high_pain", "bleeding", "sharp_pain", "infection", "fistula", "urinary", "bowel_leakage",
    "device_stuck", "rt_bleeding", "distress",
)
_NEW_REASONS = ("not_inserted", "depth_loss")
_GOING_BACK = "going_back IN ('step_back', 'surgical_review')"


def _check(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('depth_drop_cm', sa.Numeric(precision=3, scale=1, asdecimal=False), server_default='1.0', nullable=False))
        batch_op.create_check_constraint('depth_drop_range', 'depth_drop_cm BETWEEN 0.5 AND 5')

    for table in ('template_stages', 'protocol_stages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('jump_reason', new_column_name='limits_reason', existing_type=sa.Text(), existing_nullable=False)

    for table in ('protocol_templates', 'protocols'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('going_back', sa.String(length=15), server_default='step_back', nullable=False))
            batch_op.create_check_constraint('going_back', _GOING_BACK)
        # After vaginoplasty a smaller size risks narrowing: existing plans review instead.
        op.execute(f"UPDATE {table} SET going_back = 'surgical_review' WHERE indication = 'vaginoplasty'")

    # AUTOINCREMENT kept on SQLite (i14_fix): ids named by messages are never reused.
    with op.batch_alter_table('red_flags', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(op.f('ck_red_flags_flag_reason'), type_='check')
        batch_op.create_check_constraint('flag_reason', _check('reason', (*_REASONS, *_NEW_REASONS)))


def downgrade():
    op.execute("DELETE FROM red_flags WHERE reason IN (" + ", ".join(f"'{r}'" for r in _NEW_REASONS) + ")")
    # AUTOINCREMENT kept on SQLite (i14_fix): ids named by messages are never reused.
    with op.batch_alter_table('red_flags', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_constraint(op.f('ck_red_flags_flag_reason'), type_='check')
        batch_op.create_check_constraint('flag_reason', _check('reason', _REASONS))

    for table in ('protocols', 'protocol_templates'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_going_back'), type_='check')
            batch_op.drop_column('going_back')

    for table in ('protocol_stages', 'template_stages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('limits_reason', new_column_name='jump_reason', existing_type=sa.Text(), existing_nullable=False)

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_depth_drop_range'), type_='check')
        batch_op.drop_column('depth_drop_cm')
