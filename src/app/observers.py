"""What the sync service tells an observer (metrics) about each run it made."""

from __future__ import annotations

from typing import Protocol

from spotilla_procountor.domain.sync import SyncReport


class RunObserver(Protocol):
    """Hears of every run the service made (not dry runs); must be cheap and must never raise."""

    def run_finished(self, report: SyncReport, seconds: float) -> None:
        """A run ended (or was skipped) after `seconds`; a run that raised is reported FAILED."""
