// Files attached to the next message: picked, pasted or dropped; uploaded at once (the server
// sniffs and may refuse them), shown as chips with thumbnails, sent as `file` input parts.
import { upload } from "./api.js";

export class Attachments {
  constructor({ list, input, picker, dropZone, onError }) {
    Object.assign(this, { list, input, picker, dropZone, onError });
    this.items = []; // {file, chip, id?, promise}
    picker.addEventListener("click", () => input.click());
    input.addEventListener("change", () => { this.add(input.files); input.value = ""; });
    dropZone.addEventListener("paste", (event) => {
      if (event.clipboardData?.files?.length) { event.preventDefault(); this.add(event.clipboardData.files); }
    });
    dropZone.addEventListener("dragover", (event) => { event.preventDefault(); dropZone.classList.add("dropping"); });
    dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dropping"));
    dropZone.addEventListener("drop", (event) => {
      event.preventDefault();
      dropZone.classList.remove("dropping");
      if (event.dataTransfer?.files?.length) this.add(event.dataTransfer.files);
    });
  }

  add(files) {
    for (const file of files) {
      const item = { file, chip: this.chip(file) };
      item.promise = upload(file).then(
        (stored) => { item.id = stored.id; item.chip.classList.remove("uploading"); },
        (error) => { this.remove(item); this.onError(`${file.name}: ${error.message}`); },
      );
      this.items.push(item);
      this.list.append(item.chip);
      item.chip.querySelector("button").addEventListener("click", () => this.remove(item));
    }
    this.list.hidden = this.items.length === 0;
  }

  chip(file) {
    const chip = document.createElement("li");
    chip.className = "attachment-chip uploading";
    if (file.type.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = "";
      chip.append(img);
    }
    const name = document.createElement("span");
    name.textContent = file.name || "pasted file";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.title = "Remove";
    remove.textContent = "×";
    chip.append(name, remove);
    return chip;
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.chip.querySelector("img")?.src && URL.revokeObjectURL(item.chip.querySelector("img").src);
    item.chip.remove();
    this.list.hidden = this.items.length === 0;
  }

  // The message content: plain text, or text plus file parts once every upload has finished.
  async content(text) {
    await Promise.all(this.items.map((item) => item.promise));
    const ids = this.items.filter((item) => item.id).map((item) => item.id);
    return ids.length ? [{ type: "text", text }, ...ids.map((id) => ({ type: "file", file_id: id }))] : text;
  }

  clear() {
    for (const item of [...this.items]) this.remove(item);
  }
}
