// The chat header's actions: the workspace's changes, a new title, archiving.
import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

function describe(status) {
  const files = status.changed_files.length;
  return `${files} file${files === 1 ? "" : "s"} changed${status.branch ? ` on ${status.branch}` : ""}`;
}

async function showDiff(chatId) {
  const diff = await api("GET", `/api/chats/${chatId}/diff/`);
  $("diff-summary").textContent = describe(diff);
  $("diff-files").replaceChildren(...diff.changed_files.map((file) => {
    const li = document.createElement("li");
    li.textContent = `${file.change} ${file.path} (+${file.additions} -${file.deletions})`;
    return li;
  }));
  $("diff-text").textContent = diff.diff || "No changes.";
  $("diff").hidden = false;
}

// Wires the buttons; returns a handler for the sidebar's diff_status_change events of this chat.
export function wireChatActions(chat, onError) {
  const run = (fn) => () => fn().catch((error) => onError(error.message));
  $("show-diff").addEventListener("click", run(() => showDiff(chat.id)));
  $("hide-diff").addEventListener("click", () => { $("diff").hidden = true; });
  $("regenerate-title").addEventListener("click", run(() => api("POST", `/api/chats/${chat.id}/title/regenerate/`)));
  $("archive").addEventListener("click", run(async () => {
    if (!window.confirm("Archive this chat? Running work stops.")) return;
    await api("DELETE", `/api/chats/${chat.id}/`);
    window.location.assign("/");
  }));
  return (diffStatus) => {
    const button = $("show-diff");
    button.hidden = false;
    button.textContent = diffStatus.changed_files
      ? `Changes (${diffStatus.changed_files}, +${diffStatus.additions} -${diffStatus.deletions})`
      : "Changes";
    if (!$("diff").hidden) showDiff(chat.id).catch((error) => onError(error.message));
  };
}
