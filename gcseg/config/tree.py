"""The configuration tree: one dataclass per section, :class:`GCSegConfig` holding them.

::

    GCSegConfig
    ├── model: ModelConfig          the network (paper Section III-A)
    ├── data: DataConfig            where frames come from and at which size
    ├── train: TrainConfig          optimisation (paper Section IV-A)
    └── inference: InferenceConfig  references and Adaptive Search (III-A-1, III-B)

Choice settings are typed with the literals of :mod:`gcseg.config.choices`; a YAML value is
checked against its field's type when read (:mod:`gcseg.config.merging`) and the whole config
by :meth:`GCSegConfig.validate` (:mod:`gcseg.config.validation`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gcseg.config.choices import (
    JUDGMENT_THRESHOLD,
    NUM_REFERENCES,
    Backbone,
    CosegActivation,
    DavisYear,
    JudgmentFeatures,
    Level,
    LossReduction,
    Norm,
    OutputStride,
    ReferenceEncoding,
    ReferenceFusion,
    RoiMode,
    Schedule,
    Similarity,
    TopLevel,
    Variant,
)
from gcseg.config.merging import ConfigError, merge_settings, to_plain
from gcseg.config.presets import PRESETS
from gcseg.config.validation import validate_config
from gcseg.files import write_text

__all__ = [
    "DataConfig",
    "GCSegConfig",
    "InferenceConfig",
    "ModelConfig",
    "TrainConfig",
    "get_preset",
    "load_config",
]


@dataclass
class ModelConfig:
    """The network (Section III-A). Defaults are the ``paper`` preset's, except ``weights``."""

    variant: Variant = "full"
    """Table V ablation: ``baseline``, ``ref``, ``coseg`` or ``full`` (Ref + Co-seg)."""
    backbone: Backbone = "resnet101"
    """torchvision ResNet: resnet101 (paper), resnet50, resnet34, resnet18."""
    weights: str | None = None
    """``"imagenet"`` (torchvision weights API, needs internet once; the ``paper`` preset's
    value), ``"foundation"`` (the shipped ``checkpoints/foundation_tiny.pt``, our offline
    stand-in for ImageNet weights, tiny preset only; see :mod:`gcseg.foundation`), a path to a
    local state dict, or ``None`` (random initialisation, the default so that building a model
    in code never downloads)."""
    output_stride: OutputStride = 16
    """8, 16 or 32: stride of ``res5``; below 32 the last stages are dilated."""
    top_level: TopLevel = "res5"
    """The deepest level used: the Mask Encoder, Reference Module, Judgment and decoders read
    it and the Co-segmentation levels are resized to its grid.  ``res4`` drops the ResNet's last
    stage (8.4 M of ResNet-18's 11.2 M parameters, more than half of its FLOPs at output
    stride 16) for small CPU models (our choice)."""
    freeze_backbone: bool = False
    """Freeze the Feature Extractor (the paper fixes it after pre-training); BatchNorm in eval."""
    normalize_input: bool = True
    """Images come in as RGB in [0, 1]; the extractor applies ImageNet mean/std itself."""
    coseg_levels: tuple[Level, ...] = ("res3", "res4", "res5")
    """Feature levels fed to the Co-segmentation Module (III-A-3: "different levels")."""
    coseg_dim: int = 256
    """Channels of G after the 1x1 projection of the concatenated levels (our choice)."""
    coseg_activation: CosegActivation = "none"
    """Non-linearity after the FC giving f (``none`` as in the paper, or ``sigmoid``)."""
    roi_mode: RoiMode = "align"
    """Mask Encoder pooling: ``align`` (roi_align, average) or ``pool`` (roi_pool, max)."""
    roi_output_size: int = 1
    """ROI output grid (averaged to one vector per ROI)."""
    ref_dim: int = 256
    """Channels of F', R', R1, R2 and R in the Reference Module."""
    ref_similarity: Similarity = "matmul"
    """``matmul``: D1 = R'^T F' is one channel; ``per_channel``: D1_c = R'_c F'_c (C' channels)."""
    ref_scaled: bool = True
    """Divide the ``matmul`` D1 by sqrt(C') so eq. 1's softmax does not saturate (our choice;
    the paper writes no scale)."""
    decoder_dim: int = 256
    """Width of the decoder (global convolution, residual block, ASPP)."""
    gcn_kernel: int = 7
    """k of the global convolution block (k x 1 + 1 x k branches)."""
    aspp_rates: tuple[int, ...] = (1, 6, 12, 18)
    """ASPP branches: rate 1 is a 1x1 conv, others 3x3 atrous convs (DeepLab v3 at OS 16)."""
    aspp_image_pool: bool = True
    """Add ASPP's image-level pooling branch."""
    head_norm: Norm = "group"
    """Normalisation in the head conv blocks: ``group`` (batch-size independent), ``batch``,
    ``none``. The paper does not say; the decoder's residual block never has one."""
    aux_decoder: bool = True
    """Co-segmentation-only decoder giving M'_t, M'_{t-n} (eq. 3) in the variants with G."""


