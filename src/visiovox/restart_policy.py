"""When ``visiovox up`` starts a dead child again, and when it gives up on it.

Exponential back-off over the deaths within a sliding window: the first death
waits ``first_delay_s``, each further one within ``window_s`` twice as long (up
to ``max_delay_s``). More than ``max_restarts`` deaths within the window is a
crash loop. Deaths older than the window are forgotten, so a child that has
run well for a window starts over at ``first_delay_s``.

A child that exits with ``EX_TEMPFAIL`` (75) stopped on purpose to be started
afresh (the worker past its memory ceiling, ``worker/memory.py``): it comes back
after ``first_delay_s`` and the exit is not counted as a death.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field

from visiovox.config import SupervisorSettings

# sysexits' EX_TEMPFAIL: the child stopped on purpose and wants to be started again.
RESTART_REQUESTED = os.EX_TEMPFAIL


@dataclass(kw_only=True)
class RestartPolicy:
    """The restart bookkeeping of one child."""

    first_delay_s: float
    max_delay_s: float
    max_restarts: int
    window_s: float
    _deaths: deque[float] = field(default_factory=deque, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: SupervisorSettings) -> RestartPolicy:
        return cls(
            first_delay_s=settings.restart_delay_s,
            max_delay_s=settings.restart_max_delay_s,
            max_restarts=settings.max_restarts,
            window_s=settings.restart_window_s,
        )

    @property
    def recent_deaths(self) -> int:
        """Deaths within the window as of the last one counted."""
        return len(self._deaths)

    def on_exit(self, status: int, *, now: float) -> float | None:
        """Count an exit with ``status`` at ``now`` (monotonic seconds): the seconds
        to wait before the restart, or None when this death makes a crash loop."""
        if status == RESTART_REQUESTED:
            return self.first_delay_s
        self._deaths.append(now)
        while self._deaths[0] <= now - self.window_s:
            self._deaths.popleft()
        if len(self._deaths) > self.max_restarts:
            return None
        return float(min(self.first_delay_s * 2 ** (len(self._deaths) - 1), self.max_delay_s))
