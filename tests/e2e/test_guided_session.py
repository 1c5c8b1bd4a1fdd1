"""Browser journeys through the guided session (/diary/session) with Playwright's clock in
charge of time: a session timed to the end opens the log form prefilled with its minutes;
pause and resume count right; the sharp-pain stop stops the timer, shows the guidance and
opens the log with sharp pain ticked; the breathing guide keeps still for people who ask
for reduced motion; everything works from the keyboard alone.

The journeys open the log form but never save it, so the demo diaries stay as they were.
(Morgan's and Sam's plans: 10 minutes a session.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    assert_accessible,
    assert_discreet_title,
    assert_no_horizontal_scrolling,
    expect_path,
    focus_path_to,
    sign_in,
)
from tests.support.browser import DESKTOP, PHONE_390, LiveServer, open_context

pytestmark = pytest.mark.e2e

MINUTE_MS = 60_000

# Counts what the page asks of Web Audio, so a test can tell silence from a tone.
AUDIO_SPY = """
window.__tones = 0;
window.__contexts = 0;
class SpyContext {
  constructor() { window.__contexts += 1; this.currentTime = 0; this.destination = {}; }
  createOscillator() {
    return { type: "", frequency: {}, connect() {}, start() { window.__tones += 1; }, stop() {} };
  }
  createGain() {
    return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
  }
}
window.AudioContext = SpyContext;
window.webkitAudioContext = SpyContext;
"""


def open_session(page: Page, email: str) -> int:
    """Sign in with the page's clock under the test's control and open the guided session;
    the prescribed minutes."""
    page.clock.install()
    sign_in(page, email)
    expect_path(page, "/diary/")
    page.goto("/diary/session")
    expect(page.get_by_role("heading", level=1, name="Your session")).to_be_visible()
    return int(page.locator("#session-timer").get_attribute("data-minutes"))


def clock(page: Page) -> tuple[str, str]:
    """The timer's text: time so far, time left."""
    return (
        page.locator("#timer-elapsed").inner_text(),
        page.locator("#timer-remaining").inner_text(),
    )


def test_a_session_timed_to_the_end_opens_the_log_prefilled(phone_390: Page) -> None:
    """From Today, "Start a session" opens the guide (neutral title, fits a phone, passes
    axe); the timer runs the prescribed minutes, says each minute in its live region and
    "Time is up" at the end, silently (the tone is off by default); its end panel takes
    the focus, and its link opens the log form with those minutes and the prescribed size
    chosen, nothing saved yet."""
    page = phone_390
    page.add_init_script(AUDIO_SPY)
    page.clock.install()
    sign_in(page, "morgan.ellis@example.org")
    expect_path(page, "/diary/")
    page.get_by_role("link", name="Start a session").click()
    expect_path(page, "/diary/session")
    assert_discreet_title(page)
    assert_no_horizontal_scrolling(page)
    minutes = int(page.locator("#session-timer").get_attribute("data-minutes"))
    expect(page.get_by_label("A soft tone when the time is up")).not_to_be_checked()

    page.get_by_role("button", name="Start the timer").click()
    expect(page.locator("#timer-state")).to_have_text("running")
    assert_accessible(page)
    page.clock.run_for(MINUTE_MS + 1_000)
    expect(page.get_by_role("status").filter(has_text="minute done")).to_have_text(
        f"1 minute done, {minutes - 1} minutes to go."
    )
    page.clock.run_for((minutes - 1) * MINUTE_MS)
    end = page.get_by_role("heading", name="Time is up")
    expect(end).to_be_focused()
    expect(page.locator("#timer-end-summary")).to_have_text(f"You timed {minutes} minutes.")
    expect(page.locator("#timer-announce")).to_have_text("Time is up.")
    assert clock(page) == (f"{minutes}:00", "0:00")
    assert page.evaluate("window.__tones") == 0 and page.evaluate("window.__contexts") == 0
    assert_accessible(page)

    page.locator("#timer-end").get_by_role("link", name="Log this session").click()
    expect_path(page, "/diary/log")
    assert f"minutes={minutes}" in page.url
    expect(page.get_by_label("Minutes")).to_have_value(str(minutes))
    chosen = page.get_by_label("Dilator used").evaluate(
        "select => select.options[select.selectedIndex].text"
    )
    assert chosen.endswith("(your prescribed size)")
    expect(
        page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("Yes")
    ).not_to_be_checked()
    expect(page.get_by_role("heading", name="You stopped because of sharp pain")).to_have_count(0)


