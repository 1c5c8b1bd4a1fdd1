"""A test client that behaves like a browser with respect to CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_FIELD.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


class BrowserLikeClient(FlaskClient):
    """POSTs carry a valid CSRF token, taken from a page as a browser would.

    Pass `csrf=False` to send a POST without one.
    """

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "csrf_token" not in (data or {}):
            kwargs["data"] = {**(data or {}), "csrf_token": self.fetch_csrf_token()}
        return super().post(*args, **kwargs)

    def fetch_csrf_token(self) -> str:
        # Signed-in pages carry the sign-out form; signed-out visitors land on /login.
        page = self.get("/", follow_redirects=True)
        return csrf_token_in(page.get_data(as_text=True))
