// One chat, live: persisted messages, the running step streaming token by token, tool calls
// with their results, retries and errors, the queue, and message editing.
import { api, formatUsd } from "./api.js";
import { renderMarkdown } from "./markdown.js";
import { LiveSocket } from "./socket.js";

const SUBAGENT_TOOLS = new Set(["spawn_agent", "wait_agent", "message_agent", "close_agent", "spawn_computer_use_agent"]);
const BUSY = new Set(["pending", "running"]);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function pretty(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

function textOf(parts) {
  return parts.filter((p) => p.type === "text").map((p) => p.text).join("");
}

// The one banner under the chat header: kind "error" | "retry" | "notice".
export function showBanner(node, kind, text) {
  node.hidden = false;
  node.dataset.kind = kind;
  node.textContent = text;
}

export class ChatView {
  constructor({ chat, dom, onStatus }) {
    Object.assign(this, { chat, dom, onStatus });
    this.messages = new Map(); // id → <li>
    this.calls = new Map(); // tool_call_id → tool-call element
    this.pendingResults = new Map(); // results that arrived before their call was drawn
    this.inflight = null; // {li, parts: [{part, node}]}
    this.queue = [];
    this.renderQueued = new Set();
  }

  start() {
    this.socket = new LiveSocket({
      path: `/ws/chats/${this.chat.id}/`,
      sequenced: true,
      query: () => `after_id=${this.lastMessageId()}`,
      onEvents: (events, { snapshot }) => this.apply(events, snapshot),
      onState: (state, code) => this.connection(state, code),
    });
    this.refreshCost();
  }

  lastMessageId() {
    let last = 0;
    for (const id of this.messages.keys()) last = Math.max(last, id);
    return last;
  }

  connection(state, code) {
    this.dom.connection.hidden = state === "open";
    if (state === "gone") {
      this.dom.connection.hidden = false;
      this.dom.connection.textContent = code === 4404 ? "This chat does not exist." : "Signed out.";
    } else this.dom.connection.textContent = "Reconnecting…";
  }

  // --- events -----------------------------------------------------------------------------
  apply(events, snapshot) {
    const stick = this.nearBottom();
    if (snapshot) this.dropInflight();
    for (const event of events) {
      switch (event.type) {
        case "status": this.setStatus(event); break;
        case "message": this.addMessage(event.message, event.truncate_from_id); break;
        case "message_part": this.addPart(event.role, event.part); break;
        case "retry": this.showRetry(event.retry); break;
        case "error": this.showError(event.error.message); break;
        case "queue_update": this.setQueue(event.queued_messages); break;
        default: break;
      }
    }
    if (stick) this.scrollToBottom();
  }

  setStatus({ status, last_error: lastError, recovered }) {
    this.chat.status = status;
    if (status !== "running") this.dropInflight();
    this.dom.status.className = `status status-${status}`;
    this.dom.status.title = status;
    this.dom.chat.dataset.status = status;
    if (status === "error") this.showError(lastError || "The agent stopped with an error.");
    else if (status === "running" && recovered) this.showNotice("The worker running this chat was lost; another one took over.");
    else if (status !== "error" && this.dom.banner.dataset.kind === "error") this.clearBanner();
    if (status === "running" && this.dom.banner.dataset.kind === "retry") return;
    if (!BUSY.has(status) && this.dom.banner.dataset.kind === "retry") this.clearBanner();
    this.onStatus?.(status);
  }

  addMessage(message, truncateFrom) {
    if (truncateFrom !== undefined) {
      for (const [id, li] of this.messages) {
        if (id >= truncateFrom) { li.remove(); this.messages.delete(id); }
      }
    }
    if (message.role !== "user") this.dropInflight();
    const li = this.renderMessage(message);
    const old = this.messages.get(message.id);
    if (old) old.replaceWith(li);
    else {
      const later = [...this.messages.entries()].filter(([id]) => id > message.id).sort((a, b) => a[0] - b[0])[0];
      this.dom.messages.insertBefore(li, later ? later[1] : (this.inflight?.li ?? null));
    }
    this.messages.set(message.id, li);
    if (message.role === "assistant" && message.usage) this.refreshCost();
  }

  // --- persisted messages ---------------------------------------------------------------------
  renderMessage(message) {
    const li = el("li", `message ${message.role}`);
    li.dataset.messageId = message.id;
    li.dataset.role = message.role;
    if (message.role === "tool") {
      li.hidden = true; // results are drawn under their calls
      for (const part of message.parts) if (part.type === "tool_result") this.attachResult(part, li);
      return li;
    }
    const body = el("div", "body");
    for (const part of message.parts) body.append(this.renderPart(part));
    li.append(body);
    if (message.role === "user") li.append(this.userActions(message));
    if (message.role === "assistant") li.append(this.meta(message));
    return li;
  }

  renderPart(part) {
    switch (part.type) {
      case "text": {
        const node = el("div", "text markdown");
        node.innerHTML = renderMarkdown(part.text);
        return node;
      }
      case "reasoning": {
        const details = el("details", "reasoning");
        details.append(el("summary", "", "Reasoning"), el("div", "reasoning-text", part.text));
        return details;
      }
      case "tool_call": return this.renderCall(part);
      case "tool_result": {
        const holder = el("div", "orphan-result");
        this.attachResult(part, holder);
        return holder;
      }
      case "source": {
        const a = el("a", "source", part.title || part.url);
        if (/^https?:/i.test(part.url)) a.href = part.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        return a;
      }
      case "file": return this.renderFile(part);
      default: return el("div", "unknown-part", `[${part.type}]`);
    }
  }

  renderFile(part) {
    const url = `/api/files/${encodeURIComponent(part.file_id)}/`;
    if ((part.media_type || "").startsWith("image/")) {
      const img = el("img", "attachment-image");
      img.src = url;
      img.alt = part.name || "image";
      img.loading = "lazy";
      const a = el("a", "attachment");
      a.href = url;
      a.target = "_blank";
      a.append(img);
      return a;
    }
    const a = el("a", "attachment", `📎 ${part.name || part.file_id}`);
    a.href = url;
    a.target = "_blank";
    return a;
  }

  renderCall(part) {
    const details = el("details", "tool-call");
    details.dataset.callId = part.tool_call_id;
    details.dataset.tool = part.tool_name;
    const summary = el("summary");
    summary.append(el("span", "tool-name", part.tool_name), el("span", "tool-state", "running…"));
    const args = el("pre", "tool-args", part.args !== undefined ? pretty(part.args) : part.args_delta || "");
    const result = el("div", "tool-result");
    details.append(summary, args, result);
    this.calls.set(part.tool_call_id, details);
    this.linkSubagent(details, part.args);
    const early = this.pendingResults.get(part.tool_call_id);
    if (early) { this.pendingResults.delete(part.tool_call_id); this.fillResult(details, early); }
    return details;
  }

  attachResult(part, fallbackHost) {
    const call = this.calls.get(part.tool_call_id);
    if (call && call.isConnected) { this.fillResult(call, part); return; }
    this.pendingResults.set(part.tool_call_id, part);
    if (fallbackHost && !call) {
      // A result whose call is not on screen (e.g. loaded after an edit): show it standalone.
      const lone = this.renderCall({ tool_call_id: part.tool_call_id, tool_name: part.tool_name, args: "" });
      fallbackHost.hidden = false;
      fallbackHost.append(lone);
    }
  }

  fillResult(call, part) {
    call.classList.toggle("is-error", !!part.is_error);
    call.querySelector(".tool-state").textContent = part.is_error ? "failed" : "done";
    const result = call.querySelector(".tool-result");
    result.replaceChildren(el("pre", "", pretty(part.result)));
    this.linkSubagent(call, part.result);
  }

  linkSubagent(call, payload) {
    if (!SUBAGENT_TOOLS.has(call.dataset.tool) || !payload || typeof payload !== "object") return;
    const childId = payload.chat_id;
    if (!childId || call.querySelector(".subagent-link")) return;
    const link = el("a", "subagent-link", "open sub-agent chat →");
    link.href = `/chats/${encodeURIComponent(childId)}/`;
    call.querySelector("summary").append(link);
  }

  meta(message) {
    const meta = el("div", "meta");
    const u = message.usage;
    const tokens = u ? u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens : 0;
    if (message.cost_micros !== null || tokens > 0) {
      const cost = el("span", "cost", formatUsd(message.cost_micros));
      if (u) {
        cost.title = `input ${u.input_tokens}, output ${u.output_tokens}, reasoning ${u.reasoning_tokens}, `
          + `cache read ${u.cache_read_tokens}, cache write ${u.cache_write_tokens}`;
      }
      meta.append(cost);
    }
    return meta;
  }

  userActions(message) {
    const actions = el("div", "actions");
    const edit = el("button", "link edit", "Edit");
    edit.type = "button";
    edit.addEventListener("click", () => this.startEdit(message));
    actions.append(edit);
    return actions;
  }

  startEdit(message) {
    const li = this.messages.get(message.id);
    if (!li || li.querySelector("form")) return;
    const form = el("form", "edit-form");
    const area = el("textarea");
    area.value = textOf(message.parts);
    area.rows = Math.min(12, area.value.split("\n").length + 1);
    const save = el("button", "", "Save & rerun");
    save.type = "submit";
    const cancel = el("button", "link", "Cancel");
    cancel.type = "button";
    form.append(area, save, cancel);
    li.append(form);
    area.focus();
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const files = message.parts.filter((p) => p.type === "file").map((p) => ({ type: "file", file_id: p.file_id }));
      const content = files.length ? [{ type: "text", text: area.value }, ...files] : area.value;
      try {
        await api("PATCH", `/api/chats/${this.chat.id}/messages/${message.id}/`, { content });
        form.remove();
      } catch (error) {
        this.showError(error.message);
      }
    });
  }

  // --- the running step -----------------------------------------------------------------------
  addPart(role, part) {
    if (this.dom.banner.dataset.kind === "retry") this.clearBanner(); // the retried stream is flowing
    if (part.type === "tool_result") { this.attachResult(part, null); return; }
    if (!this.inflight) {
      const li = el("li", `message ${role} streaming`);
      li.dataset.role = role;
      const body = el("div", "body");
      li.append(body);
      this.dom.messages.append(li);
      this.inflight = { li, body, parts: [] };
    }
    const parts = this.inflight.parts;
    const last = parts[parts.length - 1];
    if (part.type === "text" || part.type === "reasoning") {
      if (last && last.part.type === part.type) last.part.text += part.text;
      else parts.push({ part: { ...part }, node: this.inflight.body.appendChild(this.renderPart({ ...part, text: "" })) });
      this.redraw(parts[parts.length - 1]);
      return;
    }
    if (part.type === "tool_call") {
      const open = parts.find((p) => p.part.type === "tool_call" && p.part.tool_call_id === part.tool_call_id);
      if (!open) {
        const node = this.renderCall(part);
        node.open = true;
        parts.push({ part: { ...part, args_delta: part.args_delta || "" }, node: this.inflight.body.appendChild(node) });
        return;
      }
      if (part.args !== undefined) open.part.args = part.args;
      else open.part.args_delta += part.args_delta || "";
      open.node.querySelector(".tool-args").textContent = part.args !== undefined ? pretty(part.args) : open.part.args_delta;
      if (part.args !== undefined) this.linkSubagent(open.node, part.args);
      return;
    }
    parts.push({ part, node: this.inflight.body.appendChild(this.renderPart(part)) });
  }

  redraw(entry) {
    // Markdown is re-rendered at most once per frame, however many deltas arrive.
    if (this.renderQueued.has(entry)) return;
    this.renderQueued.add(entry);
    requestAnimationFrame(() => {
      this.renderQueued.delete(entry);
      const stick = this.nearBottom();
      if (entry.part.type === "text") entry.node.innerHTML = renderMarkdown(entry.part.text);
      else entry.node.querySelector(".reasoning-text").textContent = entry.part.text;
      if (stick) this.scrollToBottom();
    });
  }

  dropInflight() {
    if (!this.inflight) return;
    this.inflight.li.remove();
    this.inflight = null;
    this.renderQueued.clear();
  }

  // --- banners, queue, cost -------------------------------------------------------------------
  showRetry(retry) {
    this.dropInflight();
    const when = retry.retrying_at ? new Date(retry.retrying_at).toLocaleTimeString() : "soon";
    this.banner("retry", `${retry.error} — retrying (attempt ${retry.attempt}) at ${when}.`);
  }

  showError(message) { this.banner("error", message); }

  showNotice(message) { this.banner("notice", message); }

  banner(kind, text) {
    showBanner(this.dom.banner, kind, text);
  }

  clearBanner() {
    this.dom.banner.hidden = true;
    delete this.dom.banner.dataset.kind;
  }

  setQueue(queued) {
    this.queue = queued;
    const list = this.dom.queue;
    list.hidden = queued.length === 0;
    list.replaceChildren(...queued.map((item) => {
      const li = el("li", "queued");
      li.dataset.queuedId = item.id;
      li.append(el("span", "queued-label", "Queued"), el("span", "queued-text", textOf(item.parts ?? item.content ?? [])));
      const promote = el("button", "link promote", "Send now");
      promote.type = "button";
      promote.addEventListener("click", () => this.queueAction("POST", `${item.id}/promote/`));
      const remove = el("button", "link delete", "Delete");
      remove.type = "button";
      remove.addEventListener("click", () => this.queueAction("DELETE", `${item.id}/`));
      li.append(promote, remove);
      return li;
    }));
  }

  async queueAction(method, tail) {
    try {
      await api(method, `/api/chats/${this.chat.id}/queue/${tail}`);
    } catch (error) {
      this.showError(error.message);
    }
  }

  async refreshCost() {
    clearTimeout(this.costTimer);
    this.costTimer = setTimeout(async () => {
      try {
        const cost = await api("GET", `/api/chats/${this.chat.id}/cost/`);
        this.dom.cost.textContent = cost.total_cost_micros ? `${formatUsd(cost.total_cost_micros)} so far` : "";
      } catch { /* the cost line is a nicety */ }
    }, 300);
  }

  nearBottom() {
    const box = this.dom.messages;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  }

  scrollToBottom() {
    this.dom.messages.scrollTop = this.dom.messages.scrollHeight;
  }
}

