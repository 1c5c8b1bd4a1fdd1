"""Care flags gain two kinds: "larger_size" (a session done with a larger dilator than
prescribed) and "resume_review" (a pause's planned end has come: review before resuming).

Revision ID: i16_evidence
Revises: i14_schedule
Create Date: 2026-12-04 21:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i16_evidence'
down_revision = 'i14_schedule'
branch_labels = None
depends_on = None

# The enum column is a VARCHAR sized to the longest value (15, "measure_overdue", which the
# new ones do not exceed) with a CHECK listing them all: only the CHECK changes. Batch mode
# rebuilds the table on SQLite, alters it in place on PostgreSQL.
_FLAG_KINDS = ("red_flag", "pain_rising", "not_logging", "review_due", "ready", "measure_overdue")
_NEW_FLAG_KINDS = ("larger_size", "resume_review")


def _flag_kind_check(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    with op.batch_alter_table('care_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_care_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', _flag_kind_check((*_FLAG_KINDS, *_NEW_FLAG_KINDS)))


def downgrade():
    # The flags of the new kinds go with this revision; the summaries stop naming them.
    for kind in _NEW_FLAG_KINDS:
        op.execute(f"DELETE FROM care_flags WHERE kind = '{kind}'")
        op.execute(
            "UPDATE patient_summaries SET open_flag_kinds ="
            f" TRIM(REPLACE(' ' || open_flag_kinds || ' ', ' {kind} ', ' '))"
        )
    with op.batch_alter_table('care_flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_care_flags_flag_kind'), type_='check')
        batch_op.create_check_constraint('flag_kind', _flag_kind_check(_FLAG_KINDS))
