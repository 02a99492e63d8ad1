"""One optimisation step: Adam, the learning-rate schedule, fp16 loss scaling, clipping."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from gcseg.config import TrainConfig

__all__ = ["Optimisation", "lr_schedule"]


def lr_schedule(kind: str, phase: Callable[[int], tuple[int, int]]) -> Callable[[int], float]:
    """The learning-rate factor of a step: ``constant``, ``poly`` (power 0.9) or ``cosine``
    over the step's phase; ``phase(step)`` is ``(steps into the phase, steps of the phase)``,
    read at each step (a :class:`~gcseg.train.budget.StepBudget` may re-plan it)."""
    if kind == "constant":
        return lambda step: 1.0
    if kind == "poly":
        def poly(step: int) -> float:
            position, length = phase(step)
            return max(0.0, 1.0 - position / max(1, length)) ** 0.9
        return poly
    if kind == "cosine":
        def cosine(step: int) -> float:
            position, length = phase(step)
            return 0.5 * (1.0 + math.cos(math.pi * min(position, length) / max(1, length)))
        return cosine
    raise ValueError(f"unknown schedule {kind!r} (constant, poly, cosine)")


class Optimisation:
    """Adam over the trainable parameters of ``model``, a schedule of its learning rate over
    the phases ``phase(step)`` gives (:func:`lr_schedule`), a gradient scaler (fp16 autocast,
    on when ``amp``) and gradient-norm clipping at ``train.grad_clip`` (none when 0)."""

    def __init__(self, model: torch.nn.Module, train: TrainConfig,
                 phase: Callable[[int], tuple[int, int]], amp: bool) -> None:
        self.model, self.grad_clip = model, train.grad_clip
        self.optimizer = torch.optim.Adam(
            [p for p in model.parameters() if p.requires_grad],
            lr=train.lr, weight_decay=train.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_schedule(train.schedule, phase))
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def step(self, loss: torch.Tensor) -> None:
        """Back-propagate ``loss``, clip, take an Adam step and advance the schedule."""
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()

    @property
    def lr(self) -> float:
        """The learning rate of the next step."""
        return self.scheduler.get_last_lr()[0]

    def state_dict(self) -> dict:
        """``{"optimizer", "scheduler", "scaler"}``: what a checkpoint keeps of it."""
        return {"optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict`'s entries (errors of torch pass through)."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
