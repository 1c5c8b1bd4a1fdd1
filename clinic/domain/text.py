"""Marking the domain's words for translation without translating them here.

The domain is pure (no Flask, no request, so no language): a label it defines is marked
with `N_` so `make translations` extracts it, and the page or message that shows it
translates it in its reader's language (`_(label)` in a template, `gettext(label)` in a
view).
"""


def N_(message: str) -> str:
    """Mark `message` for extraction; return it unchanged (English)."""
    return message
