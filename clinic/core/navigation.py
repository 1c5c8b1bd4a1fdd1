"""The main navigation (one list of entries per role, rendered by the base layout) and the
sections of a patient's chart (rendered by templates/patients/_chart_layout.html)."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.access import policy_for
from clinic.models import Role


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation, and the pages that count as inside it."""

    label: str
    endpoint: str
    # The page is marked as current on any page of these blueprints, or on these endpoints.
    blueprints: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()

    def is_current(self, endpoint: str | None, blueprint: str | None) -> bool:
        """Whether the page being shown (its endpoint and blueprint) belongs to this entry."""
        return blueprint in self.blueprints or endpoint in self.endpoints


ACCOUNT = NavEntry("Your account", "account.index", blueprints=("account",))

NAVIGATION: dict[Role, tuple[NavEntry, ...]] = {
    Role.CLINICIAN: (
        NavEntry("Today", "dashboard.index", blueprints=("dashboard",)),
        # Everything about one patient sits under "Patients".
        NavEntry(
            "Patients",
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
        NavEntry("Templates", "library.index", blueprints=("library",)),
        NavEntry(
            "Address book",
            "recipients.index",
            endpoints=("recipients.index", "recipients.new", "recipients.edit"),
        ),
        NavEntry("Dilators", "catalogue.index", blueprints=("catalogue",)),
        ACCOUNT,
    ),
    Role.ADMIN: (
        NavEntry("Staff", "admin.staff", endpoints=("admin.staff",)),
        NavEntry(
            "Clinic",
            "admin.settings",
            endpoints=("admin.settings", "admin.api_tokens", "recipients.templates"),
            blueprints=("languages",),
        ),
        NavEntry(
            "Referrals",
            "admin.referrals",
            endpoints=(
                "admin.referrals",
                "admin.referral",
                "admin.accept_referral_form",
                "admin.decline_referral_form",
            ),
        ),
        NavEntry(
            "Address book",
            "recipients.index",
            endpoints=("recipients.index", "recipients.new", "recipients.edit"),
        ),
        NavEntry("Questionnaires", "instruments.index", blueprints=("instruments",)),
        NavEntry("Data requests", "rights.requests", blueprints=("rights",)),
        NavEntry("Audit trail", "audit.search", blueprints=("audit",)),
        NavEntry("Outbox", "admin.outbox", endpoints=("admin.outbox",)),
        NavEntry("Safety case", "safety.hazard_log_page", endpoints=("safety.hazard_log_page",)),
        ACCOUNT,
    ),
    Role.PATIENT: (
        # Today's own steps (a session guided, logged or skipped, then saved) stay under it.
        NavEntry(
            "Today",
            "portal.home",
            endpoints=(
                "portal.home",
                "portal.session_guide",
                "portal.log_session",
                "portal.log_skip",
                "portal.entry",
            ),
        ),
        NavEntry("Progress", "portal.progress", endpoints=("portal.progress",)),
        NavEntry("Staying safe", "portal.safety", endpoints=("portal.safety",)),
        NavEntry("Reminders", "portal.reminders", endpoints=("portal.reminders",)),
        ACCOUNT,
    ),
}


# A patient's chart: one place with sections the clinician moves between in one click. Each
# section is marked current on every page of its blueprints or endpoints, so a sub-page (a
# note being changed, a stage decision) sits under its section.
CHART_SECTIONS: tuple[NavEntry, ...] = (
    NavEntry("Overview", "timeline.show", blueprints=("timeline",)),
    NavEntry("Protocol", "protocols.current", blueprints=("protocols",)),
    NavEntry("Outcome measures", "measures.index", blueprints=("measures",)),
    NavEntry("Notes", "notes.index", blueprints=("notes",)),
    NavEntry("Reports", "reporting.index", blueprints=("reporting",)),
    NavEntry("Letters", "letters.index", blueprints=("letters",)),
    NavEntry(
        "Record details",
        "patients.show",
        endpoints=("patients.show", "patients.edit", "patients.invite"),
    ),
    NavEntry("Access history", "audit.patient_history", endpoints=("audit.patient_history",)),
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
