"""The memory a benchmark case uses: :class:`MemoryProbe`.

On CUDA it reads the caching allocator (``torch.cuda.max_memory_allocated``: tensors, weights
included). On the CPU it reads the process's peak resident set size: on Linux ``VmHWM`` of
``/proc/self/status``, reset through ``/proc/self/clear_refs`` at each :meth:`MemoryProbe.start`
after glibc's ``malloc_trim`` has handed back what earlier cases freed; elsewhere
``getrusage``'s ``ru_maxrss``, which is never reset, so only a new peak of the process shows.
"""

from __future__ import annotations

import ctypes
import gc
import re
import sys
from pathlib import Path

import torch

from gcseg.speed.timing import synchronize

__all__ = ["MemoryProbe"]


def _proc_status_mb(field: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux) in MB, or None elsewhere."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def _max_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else kB


def _resident_mb() -> float:
    """The resident set size of the process now (``VmRSS``, else psutil, else the peak)."""
    rss = _proc_status_mb("VmRSS")
    if rss is not None:
        return rss
    try:
        import psutil  # optional: not a dependency of gcseg

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return _max_rss_mb()


def _release_freed_memory() -> None:
    """Give the memory freed by earlier cases back to the system (glibc's ``malloc_trim``), so
    that the next case's peak shows its own activations instead of reusing resident pages."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class MemoryProbe:
    """Memory of the process (CPU) or of the CUDA caching allocator, with a resettable peak.

    ``start()`` resets the peak and remembers the current use; ``current_mb()``,
    ``peak_mb()`` and ``peak_growth_mb()`` read it. ``measure`` says what is measured.
    """

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.start_mb = 0.0
        if self.device.type == "cuda":
            self.measure = "torch.cuda.max_memory_allocated (tensors on the GPU)"
        elif _proc_status_mb("VmHWM") is not None:
            self.measure = "peak resident set size of the process (/proc VmHWM, reset per case)"
        else:
            self.measure = ("peak resident set size of the process (getrusage ru_maxrss, "
                            "never reset)")

    def current_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.memory_allocated(self.device) / 2**20
        return _resident_mb()

    def in_use_mb(self) -> float:
        """The memory held now, after the freed memory went back to the system (CPU: glibc
        keeps freed blocks resident, and their fragments grow with the frames streamed -- about
        0.5 MB per frame at 240x432 -- though nothing is held; CUDA: what is allocated)."""
        if self.device.type != "cuda":
            _release_freed_memory()
        return self.current_mb()

    def start(self) -> None:
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            _release_freed_memory()
            try:  # Linux: "5" resets the peak resident set size (VmHWM) to the current one
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
        self.start_mb = self.current_mb()

    def peak_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        peak = _proc_status_mb("VmHWM")
        return peak if peak is not None else _max_rss_mb()

    def peak_growth_mb(self) -> float:
        return max(0.0, self.peak_mb() - self.start_mb)
