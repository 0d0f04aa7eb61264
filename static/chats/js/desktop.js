// The live desktop of the chat's workspace (computer use): noVNC over `/ws/chats/{id}/desktop/`,
// view-only until the user takes control.
import RFB from "../../vendor/novnc/core/rfb.js";

export class DesktopView {
  constructor({ chatId, panel, screen, control, state }) {
    Object.assign(this, { chatId, panel, screen, control, state });
    this.rfb = null;
    control.addEventListener("change", () => { if (this.rfb) this.rfb.viewOnly = !control.checked; });
  }

  toggle() {
    if (this.rfb) this.close();
    else this.open();
  }

  open() {
    this.panel.hidden = false;
    this.state.textContent = "Connecting…";
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const rfb = new RFB(this.screen, `${scheme}://${location.host}/ws/chats/${this.chatId}/desktop/`, { shared: true });
    rfb.viewOnly = !this.control.checked;
    rfb.scaleViewport = true;
    rfb.background = "#1f2328";
    rfb.addEventListener("connect", () => { this.state.textContent = "Live"; this.panel.dataset.connected = "true"; });
    rfb.addEventListener("disconnect", (event) => {
      delete this.panel.dataset.connected;
      this.state.textContent = event.detail.clean ? "Disconnected" : "The desktop is not reachable";
      if (this.rfb === rfb) this.rfb = null;
    });
    this.rfb = rfb;
  }

  close() {
    const rfb = this.rfb;
    this.rfb = null;
    rfb?.disconnect();
    this.panel.hidden = true;
  }
}
