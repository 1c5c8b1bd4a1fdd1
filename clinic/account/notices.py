"""Messages about changes to an account's security: the link that proves a new email
address (or, when another account at the clinic has that address, a word to it that it
cannot serve a second one), and the notices to the account's address when an email change
is asked for or made, the password changes or two-factor sign-in is turned off.

A notice gives the owner a way to react when the change was not theirs: contact the
clinic (its phone number when it has one), and, while the account still has this address,
reset the password through the forgotten-password page (a new password also withdraws an
asked-for email change). Once the email has changed, the old address can reset nothing:
that notice only says to contact the clinic. Subjects are neutral (they show on lock
screens); nothing names the clinic's field of care or the person.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from clinic.core.links import external_url
from clinic.domain.text import N_
from clinic.i18n import in_language_of
from clinic.models import User
from clinic.outbox import Content, post, sender_name_for
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text

CHANGE_LINK_SUBJECT = N_("Confirm your new email address")
IN_USE_SUBJECT = N_("A request about this email address")
NOTICE_SUBJECT = N_("A change to your account")

_NOTICES = {
    MessageKind.EMAIL_CHANGE_REQUESTED: "email_change_requested.txt",
    MessageKind.EMAIL_CHANGED: "email_changed.txt",
    MessageKind.PASSWORD_CHANGED: "password_changed.txt",
    MessageKind.TWO_FACTOR_OFF: "two_factor_off.txt",
}


def send_email_change_link(
    user: User, invitation_id: int, new_email: str, token: str, expires_at: datetime
) -> None:
    """Write the message with the confirmation link to the NEW address (the account keeps
    its address until the link is opened)."""
    with in_language_of(user):
        content = Content(
            subject=gettext(CHANGE_LINK_SUBJECT),
            body=render_text(
                "email_change_link.txt",
                link=external_url("account.confirm_email", email_token=token),
                expires_at=expires_at,
                zone=user.clinic.timezone,
            ),
        )
    post(
        MessageKind.EMAIL_CHANGE_LINK,
        invitation_id,
        to=new_email,
        clinic_id=user.clinic_id,
        content=content,
        sender_name=sender_name_for(user.clinic, to=user),
        account=user,
    )


def tell_address_in_use(user: User, address: str, occasion: object) -> None:
    """Tell `address`, which another account of `user`'s clinic signs in with, that `user`
    asked to move to it and that nothing changed (the person who asked is answered as
    if a link had gone: only the mailbox's owner learns the address has an account).
    In the asking account's language: the address's own account is not looked up."""
    with in_language_of(user):
        content = Content(
            subject=gettext(IN_USE_SUBJECT),
            body=render_text(
                "email_address_in_use.txt",
                sign_in=external_url("auth.login"),
                phone=user.clinic.phone,
            ),
        )
    post(
        MessageKind.EMAIL_ADDRESS_IN_USE,
        occasion,
        to=address,
        clinic_id=user.clinic_id,
        content=content,
        sender_name=sender_name_for(user.clinic, to=user),
        account=user,
    )


def notify_owner(kind: MessageKind, user: User, occasion: object, at: datetime, to: str) -> None:
    """Tell the account's owner at `to` (its address before the change) that `kind` of
    change happened at `at`, with what to do if it was not them."""
    with in_language_of(user):
        content = Content(
            subject=gettext(NOTICE_SUBJECT),
            body=render_text(
                _NOTICES[kind],
                at=at,
                zone=user.clinic.timezone,
                reset=external_url("auth.forgot_password"),
                phone=user.clinic.phone,
            ),
        )
    post(
        kind,
        occasion,
        to=to,
        clinic_id=user.clinic_id,
        content=content,
        sender_name=sender_name_for(user.clinic, to=user),
        account=user,
    )
