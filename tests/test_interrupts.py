"""reportgen.interrupts: SIGINT and SIGTERM become KeyboardInterrupt, wait for a commit, and are never lost."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from reportgen import interrupts


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_waits_for_the_end_of_a_deferred_section(signum: int) -> None:
    done = []
    with interrupts.handled():
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                signal.raise_signal(signum)
                done.append("after the signal")  # the section went on
        assert done == ["after the signal"]


def test_an_error_in_the_section_is_not_replaced_by_the_waiting_signal() -> None:
    with interrupts.handled():
        with pytest.raises(ValueError):
            with interrupts.deferred():
                signal.raise_signal(signal.SIGTERM)
                raise ValueError("disk")
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()  # still pending


def test_no_section_starts_while_a_signal_is_pending() -> None:
    entered = []
    with interrupts.handled():
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass  # swallowed, as a finaliser would
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                entered.append(True)
    assert entered == []


def test_handlers_are_restored_and_the_state_forgotten() -> None:
    before = {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS}
    with interrupts.handled():
        assert all(signal.getsignal(signum) is not before[signum] for signum in interrupts.SIGNALS)
        interrupts.committed(Path("out/b"))
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
        assert interrupts.committed_folder() == Path("out/b")
    assert {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS} == before
    assert interrupts.committed_folder() is None
    interrupts.check()


def test_while_reporting_a_further_signal_interrupts_nothing() -> None:
    with interrupts.handled():
        interrupts.reporting()
        signal.raise_signal(signal.SIGINT)  # no KeyboardInterrupt


def test_only_a_recorded_signals_interrupt_is_kept_from_the_unraisable_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[type] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda entry: seen.append(type(entry.exc_value)))

    class Raises:
        def __init__(self, error: BaseException) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    with interrupts.handled():
        Raises(KeyboardInterrupt())  # no signal came: a KeyboardInterrupt of someone else's is shown
        Raises(ValueError("a finaliser's bug"))
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        Raises(KeyboardInterrupt())  # the signal is recorded: this one is dropped
        Raises(ValueError("a finaliser's bug"))
    assert seen == [KeyboardInterrupt, ValueError, ValueError]
