"""Fitting a run's step counts to a wall-time budget while it trains (:class:`StepBudget`)."""

from __future__ import annotations

import math
import time

__all__ = ["StepBudget"]


class StepBudget:
    """Fits a run's step counts to a wall-time budget while it trains.

    A few steps timed before the run (``step_seconds``: seconds per step of each stage) give a
    first plan, but the first steps of a process are slower than the rest (cold file cache,
    allocator), so a plan from them alone ends minutes early.  During the run, after the 10th
    step of a stage and at each doubling of its steps, :meth:`plan` times the stage's own steps
    (after its first two) and rescales the steps left in it and in the later stages so that
    they fill the seconds left; the later stages keep their measured speed relative to this one.
    """

    first_check = 10

    def __init__(self, seconds: float, step_seconds: dict[str, float]) -> None:
        self.seconds = float(seconds)
        self.step_seconds = dict(step_seconds)
        self.stage: str | None = None
        self._stage_start: tuple[int, float] | None = None
        self._warm: tuple[int, float] | None = None
        self._next_check = 0

    def start_stage(self, name: str, step: int) -> None:
        """Start timing stage ``name`` at global step ``step`` (no-op if it is the current)."""
        if name == self.stage:
            return
        self.stage = name
        self._stage_start = (step, time.perf_counter())
        self._warm = None
        self._next_check = step + self.first_check

    def due(self, step: int) -> bool:
        """Whether to re-plan after global step ``step`` (marks the warm-up's end too)."""
        if self._stage_start and self._warm is None and step >= self._stage_start[0] + 2:
            self._warm = (step, time.perf_counter())
        if self._warm is None or step < self._next_check:
            return False
        self._next_check = step + max(self.first_check, step - self._stage_start[0])
        return step > self._warm[0]

    def plan(self, stage: str, step: int, stage_end: int, counts: dict[str, int],
             elapsed: float) -> dict[str, int]:
        """New step counts (``{stage: steps}``) of stage ``stage`` (now at global ``step``,
        planned to end at ``stage_end``) and the later stages in ``counts``, so that the run
        ends ``self.seconds`` after it started (``elapsed`` seconds ago)."""
        warm_step, warm_time = self._warm
        rate = (time.perf_counter() - warm_time) / (step - warm_step)
        measured = self.step_seconds.get(stage)
        scale = rate / measured if measured else 1.0  # this machine against the first timing
        names = list(counts)
        later = names[names.index(stage) + 1:]
        left_steps = {stage: stage_end - step, **{name: counts[name] for name in later}}
        seconds = {stage: rate, **{name: self.step_seconds.get(name, rate) * scale
                                   for name in later}}
        planned = sum(left_steps[name] * seconds[name] for name in left_steps)
        factor = max(0.0, self.seconds - elapsed) / planned if planned > 0 else 1.0
        new = {name: max(1, math.floor(left_steps[name] * factor)) for name in left_steps}
        new[stage] += counts[stage] - (stage_end - step)  # the steps already done stay
        return new

