/* The guided session's timer (templates/portal/session.html), as progressive enhancement:
   without JavaScript the page shows the steps and plain links to the log form.

   - Start, pause, resume, stop, or finish and log. Elapsed time is read from the clock
     (Date.now), not counted in ticks, so a phone that slows the page's timers in the
     background still times right.
   - Time so far and time left are shown as text; a polite live region says the start,
     each whole minute, a pause, and the end: never every second.
   - Every log link on the page carries the minutes timed (whole minutes, at least 1 once
     any time was timed, never more than the form accepts), and the sharp-pain stop adds
     `stopped=1` (the form then has sharp pain ticked). Nothing is saved here: the patient
     reviews and saves the form.
   - An optional breathing guide (in for 4 s, out for 6 s): words always, a growing and
     shrinking circle only when the person has not asked for reduced motion.
   - Silent unless the person ticks the sound option: then one soft tone at the end.
   - The screen is kept on while the timer runs, where the browser allows it. */
(function () {
  "use strict";

  var BREATHE_IN_MS = 4000;
  var BREATHE_OUT_MS = 6000;
  var TICK_MS = 500;

  function byId(id) { return document.getElementById(id); }

  function clockText(totalSeconds) {
    var minutes = Math.floor(totalSeconds / 60);
    var seconds = totalSeconds % 60;
    return minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  /* Move the keyboard's place to a panel just shown, its heading at the top of the screen. */
  function bringToFocus(heading) {
    heading.scrollIntoView({ block: "start" });
    heading.focus({ preventScroll: true });
  }

  /* The words the timer says, in the page's language (the page's data-words, from
     clinic.portal.session.timer_words); English when the page gives none. */
  var WORDS = {
    resume: "Resume",
    pause: "Pause",
    idle: "not started",
    running: "running",
    paused: "paused",
    ended: "stopped",
    started: "Timer started: {minutes}.",
    pausedAt: "Paused at {time}.",
    runningAgain: "Timer running again.",
    timeUpHeading: "Time is up",
    stoppedHeading: "Timer stopped",
    noTime: "No time was timed.",
    youTimed: "You timed {minutes}.",
    timeUp: "Time is up.",
    minute: "{n} minute",
    minutes: "{n} minutes",
    breatheIn: "Breathe in… 4 seconds",
    breatheOut: "Breathe out… 6 seconds"
  };

  function loadWords(root) {
    var given = {};
    try { given = JSON.parse(root.getAttribute("data-words") || "{}"); } catch (e) { given = {}; }
    Object.keys(given).forEach(function (key) { WORDS[key] = given[key]; });
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function minutesWords(n) { return fill(n === 1 ? WORDS.minute : WORDS.minutes, { n: n }); }

  function Session(root) {
    this.root = root;
    this.totalMs = parseInt(root.getAttribute("data-minutes"), 10) * 60000;
    this.maxMinutes = parseInt(root.getAttribute("data-max-minutes"), 10);
    this.logUrl = root.getAttribute("data-log-url");
    this.state = "idle"; // idle, running, paused, ended
    this.banked = 0; // ms timed before the current run
    this.runStartedAt = 0;
    this.minutesSaid = 0;
    this.interval = null;
    this.wakeLock = null;
    this.audio = null;
    this.el = {
      elapsed: byId("timer-elapsed"),
      remaining: byId("timer-remaining"),
      state: byId("timer-state"),
      announce: byId("timer-announce"),
      start: byId("timer-start"),
      pause: byId("timer-pause"),
      stop: byId("timer-stop"),
      finish: byId("timer-finish"),
      end: byId("timer-end"),
      endHeading: byId("timer-end-heading"),
      endSummary: byId("timer-end-summary"),
      sound: byId("sound-toggle"),
      painStop: byId("pain-stop"),
      painPanel: byId("pain-panel"),
      painHeading: byId("pain-panel-heading")
    };
    this.logLinks = document.querySelectorAll("[data-log-link]");
  }

  Session.prototype.elapsedMs = function () {
    var running = this.state === "running" ? Date.now() - this.runStartedAt : 0;
    return Math.min(this.totalMs, this.banked + running);
  };

  /* The minutes the log form is given: whole minutes, rounded to the nearest, at least 1
     once any whole second was timed, never more than the form accepts; null before. */
  Session.prototype.timedMinutes = function () {
    var seconds = Math.floor(this.elapsedMs() / 1000);
    if (seconds <= 0) return null;
    return Math.min(this.maxMinutes, Math.max(1, Math.round(seconds / 60)));
  };

  Session.prototype.logHref = function (stopped) {
    var query = [];
    var minutes = this.timedMinutes();
    if (minutes !== null) query.push("minutes=" + minutes);
    if (stopped) query.push("stopped=1");
    return this.logUrl + (query.length ? "?" + query.join("&") : "");
  };

  Session.prototype.refreshLinks = function () {
    for (var i = 0; i < this.logLinks.length; i += 1) {
      var link = this.logLinks[i];
      link.href = this.logHref(link.hasAttribute("data-stopped"));
    }
  };

  Session.prototype.say = function (words) {
    var region = this.el.announce;
    // Emptied first so the same words, said twice, are announced twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = words; }, 50);
  };

  Session.prototype.render = function () {
    var elapsed = this.elapsedMs();
    var elapsedSeconds = Math.floor(elapsed / 1000);
    var totalSeconds = Math.round(this.totalMs / 1000);
    this.el.elapsed.textContent = clockText(elapsedSeconds);
    this.el.remaining.textContent = clockText(totalSeconds - elapsedSeconds);
    this.refreshLinks();
  };

  Session.prototype.showControls = function () {
    var started = this.state === "running" || this.state === "paused";
    this.el.start.hidden = this.state !== "idle";
    this.el.pause.hidden = !started;
    this.el.stop.hidden = !started;
    this.el.finish.hidden = !started;
    this.el.pause.textContent = this.state === "paused" ? WORDS.resume : WORDS.pause;
    this.el.state.textContent = {
      idle: WORDS.idle,
      running: WORDS.running,
      paused: WORDS.paused,
      ended: WORDS.ended
    }[this.state];
  };

  Session.prototype.tick = function () {
    if (this.state !== "running") return;
    var elapsed = this.elapsedMs();
    this.render();
    if (elapsed >= this.totalMs) {
      this.end("done");
      return;
    }
    var whole = Math.floor(elapsed / 60000);
    if (whole > this.minutesSaid) {
      this.minutesSaid = whole;
      var left = Math.round(this.totalMs / 60000) - whole;
      this.say(minutesWords(whole) + " done, " + minutesWords(left) + " to go.");
    }
  };

  Session.prototype.run = function () {
    var self = this;
    this.state = "running";
    this.runStartedAt = Date.now();
    this.interval = window.setInterval(function () { self.tick(); }, TICK_MS);
    this.keepScreenOn();
    this.showControls();
    this.render();
  };

  Session.prototype.halt = function () {
    if (this.state === "running") {
      this.banked = this.elapsedMs();
    }
    window.clearInterval(this.interval);
    this.interval = null;
    this.releaseScreen();
  };

  Session.prototype.start = function () {
    if (this.state !== "idle") return;
    this.prepareSound();
    this.run();
    this.el.pause.focus(); // the start button has gone: keep the keyboard's place
    this.say(fill(WORDS.started, { minutes: minutesWords(Math.round(this.totalMs / 60000)) }));
  };

  Session.prototype.togglePause = function () {
    if (this.state === "running") {
      this.halt();
      this.state = "paused";
      this.showControls();
      this.render();
      this.say(fill(WORDS.pausedAt, { time: clockText(Math.floor(this.banked / 1000)) }));
    } else if (this.state === "paused") {
      this.run();
      this.say(WORDS.runningAgain);
    }
  };

  /* End the timing: "done" (time is up), "stopped" (the stop button) or "pain". */
  Session.prototype.end = function (how) {
    var already = this.state === "ended";
    if (!already) {
      this.halt();
      this.state = "ended";
      this.showControls();
      this.render();
    }
    if (how === "pain") { // also after the timer ended: the stop guidance is always there
      this.el.end.hidden = true;
      this.el.painStop.hidden = true;
      this.el.painPanel.hidden = false;
      bringToFocus(this.el.painHeading);
      return;
    }
    if (already) return;
    var minutes = this.timedMinutes();
    this.el.endHeading.textContent = how === "done" ? WORDS.timeUpHeading : WORDS.stoppedHeading;
    this.el.endSummary.textContent = minutes === null
      ? WORDS.noTime
      : fill(WORDS.youTimed, { minutes: minutesWords(minutes) });
    this.el.end.hidden = false;
    bringToFocus(this.el.endHeading);
    if (how === "done") {
      this.say(WORDS.timeUp);
      this.chime();
    }
  };

  Session.prototype.finishAndLog = function () {
    this.end("stopped");
    window.location.assign(this.logHref(false));
  };

  /* Sound: off unless ticked. The audio context is made on a tap (browsers allow sound
     only after one), and plays a single soft tone at the end. */
  Session.prototype.prepareSound = function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!this.el.sound.checked || this.audio || !Context) return;
    try {
      this.audio = new Context();
    } catch (error) {
      this.audio = null;
    }
  };

  Session.prototype.chime = function () {
    if (!this.el.sound.checked || !this.audio) return;
    try {
      var now = this.audio.currentTime;
      var tone = this.audio.createOscillator();
      var volume = this.audio.createGain();
      tone.type = "sine";
      tone.frequency.value = 440;
      volume.gain.setValueAtTime(0.0001, now);
      volume.gain.exponentialRampToValueAtTime(0.2, now + 0.05);
      volume.gain.exponentialRampToValueAtTime(0.0001, now + 1.8);
      tone.connect(volume);
      volume.connect(this.audio.destination);
      tone.start(now);
      tone.stop(now + 1.9);
    } catch (error) {
      // No sound is no harm: the words on the page and the live region say it too.
    }
  };

  /* Keep the screen on while the timer runs, where the Wake Lock API exists. */
  Session.prototype.keepScreenOn = function () {
    var self = this;
    if (!navigator.wakeLock || this.wakeLock) return;
    navigator.wakeLock.request("screen").then(
      function (lock) {
        // Keep it only while running and holding no other: a pause and resume before the
        // first request was granted makes a second one, and a lock not kept is released
        // (held on, it would keep the screen on after the timer stopped).
        if (self.state === "running" && !self.wakeLock) self.wakeLock = lock;
        else lock.release().catch(function () {});
      },
      function () { /* refused (battery saver, no permission): the timer runs anyway */ }
    );
  };

  Session.prototype.releaseScreen = function () {
    if (this.wakeLock) {
      this.wakeLock.release().catch(function () {});
      this.wakeLock = null;
    }
  };

  Session.prototype.bind = function () {
    var self = this;
    this.el.start.addEventListener("click", function () { self.start(); });
    this.el.pause.addEventListener("click", function () { self.togglePause(); });
    this.el.stop.addEventListener("click", function () { self.end("stopped"); });
    this.el.finish.addEventListener("click", function () { self.finishAndLog(); });
    this.el.sound.addEventListener("change", function () { self.prepareSound(); });
    this.el.painStop.addEventListener("click", function (event) {
      event.preventDefault();
      self.end("pain");
    });
    document.addEventListener("visibilitychange", function () {
      // The browser drops the wake lock when the page is hidden: take it again on return.
      if (document.visibilityState === "visible" && self.state === "running") {
        self.wakeLock = null;
        self.keepScreenOn();
      }
    });
    this.root.hidden = false;
    this.showControls();
    this.render();
  };

  /* The breathing guide: words always; the circle moves only without reduced motion. */
  function Breathing(toggle, box, cue) {
    this.toggle = toggle;
    this.box = box;
    this.cue = cue;
    this.circle = box.querySelector(".breath-circle");
    this.timeout = null;
    this.still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  Breathing.prototype.phase = function (breathingIn) {
    var self = this;
    this.cue.textContent = breathingIn ? WORDS.breatheIn : WORDS.breatheOut;
    this.timeout = window.setTimeout(function () {
      self.phase(!breathingIn);
    }, breathingIn ? BREATHE_IN_MS : BREATHE_OUT_MS);
  };

  Breathing.prototype.update = function () {
    window.clearTimeout(this.timeout);
    this.box.classList.remove("moving");
    if (!this.toggle.checked) {
      this.box.hidden = true;
      return;
    }
    this.box.hidden = false;
    this.circle.hidden = this.still;
    if (!this.still) {
      void this.box.offsetWidth; // restart the animation in step with the words
      this.box.classList.add("moving");
    }
    this.phase(true);
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = byId("session-timer");
    if (!root) return;
    loadWords(root);
    new Session(root).bind();
    var breathing = new Breathing(byId("breathing-toggle"), byId("breathing"), byId("breath-cue"));
    breathing.toggle.addEventListener("change", function () { breathing.update(); });
  });
})();
