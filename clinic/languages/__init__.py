"""The languages a clinic offers its patients (issue 20): an administrator turns a shipped
language on after the clinic's own review of its patient guidance, or off again."""

from clinic.languages.views import bp

__all__ = ["bp"]
