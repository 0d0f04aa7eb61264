"""The User-Agent sent with every LLM request, so providers and gateways can tell chatd apart."""

import platform

CHATD_VERSION = "0.1.0"


def user_agent() -> str:
    """`chatd/<version> (<os>/<arch>)`, e.g. `chatd/0.1.0 (linux/x86_64)`."""
    system = platform.system().lower() or "unknown"
    machine = platform.machine().lower() or "unknown"
    return f"chatd/{CHATD_VERSION} ({system}/{machine})"
