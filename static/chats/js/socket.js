// A WebSocket that reconnects by itself. The chat stream (API.md §8) numbers every live event
// with a per-chat `seq`; the snapshot says which seq it is current to. We drop what we already
// saw and, on a hole, reconnect with `after_id` so the server fills it from the database.

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_NOT_FOUND = 4404;
const CLOSE_RESYNC = 4409;
const SILENCE_MS = 40_000; // the server pings every 15 s
const MAX_BACKOFF_MS = 10_000;

export class LiveSocket {
  // path: "/ws/chats/…/"; query(): extra query string at each (re)connect;
  // onEvents(events, {snapshot}); onState("open" | "reconnecting" | "gone", code).
  constructor({ path, query = () => "", onEvents, onState = () => {}, sequenced = false }) {
    Object.assign(this, { path, query, onEvents, onState, sequenced });
    this.attempt = 0;
    this.closed = false;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const q = this.query();
    this.ws = new WebSocket(`${scheme}://${location.host}${this.path}${q ? `?${q}` : ""}`);
    this.lastSeq = null; // unknown until the snapshot's status arrives
    this.inSnapshot = true;
    this.ws.onopen = () => { this.attempt = 0; this.onState("open"); this.watch(); };
    this.ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    this.ws.onclose = (event) => this.closedBy(event.code);
  }

  watch() {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => this.ws.close(), SILENCE_MS);
  }

  receive(frame) {
    this.watch();
    if (frame.type !== "data") return;
    const fresh = [];
    for (const event of frame.events) {
      if (!this.sequenced) { fresh.push(event); continue; }
      if (event.type === "status" && event.snapshot_seq !== undefined) {
        this.lastSeq = event.snapshot_seq;
        fresh.push(event);
        continue;
      }
      if (event.seq === undefined) { fresh.push(event); continue; } // persisted rows of the snapshot
      if (this.lastSeq !== null && event.seq <= this.lastSeq) {
        if (this.inSnapshot) fresh.push(event); // buffered parts of the running step
        continue;
      }
      if (this.lastSeq !== null && event.seq > this.lastSeq + 1) {
        this.resync();
        break;
      }
      this.lastSeq = event.seq;
      this.inSnapshot = false;
      fresh.push(event);
    }
    if (fresh.length) this.onEvents(fresh, { snapshot: frame.events[0]?.snapshot_seq !== undefined });
  }

  resync() {
    this.ws.onclose = null;
    this.ws.close();
    this.closedBy(CLOSE_RESYNC);
  }

  closedBy(code) {
    clearTimeout(this.silence);
    if (this.closed) return;
    if (code === CLOSE_NOT_FOUND || code === CLOSE_UNAUTHENTICATED) {
      this.onState("gone", code);
      if (code === CLOSE_UNAUTHENTICATED) location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    this.onState("reconnecting", code);
    const delay = code === CLOSE_RESYNC ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closed = true;
    clearTimeout(this.silence);
    this.ws.close();
  }
}
