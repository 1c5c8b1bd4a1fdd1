"""Invitations by email: the message with the link, a reminder after three days, and
whether the email went out.

Inviting someone (a patient to the portal, a colleague to the staff pages) issues a link
(clinic.auth.services.issue_invitation) and, in the same unit of work, writes the email
with it into the outbox (`email_invitation`); the clinician still sees the link once, to
print or read out for set-up in the clinic. A new invitation replaces the older link, and
is emailed as a message of its own.

A reminder goes once per invitation (its key names the invitation), three days after it
was issued, while it is still unused and unexpired (`remind_unaccepted`, a periodic job).
It carries no link (only the link's hash is stored): it says where the link is and when it
stops working.

What the clinician sees (`invitation_email_status`): the status of the latest invitation
email of each account, read from the outbox in one query for a whole list.

The link is shown once, after POST/redirect/GET: the request that makes it keeps the token
in the signed session cookie (`keep_to_show`), and the invitation page that follows takes
it out (`take_to_show`), so reloading that page shows no link and never makes a new one (a
re-sent POST would have revoked the link just given). Only an explicit "Send a new link"
replaces it. The token never goes into a URL other than the link itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import render_template, session
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from clinic.auth.sessions import INVITATION_TO_SHOW_KEY
from clinic.core.links import external_url
from clinic.core.uow import unit_of_work
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.i18n import in_language_of
from clinic.models import Invitation, User
from clinic.models.invitations import INVITATION, hash_token
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.outbox import Content, post, sender_name_for
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text
from clinic.queue import crontab, periodic

# Neutral on purpose: it shows on lock screens and in notification previews.
SUBJECT = N_("Set up your account")
REMINDER_SUBJECT = N_("Your account is waiting to be set up")
REMIND_AFTER = timedelta(days=3)

# How the clinician reads the email's status: "sent" means the mail server accepted it.
STATUS_WORDS = {
    MessageStatus.PENDING: "waiting",
    MessageStatus.SENDING: "waiting",
    MessageStatus.SENT: "sent",
    MessageStatus.FAILED: "failed",
    MessageStatus.CANCELLED: "not sent",
}


def email_invitation(user: User, token: str) -> None:
    """Write the email carrying the invitation link `token` of `user` into the outbox, in
    the current unit of work (one message per invitation)."""
    invitation = db.session.scalars(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).one()
    clinic = user.clinic
    # In the patient's language (staff: English), whoever's request sends it.
    with in_language_of(user):
        content = Content(
            subject=gettext(SUBJECT),
            body=render_text(
                "invitation.txt",
                link=external_url("auth.accept", token=token),
                expires_at=invitation.expires_at,
                zone=clinic.timezone,
                patient=user.role.is_patient,
            ),
        )
    post(
        MessageKind.INVITATION,
        invitation.id,
        to=user,
        clinic_id=user.clinic_id,
        content=content,
        sender_name=sender_name_for(clinic, to=user),
    )


def due_reminders(now: datetime) -> list[Invitation]:
    """Invitations issued at least three days ago that are still open: unused, not
    replaced, unexpired, for an active account without a password."""
    return list(
        db.session.scalars(
            select(Invitation)
            .join(User, User.id == Invitation.user_id)
            .where(
                Invitation.purpose == INVITATION,
                Invitation.usable_at(now),
                Invitation.created_at <= now - REMIND_AFTER,
                User.active,
                User.password_hash.is_(None),
            )
            # Each reminder names its account's clinic.
            .options(joinedload(Invitation.user).joinedload(User.clinic))
            .order_by(Invitation.id)
        )
    )


def remind(invitation: Invitation) -> bool:
    """Write the one reminder of `invitation` (False when it was written before)."""
    user = invitation.user
    clinic = user.clinic
    with in_language_of(user):
        content = Content(
            subject=gettext(REMINDER_SUBJECT),
            body=render_text(
                "invitation_reminder.txt",
                issued_at=invitation.created_at,
                expires_at=invitation.expires_at,
                zone=clinic.timezone,
                sign_in=external_url("auth.login"),
            ),
        )
    return post(
        MessageKind.INVITATION_REMINDER,
        invitation.id,
        to=user,
        clinic_id=user.clinic_id,
        content=content,
        sender_name=sender_name_for(clinic, to=user),
    )


@periodic(crontab(minute="17"))
def remind_unaccepted() -> int:
    """Hourly: remind each open invitation once, three days after it was issued."""
    with unit_of_work():
        return sum(remind(invitation) for invitation in due_reminders(utcnow()))


def invitation_email_status(user_ids: Iterable[int]) -> dict[int, str]:
    """The status of the latest invitation email of each account, in words ("sent",
    "waiting", "failed"), by account id; accounts never emailed are absent.
    One query, whatever the number of accounts."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(OutboxMessage.user_id, OutboxMessage.status)
        .where(
            OutboxMessage.user_id.in_(ids),
            OutboxMessage.kind == MessageKind.INVITATION.value,
        )
        .order_by(OutboxMessage.id.desc())
    )
    latest: dict[int, str] = {}
    for user_id, status in rows:
        if user_id is not None and user_id not in latest:
            latest[user_id] = STATUS_WORDS[MessageStatus(status)]
    return latest


