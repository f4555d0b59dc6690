"""Back-off doubles per death within the window, is capped, resets, and spots a crash loop;
an exit that asks for a fresh start is no death."""

from __future__ import annotations

from visiovox.config import SupervisorSettings
from visiovox.restart_policy import RestartPolicy


def policy(*, max_restarts: int = 5, window_s: float = 60.0) -> RestartPolicy:
    return RestartPolicy(
        first_delay_s=0.5, max_delay_s=3.0, max_restarts=max_restarts, window_s=window_s
    )


def test_the_delay_doubles_up_to_the_cap_then_a_crash_loop_is_called() -> None:
    restarts = policy()
    delays = [restarts.on_exit(1, now=float(second)) for second in range(6)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, None]
    assert restarts.recent_deaths == 6


def test_deaths_older_than_the_window_are_forgotten() -> None:
    restarts = policy(window_s=10.0)
    assert restarts.on_exit(1, now=0.0) == 0.5
    assert restarts.on_exit(-9, now=5.0) == 1.0
    assert restarts.on_exit(1, now=15.5) == 0.5
    assert restarts.recent_deaths == 1


def test_no_restarts_allowed_stops_at_the_first_death() -> None:
    assert policy(max_restarts=0).on_exit(0, now=0.0) is None


def test_an_exit_asking_for_a_fresh_start_is_not_counted() -> None:
    restarts = policy(max_restarts=1)
    assert [restarts.on_exit(75, now=float(second)) for second in range(10)] == [0.5] * 10
    assert restarts.recent_deaths == 0
    assert restarts.on_exit(1, now=10.0) == 0.5


def test_from_settings() -> None:
    settings = SupervisorSettings()
    restarts = RestartPolicy.from_settings(settings)
    assert (restarts.first_delay_s, restarts.max_restarts, restarts.window_s) == (0.5, 5, 60.0)
