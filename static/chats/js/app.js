// Entry point of the chat pages: the live sidebar, the open chat, the composer and model picker.
import { wireChatActions } from "./actions.js";
import { api } from "./api.js";
import { Attachments } from "./attachments.js";
import { wirePush } from "./push.js";
import { ChatView, showBanner } from "./chat.js";
import { Sidebar } from "./sidebar.js";

const $ = (id) => document.getElementById(id);
const chat = JSON.parse($("chat-data").textContent);

const dom = {
  chat: $("chat"),
  status: $("chat-status"),
  title: $("chat-title"),
  cost: $("chat-cost"),
  connection: $("connection"),
  banner: $("banner"),
  messages: $("messages"),
  queue: $("queue"),
};
const composer = {
  form: $("composer"),
  input: $("composer-input"),
  models: $("model-picker"),
  send: $("send"),
  stop: $("stop"),
  interruptSend: $("interrupt-send"),
};

function showBusy(status) {
  const busy = status === "pending" || status === "running";
  composer.stop.hidden = !busy;
  composer.interruptSend.hidden = !busy;
  composer.send.textContent = busy ? "Queue" : "Send";
}

async function loadModels() {
  const catalog = await api("GET", "/api/models/");
  const groups = catalog.providers.map((provider) => {
    const group = document.createElement("optgroup");
    group.label = provider.available ? provider.provider : `${provider.provider} (${provider.unavailable_reason})`;
    for (const model of provider.models) {
      const option = new Option(model.display_name || model.model, model.id);
      option.disabled = !provider.available;
      if (chat ? chat.model_config_id === model.id : model.is_default) option.selected = true;
      group.append(option);
    }
    return group;
  });
  composer.models.replaceChildren(...groups);
}

async function loadWorkspaces() {
  const picker = $("workspace-picker");
  if (!picker) return;
  const workspaces = await api("GET", "/api/workspaces/");
  for (const workspace of workspaces) {
    if (workspace.status === "deleted") continue;
    picker.append(new Option(`${workspace.name} (${workspace.status})`, workspace.id));
  }
}

function selectedModel() {
  const value = composer.models.value;
  return value ? Number(value) : undefined;
}

function banner(text) {
  showBanner(dom.banner, "error", text);
}

const attachments = new Attachments({
  list: $("attachments"),
  input: $("file-input"),
  picker: $("attach"),
  dropZone: composer.form,
  onError: (message) => banner(message),
});

async function submit(busyBehavior) {
  const text = composer.input.value;
  if (!text.trim()) return;
  composer.send.disabled = true;
  try {
    const content = await attachments.content(text);
    if (!chat) {
      const workspace = $("workspace-picker").value || undefined;
      const created = await api("POST", "/api/chats/", { content, model_config_id: selectedModel(), workspace_id: workspace });
      window.location.assign(`/chats/${created.id}/`);
      return;
    }
    await api("POST", `/api/chats/${chat.id}/messages/`, {
      content,
      busy_behavior: busyBehavior,
      model_config_id: selectedModel(),
    });
    composer.input.value = "";
    attachments.clear();
  } catch (error) {
    banner(error.message);
  } finally {
    composer.send.disabled = false;
  }
}

function wireComposer() {
  composer.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit("queue");
  });
  composer.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit("queue");
    }
  });
  composer.interruptSend.addEventListener("click", () => submit("interrupt"));
  composer.stop.addEventListener("click", async () => {
    try {
      await api("POST", `/api/chats/${chat.id}/interrupt/`);
    } catch (error) {
      banner(error.message);
    }
  });
}

const sidebar = new Sidebar({
  list: $("chat-list"),
  empty: $("sidebar-empty"),
  search: $("chat-search"),
  currentId: chat?.id,
});
const diffChanged = chat ? wireChatActions(chat, banner) : null;
sidebar.onChange = (kind, changed) => {
  if (!chat || changed.id !== chat.id) return;
  if (kind === "title_change") {
    dom.title.textContent = changed.title;
    document.title = `${changed.title} · chatd`;
  }
  if (kind === "diff_status_change" && changed.diff_status) diffChanged(changed.diff_status);
};
sidebar.start().catch((error) => banner(`Could not load your chats: ${error.message}`));
loadModels().catch((error) => banner(`Could not load the models: ${error.message}`));
loadWorkspaces().catch((error) => banner(`Could not load your workspaces: ${error.message}`));
wireComposer();
wirePush($("enable-push"), banner).catch(() => {}); // no push service: the button stays hidden
if (chat && $("show-desktop")) {
  let view = null;
  const open = async () => {
    const { DesktopView } = await import("./desktop.js"); // noVNC loads only when asked for
    view ??= new DesktopView({
      chatId: chat.id,
      panel: $("desktop"),
      screen: $("desktop-screen"),
      control: $("desktop-control"),
      state: $("desktop-state"),
    });
    view.toggle();
  };
  $("show-desktop").addEventListener("click", () => open().catch((error) => banner(error.message)));
  $("hide-desktop").addEventListener("click", () => view?.close());
}
if (chat) {
  new ChatView({ chat, dom, onStatus: showBusy }).start();
  showBusy(chat.status);
}
composer.input.focus();
document.documentElement.dataset.ready = "true"; // the composer is wired (tests wait for this)