# The session key holding a new link's token until the invitation page shows it.
SHOW_ONCE_KEY = INVITATION_TO_SHOW_KEY
# The page is one redirect away; a link not shown within this time (a tab closed on the way)
# is not shown later from the cookie: resending makes a new one.
SHOW_WITHIN = timedelta(minutes=2)


def keep_to_show(user: User, token: str) -> None:
    """Keep `user`'s new link until the invitation page shows it (once, within
    `SHOW_WITHIN`); a sign-out or time-out forgets it."""
    session[SHOW_ONCE_KEY] = {
        "user_id": user.id,
        "token": token,
        "kept_at": utcnow().timestamp(),
    }


def take_to_show(user: User) -> str | None:
    """The token of `user`'s new link, taken out of the session so it shows once; None if
    there is none (the page was reloaded, or the link was for someone else)."""
    kept = session.pop(SHOW_ONCE_KEY, None)
    if not isinstance(kept, dict) or kept.get("user_id") != user.id:
        # Another account's page (or none): the kept link is dropped all the same, so it
        # never waits in the cookie for a later page.
        return None
    kept_at = kept.get("kept_at")
    waited = utcnow().timestamp() - kept_at if isinstance(kept_at, float) else None
    if waited is None or waited > SHOW_WITHIN.total_seconds():
        return None
    token = kept.get("token")
    return token if isinstance(token, str) else None


def open_invitation(user_id: int, now: datetime) -> Invitation | None:
    """The account's invitation whose link still works (unused, not replaced, unexpired)."""
    return db.session.scalars(
        select(Invitation)
        .where(
            Invitation.user_id == user_id,
            Invitation.purpose == INVITATION,
            Invitation.usable_at(now),
        )
        .order_by(Invitation.id.desc())
        .limit(1)
    ).first()


def invitation_page(
    user: User | None,
    *,
    person: str,
    back_url: str,
    resend_url: str,
    resend_email: str | None = None,
) -> str:
    """The invitation page of `user` (a patient's portal account or a colleague's): the
    new link, once, with a "Copy link" button; afterwards (a reload) what became of the
    link already given, and a button that sends a new one, saying that it replaces it.
    `resend_email` goes with that button where the resend form asks for the address."""
    token = take_to_show(user) if user is not None else None
    current = None
    if user is not None and token is None and not user.has_password:
        current = open_invitation(user.id, utcnow())
    return render_template(
        "shared/invitation_link.html",
        person=person,
        user=user,
        link=external_url("auth.accept", token=token) if token else None,
        current=current,
        back_url=back_url,
        resend_url=resend_url,
        resend_email=resend_email,
    )