def test_the_tone_plays_once_at_the_end_when_chosen(page: Page) -> None:
    """With the tone chosen, one soft tone plays when the time is up, not before."""
    page.add_init_script(AUDIO_SPY)
    minutes = open_session(page, "sam.rivera@example.org")
    page.get_by_label("A soft tone when the time is up").check()
    page.get_by_role("button", name="Start the timer").click()
    page.clock.run_for((minutes - 1) * MINUTE_MS)
    assert page.evaluate("window.__tones") == 0
    page.clock.run_for(MINUTE_MS + 1_000)
    expect(page.get_by_role("heading", name="Time is up")).to_be_visible()
    assert page.evaluate("window.__tones") == 1


# A Wake Lock API whose requests the test settles: counts the locks held (not released).
WAKE_LOCK_STUB = """
window.__locksHeld = 0;
window.__pendingLocks = [];
Object.defineProperty(navigator, "wakeLock", { configurable: true, value: {
  request() {
    return new Promise((resolve) => window.__pendingLocks.push(() => {
      window.__locksHeld += 1;
      let released = false;
      resolve({ release() {
        if (!released) { released = true; window.__locksHeld -= 1; }
        return Promise.resolve();
      } });
    }));
  }
} });
window.__grantLocks = () => { window.__pendingLocks.splice(0).forEach((grant) => grant()); };
"""


def test_no_screen_lock_is_left_held_after_a_quick_pause_and_resume(page: Page) -> None:
    """Paused and resumed before the browser granted the first screen lock: when both
    requests are granted, one lock is kept, and pausing leaves none held (the screen may
    sleep again)."""
    page.add_init_script(WAKE_LOCK_STUB)
    open_session(page, "sam.rivera@example.org")
    page.get_by_role("button", name="Start the timer").click()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").click()
    page.evaluate("window.__grantLocks()")
    page.wait_for_function("window.__pendingLocks.length === 0")
    page.clock.run_for(1_000)
    assert page.evaluate("window.__locksHeld") == 1
    page.get_by_role("button", name="Pause").click()
    page.clock.run_for(1_000)
    assert page.evaluate("window.__locksHeld") == 0


def test_pause_and_resume_count_only_the_time_running(page: Page) -> None:
    """Paused at 1:30, five minutes pass and the timer still says 1:30; resumed for 50
    seconds it says 2:20, with the rest left; "Finish and log" opens the form with 2
    minutes (2:20, to the nearest minute)."""
    minutes = open_session(page, "sam.rivera@example.org")
    page.get_by_role("button", name="Start the timer").click()
    page.clock.run_for(90_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#timer-state")).to_have_text("paused")
    expect(page.locator("#timer-announce")).to_have_text("Paused at 1:30.")
    page.clock.run_for(5 * MINUTE_MS)
    assert clock(page) == ("1:30", f"{minutes - 2}:30")
    page.get_by_role("button", name="Resume").click()
    page.clock.run_for(50_000)
    assert clock(page) == ("2:20", f"{minutes - 3}:40")
    page.get_by_role("button", name="Finish and log").click()
    expect_path(page, "/diary/log")
    assert page.url.endswith("/diary/log?minutes=2")
    expect(page.get_by_label("Minutes")).to_have_value("2")


def test_a_few_seconds_log_as_one_minute(page: Page) -> None:
    """Twenty seconds timed, then "Stop": the end panel says 1 minute, and so does the
    form (any time timed logs at least a minute)."""
    open_session(page, "sam.rivera@example.org")
    page.get_by_role("button", name="Start the timer").click()
    page.clock.run_for(20_000)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_role("heading", name="Timer stopped")).to_be_focused()
    expect(page.locator("#timer-end-summary")).to_have_text("You timed 1 minute.")
    page.locator("#timer-end").get_by_role("link", name="Log this session").click()
    expect(page.get_by_label("Minutes")).to_have_value("1")


