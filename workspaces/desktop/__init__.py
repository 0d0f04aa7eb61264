"""Virtual desktops for computer use: an X display (Xvfb), a window manager and a VNC server on
the workspace's host, driven with xdotool and recorded with ffmpeg.

Modules: `geometry` (real vs declared sizes), `session` (start/find/stop), `actions` (the
computer tool's actions and screenshots), `recording` (videos of a sub-agent's work).
Kept free of Django imports here, so settings can use `geometry`.
"""
