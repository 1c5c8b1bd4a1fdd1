"""Rendering a document never reaches the network or the file system beyond the bundled
print assets, and whatever a user typed is printed as text, never read as HTML.

WeasyPrint's default fetcher embeds `file:///etc/passwd` through `<link rel="attachment">`
and follows `http://` URLs to internal hosts. These tests aim exactly those at our
fetcher, alone and through whole documents, with a loopback HTTP server that records every
connection (and with the proxy variables cleared, so a leak would reach it rather than a
proxy). One test renders the same hostile document with the default fetcher and shows the
leaks happen there, so the tests prove our fetcher is the difference.
"""

from __future__ import annotations

import http.server
import re
import threading
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin

import pytest
from flask import Flask
from pypdf import PdfReader
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetchingError, fetch

from clinic.extensions import db
from clinic.models import Clinic, Patient
from clinic.reporting.fetcher import ASSETS, BASE_URL, BundledAssetsFetcher, RefusedURL
from clinic.reporting.fonts import MISSING_MESSAGE, harfbuzz_subset_available
from clinic.reporting.pdf import html_to_pdf
from tests.support.diaries import add_entries
from tests.support.protocols import start_plan
from tests.support.reports import ReportRenderer
from tests.support.world import World

PASSWD = Path("/etc/passwd")
PASSWD_LINE = "root:x:0:0"  # the first line of /etc/passwd on Debian
SECRET = "SECRET-7f3c2a-not-for-any-pdf"
# A real file next to the assets folder: what `../print.css` tricks would reach.
PRINT_CSS = ASSETS.parent / "print.css"
README = ASSETS / "README.txt"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy")


# A loopback server that records every connection -----------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers anything with something plausible, so a leak would be a successful one."""

    server: Listener

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        if self.path.endswith(".css"):
            body, kind = b"p { color: red }", "text/css"
        elif self.path.endswith(".txt"):
            body, kind = b"fetched from the internal host", "text/plain"
        else:
            body = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
            kind = "image/svg+xml"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class Listener(http.server.ThreadingHTTPServer):
    """An internal host, as far as a document can tell: 127.0.0.1 on a free port."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections: list[tuple[str, int]] = []
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def verify_request(self, request: object, client_address: tuple[str, int]) -> bool:
        # Called on accept: even a connection that never sends a request is seen.
        self.connections.append(client_address)
        return True

    def assert_untouched(self) -> None:
        assert self.connections == [], f"the document reached the network: {self.requests}"


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A private file outside the assets, with a marker no PDF may contain."""
    path = tmp_path / "secret.txt"
    path.write_text(f"{SECRET}\n")
    return path


# Reading PDFs -----------------------------------------------------------------------------


def payload(pdf: bytes) -> bytes:
    """The PDF's bytes followed by every stream decompressed: embedded files are
    compressed, so a search of the raw bytes alone would miss them."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            parts.append(match.group(1))
    return b"\n".join(parts)


def embedded_files(pdf: bytes) -> dict[str, list[bytes]]:
    return dict(PdfReader(BytesIO(pdf)).attachments.items())


def assert_nothing_leaked(pdf: bytes, *markers: str) -> None:
    data = payload(pdf)
    leaked = [marker for marker in markers if marker.encode() in data]
    assert leaked == [], "private content is in the PDF"
    assert b"/EmbeddedFile" not in data
    assert b"/FileAttachment" not in data
    assert embedded_files(pdf) == {}


# The fetcher on its own -------------------------------------------------------------------

REFUSED_URLS = [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "FILE:///etc/passwd",
    "file:/etc/passwd",
    "file:///etc/./passwd",
    "file:///%65tc/passwd",
    "file:///etc%2Fpasswd",
    "file:///proc/self/environ",
    "https://example.invalid/print.css",
    "ftp://127.0.0.1/etc/passwd",
    "data:text/plain,root:x:0:0",
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=",
    "jar:file:///etc/passwd!/",
    BASE_URL,  # the folder itself: no listings
    BASE_URL[:-1],
]
# References as a document would write them, resolved against the base URL exactly as
# WeasyPrint resolves them (urljoin); each leaves the assets folder.
TRAVERSALS = [
    "../print.css",
    "./../print.css",
    "../../pyproject.toml",
    "../" * 12 + "etc/passwd",
    "README.txt/../../print.css",
    "%2e%2e/print.css",
    "%2E%2E/%2E%2E/pyproject.toml",
    ".%2e/print.css",
    "..%2fprint.css",
    "..%2Fprint.css",
    "%2e%2e%2fprint.css",
    "..%5cprint.css",
    "..\\print.css",
    "/etc/passwd",
    "//localhost/etc/passwd",
    "%2fetc%2fpasswd",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_fetcher_refuses_other_urls(url: str) -> None:
    """Nothing outside the bundled assets, whatever the scheme or spelling."""
    with pytest.raises(RefusedURL):
        BundledAssetsFetcher()(url)


@pytest.mark.parametrize("reference", TRAVERSALS)
def test_fetcher_refuses_traversal_out_of_the_assets(reference: str) -> None:
    """`..` in any spelling, resolved by URL joining, does not leave the assets folder,
    with or without the document's own generated files."""
    url = urljoin(BASE_URL, reference)
    for fetcher in (BundledAssetsFetcher(), BundledAssetsFetcher({"chart.svg": b"<svg/>"})):
        with pytest.raises(RefusedURL):
            fetcher(url)


