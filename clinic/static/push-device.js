/* "Notifications on this device" (templates/push/_device.html).

   On load it only looks: whether this browser can show notifications, whether they are
   blocked, and whether this device is already on for the signed-in patient (the page
   lists SHA-256 digests of their devices' endpoints; the browser's own is hashed and
   compared). Permission is asked only when "Turn on notifications" is pressed. The
   subscription goes to the server as an ordinary form body with the CSRF token. */
"use strict";

(function () {
  const section = document.querySelector("[data-push-device]");
  if (!section) {
    return;
  }
  section.querySelector("[data-push-no-script]").hidden = true;
  const state = section.querySelector("[data-push-state]");
  const onForm = section.querySelector("[data-push-on]");
  const offForm = section.querySelector("[data-push-off]");
  const known = (section.dataset.known || "").split(" ").filter(Boolean);

  const TEXT = {
    unsupported:
      "Notifications are not supported here: this browser cannot show them for this site. Email reminders still work.",
    blocked:
      "Notifications are blocked by the browser for this site. To use them, allow notifications for this site in the browser's settings, then reload this page. Email reminders still work.",
    on: "Notifications are on for this device.",
    off: "Notifications are off for this device.",
    declined: "Notifications were not turned on: the browser did not allow them.",
    working: "Turning on notifications…",
    stopping: "Turning off notifications…",
    serviceFailed:
      "This browser could not reach its notification service, so notifications were not turned on. Check the connection and try again later. Email reminders still work.",
    serverFailed: "Notifications were not turned on: this site could not be reached. Try again later.",
  };
  // The page gives the same words in its own language (data-text); English stays the fallback.
  try {
    Object.assign(TEXT, JSON.parse(section.dataset.text || "{}"));
  } catch (_error) {
    // Unreadable words: keep the English ones.
  }

  function show(text, which) {
    state.textContent = text;
    onForm.hidden = which !== "on";
    offForm.hidden = which !== "off";
    section.dataset.state = which || "";
  }

  function supported() {
    return (
      window.isSecureContext &&
      "serviceWorker" in navigator &&
      "PushManager" in window &&
      "Notification" in window
    );
  }

  function base64UrlToBytes(text) {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(padded);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function bytesToBase64Url(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    bytes.forEach((b) => {
      raw += String.fromCharCode(b);
    });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function digest(text) {
    const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function registration() {
    const found = await navigator.serviceWorker.getRegistration(section.dataset.scope);
    return found || null;
  }

  async function activeRegistration() {
    const reg = await navigator.serviceWorker.register(section.dataset.worker, {
      scope: section.dataset.scope,
    });
    const worker = reg.installing || reg.waiting;
    if (!reg.active && worker) {
      await new Promise((resolve) => {
        worker.addEventListener("statechange", () => {
          if (worker.state === "activated") {
            resolve();
          }
        });
      });
    }
    return reg;
  }

  async function post(form) {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    return { ok: response.ok, status: response.status, message: answer.message || "" };
  }

  async function currentState() {
    if (!supported()) {
      show(TEXT.unsupported, "");
      return;
    }
    if (Notification.permission === "denied") {
      show(TEXT.blocked, "");
      return;
    }
    const reg = await registration();
    const subscription = reg ? await reg.pushManager.getSubscription() : null;
    if (subscription && known.includes(await digest(subscription.endpoint))) {
      offForm.elements.endpoint.value = subscription.endpoint;
      show(TEXT.on, "off");
      return;
    }
    show(TEXT.off, "on");
  }

  async function turnOn(event) {
    event.preventDefault();
    const button = onForm.querySelector("button");
    button.disabled = true;
    try {
      // Asked here, after the tap, and never on load.
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        show(permission === "denied" ? TEXT.blocked : TEXT.declined, permission === "denied" ? "" : "on");
        return;
      }
      state.textContent = TEXT.working;
      const reg = await activeRegistration();
      let subscription;
      try {
        subscription =
          (await reg.pushManager.getSubscription()) ||
          (await reg.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: base64UrlToBytes(section.dataset.key),
          }));
      } catch (error) {
        show(TEXT.serviceFailed, "on");
        section.dataset.error = error && error.name ? error.name : "Error";
        return;
      }
      const keys = subscription.toJSON().keys || {};
      onForm.elements.endpoint.value = subscription.endpoint;
      onForm.elements.p256dh.value = keys.p256dh || bytesToBase64Url(subscription.getKey("p256dh"));
      onForm.elements.auth.value = keys.auth || bytesToBase64Url(subscription.getKey("auth"));
      let answer;
      try {
        answer = await post(onForm);
      } catch (error) {
        show(TEXT.serverFailed, "on");
        return;
      }
      if (!answer.ok) {
        show(answer.message || TEXT.serverFailed, "on");
        return;
      }
      known.push(await digest(subscription.endpoint));
      offForm.elements.endpoint.value = subscription.endpoint;
      show(answer.message || TEXT.on, "off");
    } finally {
      button.disabled = false;
    }
  }

  async function turnOff(event) {
    event.preventDefault();
    const button = offForm.querySelector("button");
    button.disabled = true;
    state.textContent = TEXT.stopping;
    try {
      const reg = await registration();
      const subscription = reg ? await reg.pushManager.getSubscription() : null;
      // The browser first: once it has let go, nothing more can arrive here, even if
      // this site cannot be reached to forget the device (it learns at the next send).
      if (subscription) {
        offForm.elements.endpoint.value = subscription.endpoint;
        await subscription.unsubscribe();
      }
      try {
        await post(offForm);
      } catch (error) {
        // Off in the browser already: that is what counts for this device.
      }
      show(TEXT.off, "on");
    } finally {
      button.disabled = false;
    }
  }

  onForm.addEventListener("submit", (event) => {
    turnOn(event).catch(() => show(TEXT.serviceFailed, "on"));
  });
  offForm.addEventListener("submit", (event) => {
    turnOff(event).catch(() => show(TEXT.off, "on"));
  });
  currentState().catch(() => show(TEXT.unsupported, ""));
})();
