"""Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM.

While :class:`SignalFlag` is active, a signal only notes that it came; the training loop
finishes the step in progress, saves the checkpoint and raises :class:`TrainingInterrupted`,
whose ``exit_code`` is the shell's ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

__all__ = ["SignalFlag", "TrainingInterrupted", "ignore_sigint"]


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped :meth:`Trainer.run`, after the checkpoint was saved at
    ``step``; ``--resume`` continues it.  A :class:`KeyboardInterrupt`, so that code catching
    ``Exception`` lets it through as it would Ctrl-C."""

    def __init__(self, signum: int, step: int, total: int, checkpoint: Path) -> None:
        self.signum, self.step, self.total, self.checkpoint = signum, step, total, checkpoint
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum  # the shell's convention: 130 SIGINT, 143 SIGTERM
        super().__init__(f"{self.signal_name}: stopped after step {step} of {total}, "
                         f"checkpoint saved in {checkpoint}")

    def __reduce__(self):  # pickled back from a worker process (ablate --jobs N)
        return type(self), (self.signum, self.step, self.total, self.checkpoint)


class SignalFlag:
    """While active, SIGINT and SIGTERM only note that they came (``received``); the first one
    puts the earlier handlers back, so a second signal acts as usual (aborts at once).

    Only the main thread may set signal handlers; elsewhere this does nothing."""

    def __init__(self, announce: bool = True) -> None:
        self.received: int | None = None
        self.announce = announce
        self._previous: dict[int, object] = {}

    def __enter__(self) -> SignalFlag:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame) -> None:
        if self.received is None:
            self.received = signum
        self._restore()
        if self.announce:  # os.write: print() is not safe inside a signal handler
            os.write(2, f"\n{signal.Signals(signum).name}: stopping after this step and saving "
                        "the checkpoint (send it again to abort without saving)\n".encode())

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __exit__(self, *exc_info) -> None:
        self._restore()



def ignore_sigint(worker_id: int) -> None:
    """Data-loading workers leave Ctrl-C to the training process: it finishes its step and
    saves, which it could not do with its workers gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