def test_sharp_pain_stops_the_timer_and_opens_the_log(phone_390: Page) -> None:
    """The sharp-pain stop ("I felt sharp pain — stop") stops the timer at once, shows
    the stop guidance (the safety page's words, and what to do if the dilator will not come
    out) with the focus on it, and its link opens the log form with sharp pain ticked, the
    minutes timed so far and the guidance again."""
    page = phone_390
    open_session(page, "sam.rivera@example.org")
    stop = page.get_by_role("link", name="I felt sharp pain — stop")
    expect(stop).to_be_visible()
    page.get_by_role("button", name="Start the timer").click()
    page.clock.run_for(3 * MINUTE_MS + 10_000)
    expect(stop).to_be_in_viewport()  # above the timer, still in view while it runs
    stop.click()
    panel = page.get_by_role("heading", name="Stop for now")
    expect(panel).to_be_focused()
    expect(page.locator("#timer-state")).to_have_text("stopped")
    expect(page.locator("#pain-panel")).to_contain_text("Sharp or sudden pain is a signal to stop.")
    expect(page.get_by_role("heading", name="If the dilator will not come out")).to_be_visible()
    page.clock.run_for(MINUTE_MS)
    assert clock(page)[0] == "3:10"
    assert_no_horizontal_scrolling(page)
    assert_accessible(page)

    page.locator("#pain-panel").get_by_role("link", name="Log this session").click()
    expect_path(page, "/diary/log")
    assert page.url.endswith("/diary/log?minutes=3&stopped=1")
    expect(page.get_by_label("Minutes")).to_have_value("3")
    expect(
        page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("Yes")
    ).to_be_checked()
    expect(page.get_by_role("heading", name="You stopped because of sharp pain")).to_be_visible()
    assert_accessible(page)


# Where on the page each timer button's centre is covered by something else, at every
# scroll position (10 px apart) at which that centre is on the screen.
COVERED_BUTTONS = """
() => {
  const ids = ["timer-start", "timer-pause", "timer-stop", "timer-finish"];
  const covered = [];
  const end = document.documentElement.scrollHeight - window.innerHeight;
  for (let y = 0; y <= end + 10; y += 10) {
    window.scrollTo(0, y);
    for (const id of ids) {
      const button = document.getElementById(id);
      if (button.hidden) continue;
      const box = button.getBoundingClientRect();
      const x = box.left + box.width / 2, middle = box.top + box.height / 2;
      if (middle < 0 || middle >= window.innerHeight) continue;
      const hit = document.elementFromPoint(x, middle);
      if (!button.contains(hit)) covered.push(`${id} at ${y}px: ${hit && (hit.id || hit.tagName)}`);
    }
  }
  window.scrollTo(0, 0);
  return covered;
}
"""


@pytest.mark.parametrize("height", [844, 667])
def test_the_sharp_pain_stop_never_covers_the_timer(
    browser: Browser, live_server: LiveServer, height: int
) -> None:
    """On a phone 390 px wide (844 and 667 px tall) the sharp-pain stop, which stays at
    the foot of the screen until the page reaches its place, never lies over the timer's
    buttons: at every scroll position, a tap at the centre of "Start the timer" (and, once
    it runs, of Pause, Stop and "Finish and log") reaches that button. It once covered
    Start as the page opened, so a tap meant for Start opened the log with sharp pain
    ticked. The stop is on the first screen all the same."""
    context = open_context(
        browser, live_server, {**PHONE_390, "viewport": {"width": 390, "height": height}}
    )
    page = context.new_page()
    try:
        open_session(page, "sam.rivera@example.org")
        expect(page.get_by_role("link", name="I felt sharp pain — stop")).to_be_in_viewport()
        assert page.evaluate(COVERED_BUTTONS) == []
        page.get_by_role("button", name="Start the timer").click()
        expect(page.locator("#timer-state")).to_have_text("running")
        assert page.evaluate(COVERED_BUTTONS) == []
    finally:
        context.close()


