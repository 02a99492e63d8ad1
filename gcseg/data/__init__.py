"""Datasets: the DAVIS layout reader/writer and the built-in synthetic benchmark."""

from gcseg.data.davis import (
    PALETTE,
    VOID_ID,
    DavisDataset,
    DavisFormatError,
    Sequence,
    read_annotation,
    read_frame,
    write_annotation,
    write_frame,
    write_sequence_results,
)

__all__ = [
    "PALETTE",
    "VOID_ID",
    "DavisDataset",
    "DavisFormatError",
    "Sequence",
    "read_annotation",
    "read_frame",
    "write_annotation",
    "write_frame",
    "write_sequence_results",
]
