"""Forms for clinical notes: the text of a note (new or edited) and of an addendum."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms import Field, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from clinic.core.forms import ClinicForm, normalise_line_breaks, strip
from clinic.i18n import lazy_text as _l

NOTE_MAX_LENGTH = 5000


def at_most_note_length(_form: object, field: Field) -> None:
    """Refuse text over the limit, saying by how much. (Not `Length`: it would put a
    `maxlength` on the box, and browsers silently cut off pasted text at that limit.)"""
    if field.data and len(field.data) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _(
                "Use at most %(max)s characters; this text has %(length)s. "
                "Shorten it, or split it into two notes.",
                max=format(NOTE_MAX_LENGTH, ","),
                length=format(len(field.data), ","),
            )
        )


def note_text(label: object, empty_message: object) -> TextAreaField:
    """A note's text: required (white space alone does not count), at most 5,000 characters."""
    return TextAreaField(
        label,
        description=_l("Up to %(max)s characters.", max=format(NOTE_MAX_LENGTH, ",")),
        filters=[normalise_line_breaks, strip],
        validators=[DataRequired(empty_message), at_most_note_length],
        render_kw={"rows": 8},
    )


class NoteForm(ClinicForm):
    """Write a new note, or change one within its 24 hours."""

    body = note_text(_l("Note"), _l("Write the note before saving: it is empty."))


class AddendumForm(ClinicForm):
    """Add to a note that can no longer be changed (or to a colleague's note)."""

    body = note_text(_l("Addendum"), _l("Write the addendum before saving: it is empty."))
