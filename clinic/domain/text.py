"""Marking the domain's words for translation without translating them here.

The domain is pure (no Flask, no request, so no language): a label it defines is marked
with `N_` so `make translations` extracts it, and the page or message that shows it
translates it in its reader's language (`_(label)` in a template, `gettext(label)` in a
view).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark `message` for extraction; return it unchanged (English)."""
    return message


@dataclass(frozen=True)
class Words:
    """A sentence the domain composes with values: its English message, marked with `N_`
    (named %(name)s placeholders), and the values, kept apart so that the page translates
    the message first and fills the values in after (`say` in clinic.portal.words).
    str() gives the English sentence."""

    message: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.values:
            return self.message
        # A decimal prints as the product always printed it in English: "12.5", "12".
        return self.message % {
            name: f"{value:g}" if isinstance(value, float) else value
            for name, value in self.values.items()
        }
