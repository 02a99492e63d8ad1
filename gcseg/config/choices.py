"""The allowed values of the configuration's choice settings, and two of the paper's constants.

Each choice is a typed literal and the tuple of its values, read from the literal
(``VARIANTS = typing.get_args(Variant)``): the literal types the config fields and the model
modules' arguments, the tuple is what validation, the modules and the command line check
against.  Add a value in the literal and it is allowed everywhere.
"""

from __future__ import annotations

import typing
from typing import Literal

__all__ = [
    "BACKBONES",
    "COSEG_ACTIVATIONS",
    "DAVIS_YEARS",
    "JUDGMENT_THRESHOLD",
    "LEVELS",
    "LOSS_REDUCTIONS",
    "NORMS",
    "NUM_REFERENCES",
    "OUTPUT_STRIDES",
    "REFERENCE_ENCODINGS",
    "REFERENCE_FUSIONS",
    "JUDGMENT_FEATURES",
    "ROI_MODES",
    "SCHEDULES",
    "SIMILARITIES",
    "STILL_SOURCE_KINDS",
    "TOP_LEVELS",
    "VARIANTS",
    "Backbone",
    "CosegActivation",
    "DavisYear",
    "Level",
    "LossReduction",
    "Norm",
    "OutputStride",
    "ReferenceEncoding",
    "ReferenceFusion",
    "JudgmentFeatures",
    "RoiMode",
    "Schedule",
    "Similarity",
    "TopLevel",
    "Variant",
]

Variant = Literal["baseline", "ref", "coseg", "full"]
"""The ablation variants of Table V: extractor -> decoder, + Reference Module, + Co-segmentation
Module, + both (the full network)."""
VARIANTS: tuple[Variant, ...] = typing.get_args(Variant)

Backbone = Literal["resnet18", "resnet34", "resnet50", "resnet101"]
"""The torchvision ResNets the Feature Extractor is built on (the paper: ResNet-101)."""
BACKBONES: tuple[Backbone, ...] = typing.get_args(Backbone)

Level = Literal["res2", "res3", "res4", "res5"]
"""The Feature Extractor's levels, strides 4, 8, 16 and the output stride."""
LEVELS: tuple[Level, ...] = typing.get_args(Level)

TopLevel = Literal["res4", "res5"]
"""The deepest level the heads read (``res4`` stops the ResNet before its last stage)."""
TOP_LEVELS: tuple[TopLevel, ...] = typing.get_args(TopLevel)

OutputStride = Literal[8, 16, 32]
"""Stride of the top level; below 32 the last stages are dilated (DeepLab)."""
OUTPUT_STRIDES: tuple[OutputStride, ...] = typing.get_args(OutputStride)

Norm = Literal["group", "batch", "none"]
"""Normalisation in the heads' convolution blocks."""
NORMS: tuple[Norm, ...] = typing.get_args(Norm)

CosegActivation = Literal["none", "sigmoid"]
"""After the FC giving the co-segmentation vector f (Section III-A-3: none)."""
COSEG_ACTIVATIONS: tuple[CosegActivation, ...] = typing.get_args(CosegActivation)

RoiMode = Literal["align", "pool"]
"""ROI pooling of the Mask Encoder and the Judgment Module: ``roi_align`` (average) or
``roi_pool`` (max)."""
ROI_MODES: tuple[RoiMode, ...] = typing.get_args(RoiMode)

Similarity = Literal["matmul", "per_channel"]
"""D1 of the Reference Module: one channel ``R'^T F'`` or one per channel (eq. 1-2)."""
SIMILARITIES: tuple[Similarity, ...] = typing.get_args(Similarity)

ReferenceEncoding = Literal["cached", "own-mask"]
"""How a segmented frame is encoded as a reference (:attr:`InferenceConfig.reference_encoding`)."""
REFERENCE_ENCODINGS: tuple[ReferenceEncoding, ...] = typing.get_args(ReferenceEncoding)

ReferenceFusion = Literal["predictions", "features"]
"""Where the references of a frame are averaged (:attr:`InferenceConfig.reference_fusion`): their
predictions (the paper), or the decoder's inputs (the decoder runs once per object)."""
REFERENCE_FUSIONS: tuple[ReferenceFusion, ...] = typing.get_args(ReferenceFusion)

JudgmentFeatures = Literal["prev-mask", "no-mask"]
"""Features the Judgment Module pools in frame t (:attr:`InferenceConfig.judgment_features`):
E(I_t, M_{t-1}), those that segment the frame, or E(I_t, 0), without the mask channel."""
JUDGMENT_FEATURES: tuple[JudgmentFeatures, ...] = typing.get_args(JudgmentFeatures)

LossReduction = Literal["mean", "sum"]
"""Each BCE term of eq. 3 as the mean or the sum over pixels."""
LOSS_REDUCTIONS: tuple[LossReduction, ...] = typing.get_args(LossReduction)

Schedule = Literal["poly", "cosine", "constant"]
"""Learning-rate schedules."""
SCHEDULES: tuple[Schedule, ...] = typing.get_args(Schedule)

DavisYear = Literal["2016", "2017"]
"""DAVIS editions: 2016 (one object a video), 2017 (several)."""
DAVIS_YEARS: tuple[DavisYear, ...] = typing.get_args(DavisYear)

STILL_SOURCE_KINDS = ("pascal-voc", "msra10k", "davis-stills")
"""The kinds of ``data.still_sources`` entries (``kind`` or ``kind:path``)."""

JUDGMENT_THRESHOLD = 0.7
"""tau of the Judgment Module (Section III-B): M_{t-1} is kept when its cosine similarity to the
first frame's object is at least tau.  The one place this default lives."""
NUM_REFERENCES = 3
"""n, the temporal fragments of the past with one reference frame drawn from each, beside frame
0 (Section III-A-1).  The one place this default lives."""
