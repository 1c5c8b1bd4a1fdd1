"""The only way a document may load anything: the app's own bundled print assets.

WeasyPrint's default fetcher follows any URL a document names: `file:///etc/passwd` in a
`<link rel="attachment">` would be embedded in the PDF, and `http://` URLs would reach
internal hosts. Everything a user typed is escaped before it reaches a document, but this
fetcher is the second wall: it serves the files under `reports/assets/` and refuses every
other URL, whatever its scheme.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping

from weasyprint import URLFetcher
from weasyprint.urls import URLFetcherResponse

from clinic.bundled import REPORTS

ASSETS = REPORTS / "assets"
# The base URL documents are rendered against: relative links resolve inside ASSETS.
BASE_URL = ASSETS.as_uri() + "/"


class RefusedURL(ValueError):
    """A document named a resource outside the bundled assets."""


class BundledAssetsFetcher(URLFetcher):
    """Serve the bundled print assets, and the files made for this document (its charts,
    by name relative to BASE_URL); refuse everything else (WeasyPrint then leaves the
    resource out, and the document renders without it)."""

    def __init__(self, generated: Mapping[str, bytes] | None = None) -> None:
        # No network, no redirects, no protocols beyond file: (and only our files).
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)
        self._files = {path.as_uri(): path for path in ASSETS.rglob("*") if path.is_file()}
        self._generated = {BASE_URL + name: body for name, body in (generated or {}).items()}

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        """The asset at `url`, if it is one of ours; RefusedURL otherwise."""
        url = url.split("#", 1)[0].split("?", 1)[0]
        if url in self._generated:
            return URLFetcherResponse(url, self._generated[url], {"Content-Type": _type(url)})
        path = self._files.get(url)
        if path is None:
            raise RefusedURL(f"not a bundled asset: {url[:200]}")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _type(url)})


def _type(url: str) -> str:
    # WeasyPrint drops a stylesheet or image whose type it does not recognise.
    return mimetypes.guess_type(url)[0] or "application/octet-stream"
