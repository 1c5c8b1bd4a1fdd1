"""Languages (issue 20): the patient's language on their record, and the languages each
clinic has turned on after its own review.

Revision ID: i20_languages
Revises: i19_letters
Create Date: 2026-12-05 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i20_languages'
down_revision = 'i19_letters'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('language', sa.String(length=12), server_default='en', nullable=False)
        )
    op.create_table(
        'clinic_languages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('reviewed_by', sa.String(length=200), nullable=False),
        sa.Column('reviewed_on', sa.Date(), nullable=False),
        sa.Column('turned_on_by_id', sa.Integer(), nullable=True),
        sa.Column('turned_on_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['clinic_id'], ['clinics.id'], name=op.f('fk_clinic_languages_clinic_id_clinics')
        ),
        sa.ForeignKeyConstraint(
            ['turned_on_by_id'],
            ['users.id'],
            name=op.f('fk_clinic_languages_turned_on_by_id_users'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_languages')),
        sa.UniqueConstraint('clinic_id', 'code', name='uq_clinic_languages_code'),
    )


def downgrade():
    op.drop_table('clinic_languages')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('language')