def test_fetcher_refuses_a_private_file(secret: Path) -> None:
    with pytest.raises(RefusedURL):
        BundledAssetsFetcher()(secret.as_uri())


def test_percent_encoded_traversal_is_a_real_threat() -> None:
    """Why the spellings above matter: WeasyPrint's default fetcher (urllib) decodes
    `%2e%2e` and reads the file one folder up. Ours refuses the same URL."""
    url = urljoin(BASE_URL, "%2e%2e/print.css")
    assert URLFetcher()(url).read() == PRINT_CSS.read_bytes()
    with pytest.raises(RefusedURL):
        BundledAssetsFetcher()(url)


def test_fetcher_never_reaches_an_internal_host(listener: Listener) -> None:
    """http:// to a loopback host is refused without a connection; the same URLs through
    WeasyPrint's own fetch (as documents use it) are an ordinary fetch error, so the
    document renders without them."""
    port = listener.server_address[1]
    urls = [
        f"{listener.url}/",
        f"{listener.url}/x.png",
        f"{listener.url}/x.css?v=1#top",
        f"http://localhost:{port}/x.png",
        f"HTTP://127.0.0.1:{port}/x.png",
        f"http://[::ffff:127.0.0.1]:{port}/x.png",
        f"http://2130706433:{port}/x.png",
    ]
    fetcher = BundledAssetsFetcher()
    for url in urls:
        with pytest.raises(RefusedURL):
            fetcher(url)
        with pytest.raises(URLFetchingError), fetch(fetcher, url):
            pass
    listener.assert_untouched()


def test_fetcher_serves_bundled_assets_and_the_documents_files() -> None:
    """What it is for: the files under reports/assets/ (query and fragment ignored) and
    the files made for this document, named relative to it."""
    fetcher = BundledAssetsFetcher({"pain-chart.svg": b"<svg/>"})
    for url in (BASE_URL + "README.txt", BASE_URL + "README.txt?v=2", README.as_uri() + "#x"):
        assert fetcher(url).read() == README.read_bytes()
    chart = fetcher(urljoin(BASE_URL, "pain-chart.svg"))
    assert (chart.read(), chart.content_type) == (b"<svg/>", "image/svg+xml")
    with pytest.raises(RefusedURL):
        BundledAssetsFetcher()(BASE_URL + "pain-chart.svg")  # another document's file


# Whole documents --------------------------------------------------------------------------


def hostile_html(listener: Listener, secret: Path) -> str:
    """Every way a document names a resource, aimed at private files and the internal
    host: attachments, stylesheets, @import, url() in CSS and style attributes, fonts,
    images, objects, embedded SVG and links."""
    url, private = listener.url, secret.as_uri()
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Hostile</title>
<link rel="attachment" href="file:///etc/passwd">
<link rel="attachment" href="{private}">
<link rel="attachment" href="%2e%2e/print.css">
<link rel="attachment" href="{url}/attachment.txt">
<link rel="stylesheet" href="{url}/linked.css">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="../print.css">
<style>
@import url("{url}/imported.css");
@import "file:///etc/passwd";
@font-face {{ font-family: Leaky; src: url("{url}/font.woff"); }}
body {{ background: url("{url}/background.png"); font-family: Leaky, sans-serif; }}
li {{ list-style-image: url("{url}/bullet.svg"); }}
p::after {{ content: url("{url}/after.svg"); }}
</style></head>
<body>
<p style="background-image: url('{url}/inline.svg')">One paragraph.</p>
<img src="file:///etc/passwd" alt="passwd">
<img src="{private}" alt="private">
<img src="{url}/image.png" alt="remote">
<img src="%2e%2e/print.css" alt="traversal">
<img src="chart.svg" alt="the document's own chart">
<object data="{url}/object.svg" type="image/svg+xml">object</object>
<embed src="{url}/embed.svg" type="image/svg+xml">
<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">
  <image href="{url}/svg-image.svg" width="10" height="10"/>
  <image href="file:///etc/passwd" x="10" width="10" height="10"/>
