// The chat list: loaded once from the API, then kept live from the `/ws/chats/` watch socket.
// Sub-agent chats are nested under their parent.
import { api } from "./api.js";
import { LiveSocket } from "./socket.js";

export class Sidebar {
  constructor({ list, empty, search, currentId }) {
    Object.assign(this, { list, empty, search, currentId });
    this.chats = new Map();
    this.search.addEventListener("input", () => this.render());
  }

  async start() {
    await this.refresh();
    this.socket = new LiveSocket({
      path: "/ws/chats/",
      onEvents: (events) => events.forEach((e) => this.apply(e)),
      onState: (state) => { if (state === "open" && this.loaded) this.refresh(); this.loaded = true; },
    });
  }

  async refresh() {
    // Events during a disconnect are lost; the list itself is the truth.
    const page = await api("GET", "/api/chats/?archived=false&limit=200");
    this.chats = new Map(page.results.map((chat) => [chat.id, chat]));
    this.render();
  }

  apply(event) {
    if (event.type !== "chat") return;
    const { kind, chat } = event;
    if (kind === "deleted" || chat.archived) this.chats.delete(chat.id);
    else this.chats.set(chat.id, { ...this.chats.get(chat.id), ...chat });
    this.render();
    this.onChange?.(kind, chat);
  }

  render() {
    const q = this.search.value.trim().toLowerCase();
    const all = [...this.chats.values()].sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
    const children = new Map();
    const roots = [];
    for (const chat of all) {
      if (chat.parent_chat_id && this.chats.has(chat.parent_chat_id)) {
        if (!children.has(chat.parent_chat_id)) children.set(chat.parent_chat_id, []);
        children.get(chat.parent_chat_id).push(chat);
      } else roots.push(chat);
    }
    const matches = (chat) => !q || chat.title.toLowerCase().includes(q)
      || (children.get(chat.id) ?? []).some(matches);
    this.list.replaceChildren(...roots.filter(matches).map((chat) => this.item(chat, children)));
    this.empty.hidden = this.chats.size > 0;
  }

  item(chat, children) {
    const li = document.createElement("li");
    li.dataset.chatId = chat.id;
    const link = document.createElement("a");
    link.href = `/chats/${chat.id}/`;
    link.className = "chat-link";
    if (chat.id === this.currentId) link.setAttribute("aria-current", "page");
    const dot = document.createElement("span");
    dot.className = `status status-${chat.status}`;
    dot.title = chat.status;
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = chat.title || "Untitled";
    link.append(dot, title);
    li.append(link);
    const kids = children.get(chat.id);
    if (kids?.length) {
      const ul = document.createElement("ul");
      ul.className = "children";
      ul.append(...kids.map((kid) => this.item(kid, children)));
      li.append(ul);
    }
    return li;
  }
}
