// chatd's service worker: shows a chat's push notification and opens the chat on click.
//
// The page registers it and subscribes (see README, "Web push"):
//   const reg = await navigator.serviceWorker.register("/static/chats/push-sw.js");
//   const {public_key} = await (await fetch("/api/push/vapid-public-key/")).json();
//   const sub = await reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: public_key});
//   POST /api/push/subscriptions/ with JSON.stringify(sub)
//
// Payload: {title, body, tag, data: {url, chat_id, status}}. One tag per chat, so a newer
// notification about a chat replaces the older one.
"use strict";

self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch (_) {
    payload = {body: event.data ? event.data.text() : ""};
  }
  const options = {
    body: payload.body || "",
    tag: payload.tag,
    renotify: Boolean(payload.tag),
    data: payload.data || {},
  };
  if (payload.icon) options.icon = payload.icon;
  event.waitUntil(self.registration.showNotification(payload.title || "chatd", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil(focusOrOpen(target.href));
});

async function focusOrOpen(url) {
  const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
  for (const client of windows) {
    if (client.url === url && "focus" in client) return client.focus();
  }
  return self.clients.openWindow(url);
}
