"""A private X server for end-to-end tests, and what a window manager would do for them: find a
window, close it with WM_DELETE_WINDOW (xdotool can only destroy a window or kill its client)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from typing import Iterator

__all__ = ["MISSING", "xvfb", "xdotool", "find_window", "close_window"]

MISSING = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
if ctypes.util.find_library("X11") is None:
    MISSING.append("libX11")


@contextmanager
def xvfb(width: int = 1600, height: int = 1000) -> Iterator[str]:
    """An Xvfb server on a free display number (it picks one itself); yields ``:N``."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                               "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        with os.fdopen(read) as reply:
            number = reply.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit {server.poll()})")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


def xdotool(display: str, *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True,
                          text=True, timeout=30)
    return done.stdout.strip() if done.returncode == 0 else ""


def find_window(display: str, name: str, timeout: float) -> int:
    """The first visible window whose title contains ``name``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = xdotool(display, "search", "--onlyvisible", "--name", name)
        if found:
            return int(found.split()[0])
        time.sleep(0.1)
    raise TimeoutError(f"no window named {name!r} after {timeout} s")


class _ClientMessage(ctypes.Structure):
    """XClientMessageEvent, padded to the size of an XEvent."""

    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 12)]


def close_window(display: str, window: int) -> None:
    """Ask ``window``'s client to close it, as a window manager's close button does."""
    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open X display {display}")
    try:
        event = _ClientMessage(type=33, window=window, format=32,  # 33: ClientMessage
                               message_type=x11.XInternAtom(connection, b"WM_PROTOCOLS", 0))
        event.data[0] = x11.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
        x11.XSendEvent(connection, window, 0, 0, ctypes.byref(event))
        x11.XFlush(connection)
    finally:
        x11.XCloseDisplay(connection)
