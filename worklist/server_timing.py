"""Server-Timing response header (W3C Server Timing): where a request's server time went."""

import time
from contextlib import contextmanager


class ServerTiming:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.parts: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.parts.append((name, time.perf_counter() - began))

    def header(self) -> str:
        """``db;dur=1.2, rows;dur=0.8, view;dur=2.3`` in milliseconds; ``view`` is the whole view."""
        parts = self.parts + [("view", time.perf_counter() - self.started)]
        return ", ".join(f"{name};dur={seconds * 1000:.1f}" for name, seconds in parts)
