"""More things a patient can report with a session (issue 16): the "Anything else today?"
concerns on diary entries; red flags gain their reasons (infection signs, stool/wind/urine
from the vagina, urinary trouble, bowel leakage, a device that could not be removed, new
bleeding after radiotherapy, distress); care flags gain "skipping for pain", "feels very
much worse" and the dashboard's "distress" kind.

Enum columns are a VARCHAR sized to the longest value with a CHECK listing them all, so
both change. Batch mode rebuilds the tables on SQLite, alters them in place on PostgreSQL.

Revision ID: i16_reportables
Revises: i16_evidence
Create Date: 2026-12-04 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_reportables'
down_revision = 'i16_evidence'
branch_labels = None
depends_on = None

_REASONS = ("high_pain", "bleeding", "sharp_pain")
_NEW_REASONS = (
    "infection", "fistula", "urinary", "bowel_leakage", "device_stuck", "rt_bleeding", "distress"
)
# The kinds before this revision, those of i16_evidence included.
_KINDS = (
    "red_flag", "pain_rising", "not_logging", "review_due", "ready", "measure_overdue",
    "larger_size", "resume_review",
)
_NEW_KINDS = ("pain_skips", "pgic_worse", "distress")


def _check(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table('diary_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concerns', sa.String(length=120), server_default='', nullable=False))

    with op.batch_alter_table('red_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_red_flags_flag_reason'), type_='check')
        batch_op.alter_column('reason', existing_type=sa.String(length=10), type_=sa.String(length=13), existing_nullable=False)
        batch_op.create_check_constraint('flag_reason', _check('reason', (*_REASONS, *_NEW_REASONS)))

    with op.batch_alter_table('care_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_care_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', _check('kind', (*_KINDS, *_NEW_KINDS)))


def downgrade():
    # The flags of the new kinds go with this revision; the summaries stop naming them.
    op.execute("DELETE FROM care_flags WHERE kind IN (" + ", ".join(f"'{k}'" for k in _NEW_KINDS) + ")")
    for kind in _NEW_KINDS:
        op.execute(
            "UPDATE patient_summaries SET open_flag_kinds ="
            f" TRIM(REPLACE(' ' || open_flag_kinds || ' ', ' {kind} ', ' '))"
        )
    op.execute("DELETE FROM red_flags WHERE reason IN (" + ", ".join(f"'{r}'" for r in _NEW_REASONS) + ")")
    with op.batch_alter_table('care_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_care_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', _check('kind', _KINDS))

    with op.batch_alter_table('red_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_red_flags_flag_reason'), type_='check')
        batch_op.alter_column('reason', existing_type=sa.String(length=13), type_=sa.String(length=10), existing_nullable=False)
        batch_op.create_check_constraint('flag_reason', _check('reason', _REASONS))

    with op.batch_alter_table('diary_entries', schema=None) as batch_op:
        batch_op.drop_column('concerns')
