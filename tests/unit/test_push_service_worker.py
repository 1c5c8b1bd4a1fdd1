"""What the service worker (clinic/static/push-sw.js) opens when a notification is tapped,
run in Node with the service worker's globals played by a small fake: it always opens a
page of this site, whatever the payload says, and it opens one even when the site is
already open in a window the worker does not control (a page outside /diary/, its scope,
such as the notifications page itself), where `WindowClient.navigate()` is refused with a
TypeError (Service Workers spec, "navigate": the client's active worker must be this
one)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parents[2] / "clinic" / "static" / "push-sw.js"
NODE = shutil.which("node")
ORIGIN = "https://clinic.test"

HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const [workerPath, scenarioText] = process.argv.slice(1);
const scenario = JSON.parse(scenarioText);
const listeners = {};
const opened = [], navigated = [], focused = [];
function windowClient(url, controlled) {
  return {
    url: url,
    focus() { focused.push(url); return Promise.resolve(this); },
    navigate(to) {
      if (!controlled) return Promise.reject(new TypeError("not controlled by this worker"));
      navigated.push(new URL(to, scenario.origin).href);
      return Promise.resolve(this);
    },
  };
}
const self = {
  location: new URL("/diary/service-worker.js", scenario.origin),
  addEventListener(type, listener) { listeners[type] = listener; },
  skipWaiting() {},
  registration: {},
  clients: {
    claim() { return Promise.resolve(); },
    matchAll() {
      return Promise.resolve(scenario.windows.map((w) => windowClient(w.url, w.controlled)));
    },
    openWindow(url) {
      opened.push(new URL(url, scenario.origin).href);
      return Promise.resolve(null);
    },
  },
};
vm.runInContext(fs.readFileSync(workerPath, "utf8"), vm.createContext({ self, URL, console }));
let waited = Promise.resolve();
listeners.notificationclick({
  notification: { data: { url: scenario.url }, close() {} },
  waitUntil(promise) { waited = promise; },
});
waited.then(() => true, () => false).then((settled) => {
  console.log(JSON.stringify({ settled, opened, navigated, focused }));
});
"""


def tap(url: str, windows: list[dict[str, object]]) -> dict[str, object]:
    """Tap a notification whose payload names `url` with `windows` of the site open."""
    scenario = json.dumps({"origin": ORIGIN, "url": url, "windows": windows})
    done = subprocess.run(  # noqa: S603 - Node on our own harness and worker
        [NODE or "node", "-e", HARNESS, str(WORKER), scenario],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def test_with_no_window_open_the_site_is_opened() -> None:
    """Nothing of the site open: a new window at the payload's path."""
    assert tap("/", []) == {
        "settled": True,
        "opened": [f"{ORIGIN}/"],
        "navigated": [],
        "focused": [],
    }


def test_a_window_the_worker_controls_is_reused() -> None:
    """The portal open (under /diary/, controlled): that window goes to the page and
    takes the focus, no new one."""
    result = tap("/", [{"url": f"{ORIGIN}/diary/", "controlled": True}])
    assert result["settled"] and result["opened"] == []
    assert result["navigated"] == [f"{ORIGIN}/"] and result["focused"] == [f"{ORIGIN}/diary/"]


def test_a_window_outside_the_workers_scope_still_leads_to_the_site() -> None:
    """The site open outside /diary/ (the notifications page where the patient turned
    them on): navigate() is refused there, and the tap opens the page in a new window
    instead of doing nothing."""
    result = tap("/", [{"url": f"{ORIGIN}/account/notifications", "controlled": False}])
    assert result["settled"] is True
    assert result["opened"] == [f"{ORIGIN}/"]


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"]
)
def test_a_payload_never_opens_another_site(url: str) -> None:
    """Whatever address the payload carries, what opens is a page of this site."""
    result = tap(url, [])
    assert result["opened"] and all(u.startswith(f"{ORIGIN}/") for u in result["opened"])
