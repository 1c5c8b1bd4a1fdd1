"""Forgotten passwords: ask for a link by email, then choose a new password through it.

The answer to a request is always the same ("If an account exists for that address, we
have sent a link"), whether or not one does, and takes the same time: the request only
queues a job (`send_reset_links`), and the job looks the address up, issues the links
and writes the message into the outbox. A link is an `Invitation` with purpose "reset":
hashed, single-use (claimed atomically), replaced by a newer request, and valid for an
hour. Choosing the new password ends every session of the account and signs in afresh
(or, with two-factor on, leaves the second step to the sign-in page).

One address may have accounts at several clinics: one message goes to it, with a link per
clinic, each under the clinic's name on mail, or "Account 1", "Account 2" for a clinic
that keeps its name out of mailboxes (a single link names none). The body is
templates/mail/password_reset.txt.
"""

from __future__ import annotations

import hashlib

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from clinic.access import public
from clinic.auth import mfa
from clinic.auth.forms import ChoosePasswordForm, ForgotPasswordForm
from clinic.auth.limits import link_limit, reset_request_limit
from clinic.auth.services import (
    RESET_VALID_FOR,
    InvitationAlreadyUsed,
    complete_sign_in,
    find_usable_invitation,
    request_password_reset,
    reset_password,
)
from clinic.auth.views import bp, home_url
from clinic.core.links import external_url
from clinic.core.uow import unit_of_work
from clinic.domain.text import N_
from clinic.i18n import in_language_of, link_language, serve_in
from clinic.models import User
from clinic.models.invitations import RESET
from clinic.outbox import Content, post, sender_name_for
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text
from clinic.queue import enqueue, job

# Neutral on purpose: it shows on lock screens and in notification previews.
SUBJECT = N_("Your sign-in link")


def reset_message(links: list[tuple[User, str]]) -> Content:
    """The email with the reset link(s) for these accounts (all under one address).

    It goes to the address the accounts have, never to the one typed in the request: the
    two only compare equal once lower-cased, and lower-casing maps some other characters
    onto plain letters (the Kelvin sign "K" becomes "k"), so a typed address can match an
    account and yet be another mailbox.

    With several links, each is labelled with its clinic's name on mail
    (`sender_name_for`); a clinic that keeps its name out of mailboxes gets a neutral
    "Account 2" instead, its place in the list. In the first account's language (a
    patient's own, English for staff): one address rarely has accounts that disagree."""
    hours = int(RESET_VALID_FOR.total_seconds() // 3600)
    with in_language_of(links[0][0]):
        listed = [
            (
                sender_name_for(user.clinic, to=user) or _("Account %(number)d", number=number),
                external_url("auth.choose_new_password", reset_token=token),
            )
            for number, (user, token) in enumerate(links, start=1)
        ]
        body = render_text("password_reset.txt", links=listed, hours=hours)
        return Content(subject=_(SUBJECT), body=body)


@job
def send_reset_links(email: str) -> None:
    """Issue reset links for the accounts under `email`, if any, and write the message
    (to the address the accounts have: see `reset_message`)."""
    with unit_of_work():
        links = request_password_reset(email)
        if links:
            first, token = links[0]
            post(
                MessageKind.PASSWORD_RESET,
                # One message per request: named by a digest of its first link (the
                # link itself never goes into the key).
                hashlib.sha256(token.encode()).hexdigest()[:32],
                to=first,
                clinic_id=first.clinic_id,
                content=reset_message(links),
                # From the clinic (as it chose to be named) when one clinic sends it.
                sender_name=sender_name_for(first.clinic, to=first) if len(links) == 1 else "",
            )


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@reset_request_limit
def forgot_password() -> Response | str:
    """Ask for a link to choose a new password (the same answer whoever asks)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same work whoever asks: the look-up happens in the queue. With the queue
        # down (Redis), it happens here rather than not at all: the request is in no row.
        enqueue(send_reset_links, form.email.data, run_here_if_unreachable=True)
        return redirect(url_for("auth.reset_sent"))
    return render_template("auth/reset_request.html", form=form)


@bp.get("/password/forgot/sent")
@public
def reset_sent() -> str:
    """What happens next, said the same way whether or not an account exists."""
    return render_template("auth/reset_sent.html")


@bp.route("/password/reset/<reset_token>", methods=["GET", "POST"])
@public
@link_limit
def choose_new_password(reset_token: str) -> Response | tuple[str, int] | str:
    """Choose a new password through a single-use reset link."""
    invitation = find_usable_invitation(reset_token, purpose=RESET)
    if invitation is None:
        return render_template("auth/reset_unusable.html"), 410
    user = invitation.user
    # The link is its account's: it opens in their language, whatever the browser asks.
    if (code := link_language(user)) is not None:
        serve_in(code)
    form = ChoosePasswordForm(email=user.email)
    if form.validate_on_submit():
        try:
            reset_password(invitation, form.password.data)
        except InvitationAlreadyUsed:
            return render_template("auth/reset_unusable.html"), 410  # saves nothing
        if mfa.is_enabled(user):
            # The link proves the mailbox, not the phone: the code is still asked for.
            flash(
                _("Your new password is saved. Sign in with it, then enter your code."), "success"
            )
            return redirect(url_for("auth.login"))
        complete_sign_in(user, after="password reset")
        flash(_("Your new password is saved and you are signed in."), "success")
        return redirect(home_url())
    return render_template("auth/reset_choose.html", form=form, user=user)
