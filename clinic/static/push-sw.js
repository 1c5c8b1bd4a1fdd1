/* The portal's service worker (served at /diary/service-worker.js, scope /diary/).

   It does two things only: show a notification when the push service delivers one, and
   open the portal when the notification is tapped. It caches nothing and handles no
   fetch: the portal's pages hold health data and are never kept on the device.

   A push's data is JSON {title, body, url} written by clinic.push (neutral words, a path
   on this site). */
"use strict";

const FALLBACK = { title: "Notification", body: "Open to see it.", url: "/" };

function sameSitePath(url) {
  try {
    const target = new URL(url, self.location.origin);
    return target.origin === self.location.origin ? target.href : FALLBACK.url;
  } catch (error) {
    return FALLBACK.url;
  }
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  const title = typeof data.title === "string" && data.title ? data.title : FALLBACK.title;
  const body = typeof data.body === "string" ? data.body : FALLBACK.body;
  const url = sameSitePath(typeof data.url === "string" ? data.url : FALLBACK.url);
  event.waitUntil(
    self.registration.showNotification(title, {
      body: body,
      icon: "/static/icons/app-192.png",
      badge: "/static/icons/app-192.png",
      tag: "reminder",
      data: { url: url },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameSitePath((event.notification.data || {}).url || FALLBACK.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      // navigate() works only in a window this worker controls (a page under /diary/);
      // in any other (the notifications page, say) it is refused: open a new one then.
      const open = () => self.clients.openWindow(url);
      for (const client of windows) {
        if (client.url.startsWith(self.location.origin + "/") && "navigate" in client) {
          return client.navigate(url).then((opened) => (opened || client).focus(), open);
        }
      }
      return open();
    })
  );
});
