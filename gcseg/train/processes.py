"""The processes of a run: one, or several started by ``torchrun`` (DistributedDataParallel).

Every process trains a replica on its own samples (``gloo`` on CPU, ``nccl`` on CUDA); rank 0
writes logs and checkpoints.  :class:`Processes` holds this process's place among them and
every exchange between them, so the training loop reads the same with one process or many.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from gcseg.runtime import pick_device

__all__ = ["Processes"]


class Processes:
    """This process's ``rank`` among ``world`` training processes and its ``device``.

    ``WORLD_SIZE`` > 1 (set by ``torchrun``) joins the process group; ``device=None`` picks
    ``cuda:<LOCAL_RANK>`` when CUDA is there, the CPU otherwise."""

    def __init__(self, device: str | torch.device | None = None) -> None:
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() and device != "cpu" else "gloo"
            dist.init_process_group(backend)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        if device is None and torch.cuda.is_available():
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        self.device = pick_device(str(device) if device is not None else None)

    @property
    def main(self) -> bool:
        """Whether this is rank 0 (the process that writes)."""
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` itself in one process; a DDP replica (gradients averaged) in several."""
        if not self.distributed:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def sync_buffers(self, model: torch.nn.Module) -> None:
        """Give every replica rank 0's buffers (BatchNorm statistics).

        DDP broadcasts buffers at the start of each forward, so after the last step each
        replica still holds the statistics of its own last batch; sync before saving/ending.
        """
        if self.distributed:
            for buffer in model.buffers():
                dist.broadcast(buffer, src=0)

    def stop_flags(self, late: bool, received: int) -> tuple[bool, int]:
        """Rank 0's ``late`` (its clock decides) and the largest ``received`` signal number of
        any process: the same answer in every process."""
        if not self.distributed:
            return late, received
        flags = torch.tensor([float(late and self.rank == 0), float(received)],
                             device=self.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return bool(flags[0].item()), int(flags[1].item())

    def from_rank0(self, value: object) -> object:
        """Rank 0's ``value`` in every process (e.g. a re-planned step count)."""
        if not self.distributed:
            return value
        shared = [value]
        dist.broadcast_object_list(shared, src=0)
        return shared[0]

    def all_equal(self, value: str) -> bool:
        """Whether every process holds the same ``value`` (e.g. a weights digest)."""
        values: list[str] = [""] * self.world
        dist.all_gather_object(values, value)
        return len(set(values)) == 1

    def barrier(self) -> None:
        """Wait for every process (no-op in one)."""
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group, at the end of the run in every process (no-op in one).

        A process that exits while still in the group leaves gloo's threads to the interpreter's
        teardown, which can abort it ("terminate called without an active exception")."""
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()