@dataclass
class DataConfig:
    """Where frames come from and the size the network sees."""

    root: str | None = None
    """A DAVIS-layout dataset root (the synthetic benchmark uses the same layout)."""
    year: DavisYear = "2017"
    split: str = "train"
    val_split: str = "val"
    """Split scored during training (``train.eval_every``)."""
    resolution: str = "480p"
    frame_size: tuple[int, int] = (480, 854)
    """(H, W) of the training crops fed to the network.  Inference feeds every frame at its
    own size; frames much smaller than ``frame_size / crop_scale`` get a warning
    (:func:`gcseg.inference.trained_frame_size`)."""
    crop_scale: tuple[float, float] = (0.8, 1.0)
    """Training crops: each side a random fraction in this range of the frame's, resized to
    ``frame_size``.  A ``frame_size`` half the frame's with crops of about half its side trains
    at the frames' own scale on a quarter of the pixels (our choice)."""
    still_sources: tuple[str, ...] = ("davis-stills",)
    """Stage-1 still images: ``pascal-voc:<VOC2012 dir>``, ``msra10k:<Imgs dir>`` (the paper's
    two) and ``davis-stills[:<root>]`` (the training videos' frames used as still images)."""


@dataclass
class TrainConfig:
    """Optimisation (paper IV-A). Values the paper does not give are marked as our choice."""

    seed: int = 0
    lr: float = 1e-5
    """Adam learning rate (our choice, RGMP's value; the paper gives none)."""
    weight_decay: float = 0.0
    batch_size: int = 4
    """Pairs (reference, target) per step (our choice)."""
    steps: int = 100_000
    """Steps of training on videos (stage 2)."""
    pretrain_steps: int = 100_000
    """Steps on simulated videos from static images (stage 1, Table VII)."""
    simulated_pretraining: bool = True
    """Stage 1 on or off (Table VII)."""
    recurrent_steps: int = 20_000
    """Steps of recurrent fine-tuning (stage 3)."""
    recurrent_clip_len: int = 5
    """Frames per clip in recurrent fine-tuning."""
    recurrent_detach: bool = False
    """Feed the previous prediction forward without its gradient: each frame still learns from
    the model's own mistakes as input, but the backward pass stops at each frame (with a frozen
    backbone, about half the cost of a clip; our choice for short runs).  False: gradients
    through the whole clip, as the paper's end-to-end fine-tuning."""
    zero_prev_mask_prob: float = 0.5
    """Probability of zeroing M_{t-1} in training (III-B)."""
    max_interval: int = 25
    """Largest frame interval between reference and target in a training pair."""
    freeze_backbone_after_pretrain: bool = True
    """Fix the Feature Extractor for the video stages (III-A-2: "fixed after pre-training"):
    after stage 1, and from the first step of a run without stage 1, so that Table VII's rows
    with and without pre-training differ by stage 1 alone."""
    loss_reduction: LossReduction = "mean"
    """Each BCE term of eq. 3 as the ``mean`` over pixels (default) or the ``sum``."""
    num_workers: int = 0
    log_every: int = 50
    checkpoint_every: int = 1000
    schedule: Schedule = "poly"
    """Learning-rate schedule: ``poly`` (power 0.9), ``cosine``, ``constant``; run over stage 1
    and, anew, over the video stages (as the paper's separate pre-training and fine-tuning)."""
    grad_clip: float = 5.0
    """Clip the gradients' global norm (0: off)."""
    amp: bool = True
    """fp16 autocast on CUDA (ignored on the CPU)."""
    eval_every: int = 0
    """Score the validation split every this many steps and at the end (0: never)."""
    eval_videos: int = 0
    """Validate on the first this many videos of the split (0: all)."""
    init_from: str | None = None
    """Start from the weights of this checkpoint or export (same model config); the optimiser
    and the step start afresh: fine-tuning a trained model with other settings."""


