"""The main navigation (one list of entries per role, rendered by the base layout) and the
sections of a patient's chart (rendered by templates/patients/_chart_layout.html)."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.access import policy_for
from clinic.domain.text import N_
from clinic.models import Role


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation, and the pages that count as inside it."""

    # Marked for translation (N_); the layout translates it in the reader's language.
    label: str
    endpoint: str
    # The page is marked as current on any page of these blueprints, or on these endpoints.
    blueprints: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()

    def is_current(self, endpoint: str | None, blueprint: str | None) -> bool:
        """Whether the page being shown (its endpoint and blueprint) belongs to this entry."""
        return blueprint in self.blueprints or endpoint in self.endpoints


ACCOUNT = NavEntry(N_("Your account"), "account.index", blueprints=("account",))

NAVIGATION: dict[Role, tuple[NavEntry, ...]] = {
    Role.CLINICIAN: (
        NavEntry(N_("Today"), "dashboard.index", blueprints=("dashboard",)),
        # Everything about one patient sits under "Patients".
        NavEntry(
            N_("Patients"),
            "patients.index",
            blueprints=(
                "patients",
                "protocols",
                "timeline",
                "notes",
                "reporting",
                "audit",
                "measures",
                "letters",
            ),
        ),
        NavEntry(N_("Templates"), "library.index", blueprints=("library",)),
        NavEntry(
            N_("Address book"),
            "recipients.index",
            endpoints=("recipients.index", "recipients.new", "recipients.edit"),
        ),
        NavEntry(N_("Dilators"), "catalogue.index", blueprints=("catalogue",)),
        ACCOUNT,
    ),
    Role.ADMIN: (
        NavEntry(N_("Staff"), "admin.staff", endpoints=("admin.staff",)),
        NavEntry(
            N_("Clinic"),
            "admin.settings",
            endpoints=("admin.settings", "admin.api_tokens", "recipients.templates"),
            blueprints=("languages",),
        ),
        NavEntry(
            N_("Referrals"),
            "admin.referrals",
            endpoints=(
                "admin.referrals",
                "admin.referral",
                "admin.accept_referral_form",
                "admin.decline_referral_form",
            ),
        ),
        NavEntry(
            N_("Address book"),
            "recipients.index",
            endpoints=("recipients.index", "recipients.new", "recipients.edit"),
        ),
        NavEntry(N_("Questionnaires"), "instruments.index", blueprints=("instruments",)),
        NavEntry(N_("Data requests"), "rights.requests", blueprints=("rights",)),
        NavEntry(N_("Audit trail"), "audit.search", blueprints=("audit",)),
        NavEntry(N_("Outbox"), "admin.outbox", endpoints=("admin.outbox",)),
        NavEntry(
            N_("Safety case"), "safety.hazard_log_page", endpoints=("safety.hazard_log_page",)
        ),
        ACCOUNT,
    ),
    Role.PATIENT: (
        # Today's own steps (a session guided, logged or skipped, then saved) stay under it.
        NavEntry(
            N_("Today"),
            "portal.home",
            endpoints=(
                "portal.home",
                "portal.session_guide",
                "portal.log_session",
                "portal.log_skip",
                "portal.entry",
            ),
        ),
        NavEntry(N_("Progress"), "portal.progress", endpoints=("portal.progress",)),
        NavEntry(N_("Staying safe"), "portal.safety", endpoints=("portal.safety",)),
        NavEntry(N_("Reminders"), "portal.reminders", endpoints=("portal.reminders",)),
        ACCOUNT,
    ),
}


# A patient's chart: one place with sections the clinician moves between in one click. Each
# section is marked current on every page of its blueprints or endpoints, so a sub-page (a
# note being changed, a stage decision) sits under its section.
CHART_SECTIONS: tuple[NavEntry, ...] = (
    NavEntry(N_("Overview"), "timeline.show", blueprints=("timeline",)),
    NavEntry(N_("Protocol"), "protocols.current", blueprints=("protocols",)),
    NavEntry(N_("Outcome measures"), "measures.index", blueprints=("measures",)),
    NavEntry(N_("Notes"), "notes.index", blueprints=("notes",)),
    NavEntry(N_("Reports"), "reporting.index", blueprints=("reporting",)),
    NavEntry(N_("Letters"), "letters.index", blueprints=("letters",)),
    NavEntry(
        N_("Record details"),
        "patients.show",
        endpoints=("patients.show", "patients.edit", "patients.invite"),
    ),
    NavEntry(N_("Access history"), "audit.patient_history", endpoints=("audit.patient_history",)),
)


def chart_sections_for(role: Role) -> tuple[NavEntry, ...]:
    """The chart's sections a role may open, by each section page's own access policy (a
    link that would answer 403 is never shown)."""
    return tuple(
        section
        for section in CHART_SECTIONS
        if (policy := policy_for(section.endpoint)) is not None
        and (policy.public or role in policy.roles)
    )