</svg>
<ul><li>A list item</li></ul>
<p><a rel="attachment" href="file:///etc/passwd">passwd</a>
<a rel="attachment" href="{url}/anchor.txt">remote</a></p>
</body></html>"""


def chart_svg(listener: Listener) -> bytes:
    """A generated chart whose own references point outside: they go through the same
    fetcher as the document's."""
    return f"""<svg xmlns="http://www.w3.org/2000/svg"
  xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">
  <image xlink:href="{listener.url}/from-chart.svg" width="10" height="10"/>
  <image href="file:///etc/passwd" x="10" width="10" height="10"/>
  <rect x="20" width="20" height="20" fill="#52606d"/>
</svg>""".encode()


def test_hostile_document_renders_without_any_fetch(listener: Listener, secret: Path) -> None:
    """The document renders; nothing reached the network, and no private file (nor the
    stylesheet one folder up) is embedded, in any stream."""
    pdf = html_to_pdf(
        hostile_html(listener, secret), "a4", files={"chart.svg": chart_svg(listener)}
    )
    assert pdf.startswith(b"%PDF-") and len(PdfReader(BytesIO(pdf)).pages) >= 1
    listener.assert_untouched()
    markers = [SECRET, PRINT_CSS.read_text().splitlines()[0]]
    if PASSWD.exists():
        markers.append(PASSWD.read_text().splitlines()[0])
    assert_nothing_leaked(pdf, *markers)


def test_the_default_fetcher_would_leak_the_same_document(listener: Listener, secret: Path) -> None:
    """The control: the same document through WeasyPrint's default fetcher embeds
    /etc/passwd and the private file, and calls the internal host. So the test above
    passes because of our fetcher, not because the document is harmless."""
    pdf = HTML(string=hostile_html(listener, secret), base_url=BASE_URL).write_pdf(
        pdf_variant="pdf/ua-1"
    )
    attachments = embedded_files(pdf)
    assert attachments["secret.txt"] == [f"{SECRET}\n".encode()]
    assert SECRET.encode() in payload(pdf)
    assert b"/EmbeddedFile" in pdf
    if PASSWD.exists():
        assert attachments["passwd"] == [PASSWD.read_bytes()]
        assert PASSWD_LINE.encode() in payload(pdf)
    assert {"/attachment.txt", "/linked.css", "/imported.css", "/image.png"} <= set(
        listener.requests
    )


# What users typed -------------------------------------------------------------------------


def typed_text(listener: Listener) -> tuple[str, str]:
    """An assessment and a plan as someone might paste them: markup that, if it were
    read as HTML, would run, embed /etc/passwd and call the internal host."""
    assessment = "\n".join(
        [
            "<script>alert('typed')</script>",
            "<link rel=attachment href=file:///etc/passwd>",
        ]
    )
    plan = "\n".join(
        [
            f"<img src={listener.url}/typed.png>",
            f'<link rel="stylesheet" href="{listener.url}/typed.css">',
        ]
    )
    return assessment, plan


def test_typed_text_is_printed_literally(
    app: Flask, world: World, listener: Listener, progress_report: ReportRenderer
) -> None:
    """A progress report whose assessment, plan, patient name and clinic address hold
    markup shows that markup as text (escaped in the HTML, readable in the PDF) and
    fetches nothing."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol_id, world.patient, [18, 15, 12, 9, 6, 3])
    name = "Sam <b>Rivera</b> & co"
    address = f'<img src="{listener.url}/address.png">'
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.full_name = name
        db.session.get(Clinic, world.clinic_a).address = address
        db.session.commit()
    assessment, plan = typed_text(listener)

    report = progress_report(protocol_id, assessment=assessment, plan=plan)
    html, pdf = report.html, report.pdf

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<link rel=attachment" not in html and "<b>Rivera" not in html
    assert f"<img src={listener.url}" not in html
    assert f'<img src="{listener.url}' not in html

    reader = PdfReader(BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for line in [*assessment.splitlines(), *plan.splitlines()]:
        assert line in text
    assert name in text and address in text
    assert reader.metadata.title == f"Progress report: {name}"
    listener.assert_untouched()
    assert_nothing_leaked(pdf, PASSWD_LINE)


# The system library that keeps rendering quick ------------------------------------------


def test_harfbuzz_subset_is_installed() -> None:
    """Without libharfbuzz-subset0 WeasyPrint falls back to fontTools: every PDF 2 to 5
    times slower, silently. `make test` installs it (.ci/system-deps)."""
    from weasyprint.text import ffi

    assert harfbuzz_subset_available(), MISSING_MESSAGE
    assert ffi.harfbuzz_subset is not None, MISSING_MESSAGE
