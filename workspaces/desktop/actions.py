"""The computer tool's actions on a desktop (xdotool) and its screenshots (ImageMagick).

Coordinates arrive in the declared (model) space and are scaled to the real screen. Text the
model chose (what to type, which keys) reaches xdotool only through environment variables,
never spliced into the shell command.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import Any

from workspaces.backends.base import WorkspaceBackend
from workspaces.desktop.session import Desktop, DesktopError

ACTIONS = (
    "screenshot", "wait", "mouse_move", "left_click", "right_click", "middle_click", "double_click",
    "triple_click", "left_click_drag", "left_mouse_down", "left_mouse_up", "scroll", "type", "key",
    "hold_key", "cursor_position", "zoom",
)  # fmt: skip
CLICKS = {  # action -> (button, clicks)
    "left_click": (1, 1),
    "right_click": (3, 1),
    "middle_click": (2, 1),
    "double_click": (1, 2),
    "triple_click": (1, 3),
}
SCROLL_BUTTONS = {"up": 4, "down": 5, "left": 6, "right": 7}
SETTLE_SECONDS = 0.3  # let the screen redraw before the screenshot that follows an action
COMMAND_TIMEOUT_SECONDS = 30.0
SCREENSHOT_OUTPUT_BYTES = 48 * 1024 * 1024  # base64 of the largest PNG we accept
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Outcome:
    text: str
    screenshot: bytes  # PNG at the declared size


def desktop_act(
    *, backend: WorkspaceBackend, desktop: Desktop, args: dict[str, Any], cancelled: threading.Event
) -> Outcome:
    """Perform one action and take the screenshot that follows it. Raises DesktopError."""
    action = args["action"]
    if action not in ACTIONS:
        raise DesktopError(f"unknown action {action!r}")
    if action == "zoom":
        return _zoom(backend, desktop, args)
    text = _perform(backend, desktop, action, args, cancelled)
    if action not in ("screenshot", "wait", "cursor_position"):
        cancelled.wait(SETTLE_SECONDS)
    return Outcome(text, screenshot(backend, desktop))


def _perform(
    backend: WorkspaceBackend, desktop: Desktop, action: str, args: dict[str, Any], cancelled: threading.Event
) -> str:
    if action == "screenshot":
        return "screenshot taken"
    if action == "wait":
        seconds = float(args.get("duration", 1))
        cancelled.wait(seconds)
        return f"waited {seconds:g} s"
    if action == "cursor_position":
        x, y = _cursor(backend, desktop)
        return f"the cursor is at X={x}, Y={y}"
    if action in ("type", "key", "hold_key"):
        return _keyboard(backend, desktop, action, args)
    return _mouse(backend, desktop, action, args)


def _keyboard(backend: WorkspaceBackend, desktop: Desktop, action: str, args: dict[str, Any]) -> str:
    text = args.get("text")
    if not text:
        raise DesktopError(f"{action} needs text")
    if action == "type":
        timeout = COMMAND_TIMEOUT_SECONDS + len(text) * 0.02
        _xdotool(backend, desktop, 'xdotool type --delay 12 -- "$CHATD_TEXT"', {"CHATD_TEXT": text}, timeout)
        return f"typed {len(text)} characters"
    if action == "key":  # space-separated key combinations, in xdotool's syntax
        _xdotool(backend, desktop, "xdotool key --delay 50 -- $CHATD_TEXT", {"CHATD_TEXT": text})
        return f"pressed {text}"
    seconds = float(args.get("duration", 1))
    script = 'xdotool keydown -- $CHATD_TEXT; sleep "$CHATD_SECONDS"; xdotool keyup -- $CHATD_TEXT'
    _xdotool(backend, desktop, script, {"CHATD_TEXT": text, "CHATD_SECONDS": f"{seconds:g}"}, seconds + 30)
    return f"held {text} for {seconds:g} s"


def _mouse(backend: WorkspaceBackend, desktop: Desktop, action: str, args: dict[str, Any]) -> str:
    words: list[str] = []
    env: dict[str, str] = {}
    if args.get("text") and action in (*CLICKS, "scroll"):  # modifier keys held during the action
        words += ["keydown", '"$CHATD_MODIFIERS"']
        env["CHATD_MODIFIERS"] = str(args["text"])
    if action == "left_click_drag":
        if "start_coordinate" in args:
            words += _move(desktop, args["start_coordinate"])
        words += ["mousedown", "1", *_move(desktop, _required_point(args, action)), "mouseup", "1"]
    elif "coordinate" in args:
        words += _move(desktop, args["coordinate"])
    elif action == "mouse_move":
        raise DesktopError("mouse_move needs coordinate")
    if action in CLICKS:
        button, clicks = CLICKS[action]
        words += ["click", "--repeat", str(clicks), "--delay", "80", str(button)]
    elif action == "scroll":
        direction = args.get("scroll_direction", "down")
        amount = int(args.get("scroll_amount", 3))
        words += ["click", "--repeat", str(max(1, amount)), "--delay", "30", str(SCROLL_BUTTONS[direction])]
    elif action in ("left_mouse_down", "left_mouse_up"):
        words += ["mousedown" if action == "left_mouse_down" else "mouseup", "1"]
    if env:
        words += ["keyup", '"$CHATD_MODIFIERS"']
    _xdotool(backend, desktop, "xdotool " + " ".join(words), env)
    where = f" at {tuple(args['coordinate'])}" if "coordinate" in args else ""
    return f"{action.replace('_', ' ')}{where} done"


def _required_point(args: dict[str, Any], action: str) -> list[int]:
    if "coordinate" not in args:
        raise DesktopError(f"{action} needs coordinate")
    return list(args["coordinate"])


def _move(desktop: Desktop, point: list[int]) -> list[str]:
    """xdotool words that move the pointer to a declared-space point (checked to be on screen)."""
    x, y = int(point[0]), int(point[1])
    if not desktop.scaler.contains(x, y):
        size = desktop.declared
        raise DesktopError(f"coordinate ({x}, {y}) is outside the screen ({size.width}x{size.height})")
    real_x, real_y = desktop.scaler.to_real(x, y)
    return ["mousemove", "--sync", str(real_x), str(real_y)]


def _cursor(backend: WorkspaceBackend, desktop: Desktop) -> tuple[int, int]:
    output = _xdotool(backend, desktop, "xdotool getmouselocation --shell", {})
    values = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    try:
        return desktop.scaler.to_declared(int(values["X"]), int(values["Y"]))
    except (KeyError, ValueError) as exc:
        raise DesktopError(f"could not read the cursor position: {output.strip()[:200]}") from exc


def _zoom(backend: WorkspaceBackend, desktop: Desktop, args: dict[str, Any]) -> Outcome:
    region = args.get("region")
    if not region or len(region) != 4:
        raise DesktopError("zoom needs region [x0, y0, x1, y1]")
    x0, y0, x1, y1 = (int(v) for v in region)
    if not (x0 < x1 and y0 < y1 and desktop.scaler.contains(x0, y0) and desktop.scaler.contains(x1 - 1, y1 - 1)):
        raise DesktopError(f"region {region} is not a rectangle on the screen")
    (rx0, ry0), (rx1, ry1) = desktop.scaler.to_real(x0, y0), desktop.scaler.to_real(x1, y1)
    crop = f"{max(1, rx1 - rx0)}x{max(1, ry1 - ry0)}+{rx0}+{ry0}"
    return Outcome(f"zoomed into {region}", screenshot(backend, desktop, crop=crop))


def screenshot(backend: WorkspaceBackend, desktop: Desktop, *, crop: str = "") -> bytes:
    """A PNG of the screen (or of the `crop` geometry) scaled to fit the declared size."""
    declared = desktop.declared
    options = f"-crop {crop} +repage " if crop else ""
    if crop or declared != desktop.size:
        options += f"-resize '{declared.width}x{declared.height}{'' if crop else '!'}' "
    result = backend.run(
        f"import -silent -window root {options}png:- | base64",
        workdir=backend.root,
        timeout=COMMAND_TIMEOUT_SECONDS,
        env=desktop.env,
        output_limit=SCREENSHOT_OUTPUT_BYTES,
    )
    try:
        data = base64.b64decode("".join(result.output.split()), validate=True)
    except ValueError:
        data = b""
    if result.truncated or not data.startswith(PNG_MAGIC):
        raise DesktopError(f"the screenshot failed: {result.output.strip()[:300] or 'no output'}")
    return data


def _xdotool(
    backend: WorkspaceBackend,
    desktop: Desktop,
    script: str,
    env: dict[str, str],
    timeout: float = COMMAND_TIMEOUT_SECONDS,
) -> str:
    # `set -f`: the unquoted key list is split into words but never globbed.
    result = backend.run(f"set -f; {script}", workdir=backend.root, timeout=timeout, env={**desktop.env, **env})
    if result.exit_code != 0:
        reason = "timed out" if result.timed_out else f"failed ({result.exit_code})"
        raise DesktopError(f"xdotool {reason}: {result.output.strip()[:300]}")
    return result.output
