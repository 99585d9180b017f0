"""Headless Chromium driven over its DevTools protocol, on the pipe it offers
(``--remote-debugging-pipe``: commands in on fd 3, answers out on fd 4, each a JSON text ended
by a NUL byte), so no port and no package beyond the standard library are needed.

A :class:`Tab` shows a page at a phone's width (the device metrics a phone reports, not a
narrow window: headless Chromium makes no window under 500 px), types into fields, picks
options and clicks as a person does, and measures the page.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any


class Chromium:
    """A headless Chromium process and its DevTools pipe; use it as a context manager."""

    def __init__(self, tool: str, profile: Path) -> None:
        commands_in, self._commands = os.pipe()  # Chromium reads fd 3
        self._answers, answers_out = os.pipe()  # and writes fd 4
        # Above any low descriptor, so that putting them at 3 and 4 moves no other.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_in, answers_out)]
        for fd in (commands_in, answers_out):
            os.close(fd)
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-',
             "chromium", tool, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=tuple(high))
        for fd in high:
            os.close(fd)
        self._next = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self._commands)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._answers)

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                raise TimeoutError("Chromium said nothing in time")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its pipe")
            self._buffer += chunk
        text, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(text))

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30) -> dict[str, Any]:
        """Run one command; return its result (events that come meanwhile are kept)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read(timeout)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def wait_for(self, event: str, session: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for ``event`` in ``session`` (one that came already counts, once)."""
        for index, seen in enumerate(self.events):
            if seen.get("method") == event and seen.get("sessionId") == session:
                return self.events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            seen = self._read(max(0.1, deadline - time.monotonic()))
            if seen.get("method") == event and seen.get("sessionId") == session:
                return seen
            self.events.append(seen)

    def tab(self, width: int, height: int = 800, *, scale: int = 2, mobile: bool = True) -> Tab:
        """A new page as a phone of ``width`` CSS pixels shows it (``mobile=False``: a desktop
        window; ``scale``: device pixels per CSS pixel)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
            session=session)
        return Tab(self, session)


class Tab:
    """One page in :class:`Chromium`."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def _send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def open(self, url: str) -> None:
        self.browser.events.clear()
        self._send("Page.navigate", {"url": url})
        self.browser.wait_for("Page.loadEventFired", self.session)

    def value(self, expression: str) -> Any:
        """What a JavaScript expression gives in the page."""
        result = self._send("Runtime.evaluate", {"expression": expression,
                                                 "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def type_into(self, selector: str, text: str) -> None:
        """Focus a field and type ``text`` into it, as a keyboard would."""
        self.value(f"document.querySelector({json.dumps(selector)}).focus()")
        self._send("Input.insertText", {"text": text})

    def choose(self, selector: str, value: str) -> None:
        """Pick an option of a ``<select>`` (as the phone's picker does) and say it changed."""
        self.value(f"(function () {{ var s = document.querySelector({json.dumps(selector)});"
                   f" s.value = {json.dumps(value)};"
                   " s.dispatchEvent(new Event('change', {bubbles: true})); })()")

    def click(self, selector: str, *, leads: bool = True) -> None:
        """Click the middle of an element, as a finger would (it must be on the screen); with
        ``leads``, wait for the page it leads to."""
        box = self.value(
            f"(function () {{ var e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); var r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height]; })()")
        x, y, width, height = box
        assert width > 0 and height > 0, f"{selector} is not shown"
        self.browser.events.clear()
        for kind in ("mousePressed", "mouseReleased"):
            self._send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                    "button": "left", "clickCount": 1})
        if leads:
            self.browser.wait_for("Page.loadEventFired", self.session)

    def screenshot(self, path: Path) -> None:
        """The page as the phone shows it, as PNG."""
        data = self._send("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def widths(self) -> tuple[int, int]:
        """How wide the page is laid out, and how wide the screen: the first larger means it
        scrolls sideways."""
        scroll, inner = self.value(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        return int(scroll), int(inner)
