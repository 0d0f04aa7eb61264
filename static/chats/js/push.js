// "Notify me": this browser gets a Web Push notification when one of your chats finishes.
import { api } from "./api.js";

const WORKER = "/static/chats/push-sw.js";

async function current() {
  const registration = await navigator.serviceWorker.register(WORKER);
  return { registration, subscription: await registration.pushManager.getSubscription() };
}

function show(button, on) {
  button.hidden = false;
  button.textContent = on ? "Notifications on" : "Notify me when chats finish";
  button.setAttribute("aria-pressed", String(on));
}

export async function wirePush(button, onError) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.isSecureContext) return;
  const { registration, subscription: existing } = await current();
  let subscription = existing;
  show(button, !!subscription);
  button.addEventListener("click", async () => {
    try {
      if (subscription) {
        await api("DELETE", "/api/push/subscriptions/", { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
        subscription = null;
      } else {
        if ((await Notification.requestPermission()) !== "granted") throw new Error("notifications are blocked for this site");
        const { public_key: key } = await api("GET", "/api/push/vapid-public-key/");
        subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        await api("POST", "/api/push/subscriptions/", subscription.toJSON());
      }
      show(button, !!subscription);
    } catch (error) {
      onError(`Notifications: ${error.message}`);
    }
  });
}