def test_the_breathing_guide_keeps_still_for_reduced_motion(page: Page) -> None:
    """With reduced motion asked for, the breathing guide is words only (in for 4 s, out
    for 6 s), with no circle and nothing animated; without it, the circle moves."""
    page.emulate_media(reduced_motion="reduce")
    open_session(page, "sam.rivera@example.org")
    page.get_by_label("Breathing guide").check()
    cue = page.locator("#breath-cue")
    expect(cue).to_have_text("Breathe in… 4 seconds")
    expect(page.locator(".breath-circle")).to_be_hidden()
    assert page.evaluate("document.getAnimations().length") == 0
    page.clock.run_for(4_000)
    expect(cue).to_have_text("Breathe out… 6 seconds")
    page.clock.run_for(6_000)
    expect(cue).to_have_text("Breathe in… 4 seconds")
    assert page.evaluate("document.getAnimations().length") == 0
    assert_accessible(page)

    page.emulate_media(reduced_motion="no-preference")
    page.reload()
    page.get_by_label("Breathing guide").check()
    expect(page.locator(".breath-circle")).to_be_visible()
    assert page.locator(".breath-circle").evaluate("circle => circle.getAnimations().length") == 1
    page.get_by_label("Breathing guide").uncheck()
    expect(page.locator("#breathing")).to_be_hidden()


def test_the_whole_session_works_from_the_keyboard(page: Page) -> None:
    """By keyboard alone: Tab reaches "Start the timer", Enter starts it and the focus
    moves to "Pause"; Space pauses and resumes; the sharp-pain stop is reached by Tab and
    opened with Enter, its panel taking the focus; Tab then reaches its log link, and
    Enter opens the form with the minutes and sharp pain ticked."""
    open_session(page, "sam.rivera@example.org")
    start = page.get_by_role("button", name="Start the timer")
    focus_path_to(page, start)
    page.keyboard.press("Enter")
    pause = page.locator("#timer-pause")
    expect(pause).to_be_focused()
    page.clock.run_for(2 * MINUTE_MS)
    page.keyboard.press("Space")
    expect(page.locator("#timer-state")).to_have_text("paused")
    expect(pause).to_have_text("Resume")
    page.keyboard.press("Space")
    expect(page.locator("#timer-state")).to_have_text("running")
    page.clock.run_for(MINUTE_MS)

    stop = page.get_by_role("link", name="I felt sharp pain — stop")
    focus_path_to(page, stop, max_presses=60)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Stop for now")).to_be_focused()
    log = page.locator("#pain-panel").get_by_role("link", name="Log this session")
    focus_path_to(page, log)
    page.keyboard.press("Enter")
    expect_path(page, "/diary/log")
    expect(page.get_by_label("Minutes")).to_have_value("3")
    expect(
        page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("Yes")
    ).to_be_checked()


def test_without_javascript_the_guide_still_leads_to_the_log(
    browser: Browser, live_server: LiveServer
) -> None:
    """With JavaScript off: the steps show, no timer does, and "Log this session" opens
    the log form as it always did; the sharp-pain stop opens it with sharp pain ticked."""
    context = open_context(browser, live_server, {**DESKTOP, "java_script_enabled": False})
    page = context.new_page()
    try:
        sign_in(page, "sam.rivera@example.org")
        expect_path(page, "/diary/")
        page.goto("/diary/session")
        expect(page.get_by_role("heading", name="Step by step")).to_be_visible()
        expect(page.locator("#session-timer")).to_be_hidden()
        page.locator(".session-links").get_by_role("link", name="Log this session").click()
        expect_path(page, "/diary/log")
        expect(page.get_by_label("Minutes")).to_have_value("10")
        page.go_back()
        page.get_by_role("link", name="I felt sharp pain — stop").click()
        expect_path(page, "/diary/log")
        expect(
            page.get_by_role("group", name="Any sharp or sudden pain?").get_by_label("Yes")
        ).to_be_checked()
    finally:
        context.close()