@dataclass
class InferenceConfig:
    """Reference sampling and Adaptive Search (III-A-1, III-B)."""

    num_refs: int = NUM_REFERENCES
    """n: temporal fragments, one reference frame drawn from each (plus frame 0)."""
    judgment_threshold: float = JUDGMENT_THRESHOLD
    """tau of the Judgment Module: M_{t-1} is reliable when cosine similarity >= tau."""
    adaptive_search: bool = True
    """Table VI switch."""
    seed: int = 0
    """Seed of the reference sampling."""
    reference_encoding: ReferenceEncoding = "cached"
    """Features a segmented frame keeps as a reference: ``"cached"`` reuses those of the pass
    that segmented it, E(I_t, M_{t-1}), masked with its result M_t (no extra cost);
    ``"own-mask"`` encodes it again with its result, E(I_t, M_t), as in training (one more
    backbone pass per frame)."""
    judgment_features: JudgmentFeatures = "prev-mask"
    """Features the Judgment Module pools: ``"prev-mask"`` those that segment frame t,
    E(I_t, M_{t-1}), against frame 0's E(I_0, M_0) (the paper's Figure 6); ``"no-mask"``
    E(I_t, 0) against E(I_0, 0), appearance alone (one more backbone pass per frame, for one
    image: a rejected object's features are then already computed)."""
    reference_fusion: ReferenceFusion = "predictions"
    """Where a frame's references are averaged: ``"predictions"`` -- each reference goes
    through the decoder and M_t is the mean of the predictions (the paper) -- or
    ``"features"`` -- the mean of the decoder's inputs concat(G, R) goes through the decoder
    once per object (faster, not the paper's; its accuracy is measured in
    ``benchmarks/README.md``)."""



@dataclass
class GCSegConfig:
    """The whole configuration. ``name`` records the preset it started from."""

    name: str = "paper"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples become lists), the YAML content."""
        return to_plain(dataclasses.asdict(self))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Return the YAML text; also write it to ``path`` when given (atomically, parents
        created)."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            write_text(path, text)
        return text

    def updated(self, settings: dict[str, Any], source: str) -> GCSegConfig:
        """A copy with the (partial, nested) ``settings`` applied, each checked like a key of a
        YAML file from ``source``; the whole is not validated (call :meth:`validate`)."""
        return merge_settings(self, settings, source)

    def validate(self, source: str = "<config>") -> None:
        """Check values; raise :class:`ConfigError` naming the key and ``source``."""
        validate_config(self, source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> GCSegConfig:
        """Build from a (partial) nested dict; an optional ``preset`` key picks the base."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of settings (preset:, "
                              f"model:, data:, train:, inference:), got a {type(data).__name__}")
        data = dict(data)
        base_name = data.pop("preset", None) or "paper"
        config = _preset(base_name, source).updated(data, source)
        config.validate(source)
        return config

    @classmethod
    def from_saved(cls, data: dict[str, Any], source: str = "<dict>") -> GCSegConfig:
        """A config that :meth:`to_dict` / :meth:`to_yaml` wrote, perhaps by an earlier version:
        its ``name`` is its preset, so settings added since take that preset's defaults."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a saved config (a mapping), "
                              f"got a {type(data).__name__}")
        return cls.from_dict({**data, "preset": data.get("name")}, source=source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> GCSegConfig:
        """Load a YAML file (see :mod:`gcseg.config`); errors name the file."""
        return cls.from_dict(_read_yaml(Path(path)), source=str(path))


def _read_yaml(path: Path) -> Any:
    """The content of the YAML file ``path``; :class:`ConfigError` for a folder, a file that
    is not UTF-8 YAML or an empty one, FileNotFoundError when there is none."""
    if path.is_dir():
        raise ConfigError(f"{path}: a folder, not a YAML config file")
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not a UTF-8 text file ({error.reason} at byte "
                          f"{error.start})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    if data is None:
        # An empty file used to mean "the paper preset": a typo'd or truncated file then
        # silently asked for ImageNet weights and a ResNet-101.
        raise ConfigError(f"{path}: the config file is empty (write at least "
                          "'preset: tiny' or 'preset: paper')")
    return data


def _preset(name: str, source: str) -> GCSegConfig:
    """The preset ``name``: its settings over the defaults (not validated)."""
    if name not in PRESETS:
        raise ConfigError(f"{source}: unknown preset {name!r} (known: {list(PRESETS)})")
    return GCSegConfig(name=name).updated(PRESETS[name], f"preset {name!r}")


def get_preset(name: str) -> GCSegConfig:
    """A fresh copy of the preset ``name`` (``paper`` or ``tiny``)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r} (known: {list(PRESETS)})")
    config = _preset(name, f"preset {name!r}")
    config.validate(f"preset {name!r}")
    return config


def load_config(name_or_path: str | Path | GCSegConfig) -> GCSegConfig:
    """A preset name, a YAML path, or a config (returned as is)."""
    if isinstance(name_or_path, GCSegConfig):
        return name_or_path
    text = str(name_or_path)
    if text in PRESETS:
        return get_preset(text)
    if text.endswith((".yaml", ".yml")) or Path(text).exists():
        return GCSegConfig.from_yaml(text)
    raise ConfigError(f"{text!r} is neither a preset ({list(PRESETS)}) nor a YAML file")
