"""Which push endpoints the worker may post to, and what a notification may carry.

The endpoint comes from a browser, that is from a patient's request: only https
addresses at the configured push services (a host or its subdomains) are allowed, so the
worker cannot be pointed at an address inside the network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from clinic.config import PUSH_SERVICE_HOSTS
from clinic.core.webpush import endpoint_allowed
from clinic.push import payload


@pytest.fixture(scope="module")
def context() -> Iterator[None]:
    app = Flask(__name__)
    app.config.update(PUSH_SERVICE_HOSTS=PUSH_SERVICE_HOSTS, PUSH_ALLOW_HTTP=False)
    with app.app_context():
        yield


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGbL",
    ],
)
def test_the_browsers_push_services_are_allowed(context: None, endpoint: str) -> None:
    """Chrome's, Firefox's, Edge's and Safari's endpoints as they look in the wild."""
    assert endpoint_allowed(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://fcm.googleapis.com.evil.example/x",  # a suffix, not the host
        "https://evilfcm.googleapis.com.example/x",
        "https://user:pw@fcm.googleapis.com/x",  # credentials in the URL
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "https://fcm.googleapis.com:notaport/x",
        "file:///etc/passwd",
        "",
    ],
)
def test_anything_else_is_refused(context: None, endpoint: str) -> None:
    """Other schemes, hosts that only contain a push service's name, credentials,
    addresses inside the network, and junk."""
    assert not endpoint_allowed(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        # requests (urllib3) ends the host at a backslash, urlsplit does not: these would
        # be posted to evil.example and 127.0.0.1.
        "https://evil.example\\.fcm.googleapis.com/fcm/send/x",
        "https://127.0.0.1\\.push.services.mozilla.com/wpush/v2/x",
        "https://evil.example%2F.fcm.googleapis.com/x",  # not a host name
        "https://evil.example\t.fcm.googleapis.com/x",  # urlsplit drops the tab, urllib3 not
        "https://fcm.googleapis.com:22/x",  # a push service on another port
        "https://fcm.googleapis.com:8443/x",
        "https://fcm.googleapis.com@evil.example/x",  # userinfo
        "https://fcm.googleapis.com./x",  # a trailing dot: another name to TLS and DNS
        "https://xn--fcm-googleapis-com.evil.example/x",
        "https://fcm.googleapis.com\u3002evil.example/x",  # an ideographic full stop
        "https://[::1]/x",
    ],
)
def test_hosts_the_http_client_reads_otherwise_are_refused(context: None, endpoint: str) -> None:
    """The host checked is the host posted to: an endpoint that urlsplit and requests
    read as different hosts, that is not plain ASCII, or that names a port, is refused."""
    assert not endpoint_allowed(endpoint)


@pytest.mark.parametrize(
    "endpoint", ["https://FCM.googleapis.com/fcm/send/x", "https://fcm.googleapis.com:443/x"]
)
def test_case_and_the_default_port_do_not_matter(context: None, endpoint: str) -> None:
    """Upper case in the host, and the https port written out, are the same service."""
    assert endpoint_allowed(endpoint)


@given(host=st.from_regex(r"[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}", fullmatch=True))
def test_a_host_outside_the_list_is_never_allowed(context: None, host: str) -> None:
    """Any host that is not a listed service or one of its subdomains is refused."""
    listed = any(host == h or host.endswith("." + h) for h in PUSH_SERVICE_HOSTS)
    assert endpoint_allowed(f"https://{host}/push/x") is listed


@given(title=st.text(max_size=300), body=st.text(max_size=500))
def test_a_payload_is_short_and_opens_this_site(title: str, body: str) -> None:
    """Whatever the caller passes, the words are cut to what a notification shows and the
    page opened is a path of this site."""
    made = payload(title, body)
    assert len(made["title"]) <= 80 and len(made["body"]) <= 200 and made["url"] == "/"


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/",
        "//elsewhere.example/",
        "x",
        "/\\elsewhere.example/",  # browsers read "/\\" as "//"
        "/\t/elsewhere.example/",  # and drop tabs and line breaks from a URL
    ],
)
def test_a_notification_never_opens_another_site(url: str) -> None:
    """A full URL or a scheme-relative one (however a browser comes to read it so) is
    refused: only paths of this site."""
    with pytest.raises(ValueError):
        payload("A reminder", "Open to sign in.", url)
