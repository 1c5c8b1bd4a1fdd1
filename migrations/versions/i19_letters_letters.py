"""Referral and discharge letters (issue 19): the clinic's address book of recipients,
its letter templates, the letters kept exactly as produced with their recipients, and an
attachment on outbox messages (a letter's PDF, emptied once sent).

Clinics made before this migration have no template rows: they use the default wording
(clinic.letters.defaults) until an administrator saves their own.

Revision ID: i19_letters
Revises: i19_api
Create Date: 2026-12-05 10:20:42.615552

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i19_letters'
down_revision = 'i19_api'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('referral', 'update', 'discharge', name='letter_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('opening', sa.Text(), nullable=False),
    sa.Column('ask', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_letter_templates_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_templates')),
    sa.UniqueConstraint('clinic_id', 'kind', name='uq_letter_templates_kind')
    )
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_templates_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('gp', 'gynaecologist', 'urogynaecologist', 'urologist', 'surgeon', 'colorectal_surgeon', 'oncologist', 'psychosexual_therapist', 'physiotherapist', 'nurse_specialist', 'other', name='recipient_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('service', sa.String(length=160), nullable=False),
    sa.Column('organisation', sa.String(length=160), nullable=False),
    sa.Column('postal_address', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=254), server_default='', nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_recipients_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients'))
    )
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipients_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('referral', 'update', 'discharge', name='letter_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opening', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('programme', sa.Text(), nullable=False),
    sa.Column('red_flags', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('ask', sa.Text(), nullable=False),
    sa.Column('with_report', sa.Boolean(), nullable=False),
    sa.Column('file_name', sa.String(length=120), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_letters_author_id_users')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_letters_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id', 'clinic_id'], ['patients.id', 'patients.clinic_id'], name='fk_letters_patient_clinic'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letters')),
    sa.UniqueConstraint('clinic_id', 'submission_key', name='uq_letters_submission_key'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letters_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letters_patient_id'), ['patient_id'], unique=False)

    op.create_table('letter_addressees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('postal_address', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('delivery', sa.Enum('email', 'print', name='letter_delivery', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('outbox_key', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_letter_addressees_letter_id_letters')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_letter_addressees_recipient_id_recipients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_addressees'))
    )
    with op.batch_alter_table('letter_addressees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_addressees_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letter_addressees_recipient_id'), ['recipient_id'], unique=False)

    # AUTOINCREMENT kept on SQLite: an outbox row's id is its Message-ID (clinic.outbox).
    with op.batch_alter_table(
        'outbox_messages', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('attachment_name', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('attachment', sa.LargeBinary(), nullable=True))



def downgrade():
    # The outbox's letters go with the letters they carried.
    op.execute("DELETE FROM outbox_messages WHERE kind = 'letter'")
    with op.batch_alter_table(
        'outbox_messages', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_column('attachment')
        batch_op.drop_column('attachment_name')

    with op.batch_alter_table('letter_addressees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_addressees_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_letter_addressees_letter_id'))

    op.drop_table('letter_addressees')
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letters_patient_id'))
        batch_op.drop_index(batch_op.f('ix_letters_clinic_id'))

    op.drop_table('letters')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipients_clinic_id'))

    op.drop_table('recipients')
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_templates_clinic_id'))

    op.drop_table('letter_templates')
