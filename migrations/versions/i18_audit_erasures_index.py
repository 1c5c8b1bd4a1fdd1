"""Capacity (issue 18): an index of the audit trail's erasure events.

Which of a patient's audit events are about the record that holds their id now is told
by the last "patient.erase" event for that id (clinic.audit.queries._last_erasure_of),
looked up once per event listed. Without an index that lookup walked the whole trail
backwards from its newest row whenever the patient had never been erased (nearly
always): the patient page's "recent access" on a trail of 170,000 rows (47,000 about the
patient) ran for minutes on PostgreSQL. This partial index holds only erasures, so each
lookup is one probe of a tiny index (0.03 ms for the same query).

Revision ID: i18_erasures
Revises: i20_languages
Create Date: 2026-12-05 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18_erasures'
down_revision = 'i20_languages'
branch_labels = None
depends_on = None

ERASURES = sa.text("action = 'patient.erase'")


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_audit_events_erasures',
            ['clinic_id', 'patient_id', 'id'],
            unique=False,
            sqlite_where=ERASURES,
            postgresql_where=ERASURES,
        )


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_erasures', sqlite_where=ERASURES, postgresql_where=ERASURES)
