"""Templates and indications (issue 16): four new indications; a patient's name to use and
the date radiotherapy ended; the clinic's interval after radiotherapy; a protocol's
procedure date; a dilator set's flared base; a template's sources and review date.

Revision ID: i16_templates
Revises: i14_jobs
Create Date: 2026-12-04 21:08:22.997714

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_templates'
down_revision = 'i14_jobs'
branch_labels = None
depends_on = None

OLD_INDICATIONS = (
    'vaginismus', 'dyspareunia', 'pelvic_radiotherapy', 'vaginoplasty', 'anal_stenosis',
    'anal_fissure', 'levator_ani', 'chronic_pelvic_pain', 'other',
)
NEW_INDICATIONS = OLD_INDICATIONS[:-1] + (
    'vaginal_agenesis', 'menopause_gsm', 'perineal_scarring', 'lichen_sclerosus', 'other',
)
# The tables whose indication column carries the enum's CHECK constraint.
INDICATION_TABLES = ('patients', 'protocol_templates', 'protocols')


def _indication_check(values):
    return 'indication IN (' + ', '.join(f"'{v}'" for v in values) + ')'


def _replace_indication_checks(values):
    # The longest value is still 'pelvic_radiotherapy', so the VARCHAR length stays.
    for table in INDICATION_TABLES:
        # Rebuilding patients on SQLite must keep its AUTOINCREMENT (i14_accounts).
        kept = {'sqlite_autoincrement': True} if table == 'patients' else {}
        with op.batch_alter_table(table, schema=None, table_kwargs=kept) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_indication'), type_='check')
            batch_op.create_check_constraint(
                op.f(f'ck_{table}_indication'), _indication_check(values)
            )


def upgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('radiotherapy_weeks', sa.Integer(), server_default='4', nullable=False))
        batch_op.create_check_constraint('radiotherapy_weeks_range', 'radiotherapy_weeks BETWEEN 2 AND 8')

    with op.batch_alter_table('dilator_sets', schema=None) as batch_op:
        # Nobody has confirmed a flared base for existing sets: they start without one, and
        # an anal protocol that uses them is refused until the clinic records it.
        batch_op.add_column(sa.Column('flared_base', sa.Boolean(), server_default=sa.false(), nullable=False))

    # AUTOINCREMENT kept (i14_accounts): a rebuild of the table must not drop it.
    with op.batch_alter_table('patients', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('name_to_use', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('radiotherapy_ended_on', sa.Date(), nullable=True))

    with op.batch_alter_table('protocol_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sources', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('review_on', sa.Date(), nullable=True))

    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure_on', sa.Date(), nullable=True))

    _replace_indication_checks(NEW_INDICATIONS)


def downgrade():
    # Rows with a new indication cannot go back: the old CHECK would refuse them.
    _replace_indication_checks(OLD_INDICATIONS)

    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.drop_column('procedure_on')

    with op.batch_alter_table('protocol_templates', schema=None) as batch_op:
        batch_op.drop_column('review_on')
        batch_op.drop_column('sources')

    # AUTOINCREMENT kept (i14_accounts): a rebuild of the table must not drop it.
    with op.batch_alter_table('patients', schema=None, table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('radiotherapy_ended_on')
        batch_op.drop_column('name_to_use')

    with op.batch_alter_table('dilator_sets', schema=None) as batch_op:
        batch_op.drop_column('flared_base')

    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_radiotherapy_weeks_range'), type_='check')
        batch_op.drop_column('radiotherapy_weeks')
