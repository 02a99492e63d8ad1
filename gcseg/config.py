"""Configuration of gcseg: one tree of dataclasses, two presets, YAML load/save.

The tree::

    GCSegConfig
    ├── model: ModelConfig          the network (paper Section III-A, SPEC §1-6)
    ├── data: DataConfig            where frames come from and at which size
    ├── train: TrainConfig          optimisation (paper Section IV-A)
    └── inference: InferenceConfig  references and Adaptive Search (III-A-1, III-B)

Presets (``get_preset(name)``):

- ``paper``: ResNet-101, output stride 16, 480x854 frames, 256-channel heads, ImageNet weights.
  The paper gives no learning rate or batch size; the values here follow RGMP, which the paper
  follows for its training scheme, and are marked as our choice in the field docs.
- ``tiny``: ResNet-18, 64-channel heads, 240x432 frames (the synthetic benchmark), random
  initialisation, so it trains on a CPU in minutes without downloading anything.

YAML files hold any subset of the tree; missing keys keep the defaults of the preset named by
an optional top-level ``preset:`` key (``paper`` when absent)::

    preset: tiny
    model:
      variant: coseg
    train:
      lr: 3.0e-4

Unknown keys, wrong types and out-of-range values raise :class:`ConfigError` naming the key and
the file; so does an empty file or one whose top level is not a mapping (an empty file does not
mean ``paper``).

:func:`config_differences` names the settings in which two configs differ, comparing the paths
they hold (``data.root``, ``train.init_from``, a ``model.weights`` file, the folders of
``data.still_sources``) resolved, so ``data/synthetic`` and its absolute path are the same.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "BACKBONES",
    "LEVELS",
    "PRESETS",
    "VARIANTS",
    "ConfigError",
    "DataConfig",
    "GCSegConfig",
    "InferenceConfig",
    "ModelConfig",
    "TrainConfig",
    "config_differences",
    "get_preset",
    "load_config",
]

VARIANTS = ("baseline", "ref", "coseg", "full")
"""The ablation variants of Table V: extractor -> decoder, + Reference, + Co-seg, + both."""
BACKBONES = ("resnet18", "resnet34", "resnet50", "resnet101")
LEVELS = ("res2", "res3", "res4", "res5")
NORMS = ("group", "batch", "none")


class ConfigError(ValueError):
    """A configuration value or file is wrong; the message names the key and the source."""


@dataclass
class ModelConfig:
    """The network (SPEC §1-6). Defaults are the ``paper`` preset's, except ``weights``."""

    variant: str = "full"
    """Table V ablation: ``baseline``, ``ref``, ``coseg`` or ``full`` (Ref + Co-seg)."""
    backbone: str = "resnet101"
    """torchvision ResNet: resnet101 (paper), resnet50, resnet34, resnet18."""
    weights: str | None = None
    """``"imagenet"`` (torchvision weights API, needs internet once; the ``paper`` preset's
    value), ``"foundation"`` (the shipped ``checkpoints/foundation_tiny.pt``, our offline
    stand-in for ImageNet weights, tiny preset only; SPEC §11), a path to a local state dict,
    or ``None`` (random initialisation, the default so that building a model in code never
    downloads)."""
    output_stride: int = 16
    """8, 16 or 32: stride of ``res5``; below 32 the last stages are dilated."""
    top_level: str = "res5"
    """The deepest level used: the Mask Encoder, Reference Module, Judgment and decoders read
    it and the Co-segmentation levels are resized to its grid.  ``res4`` drops the ResNet's last
    stage (8.4 M of ResNet-18's 11.2 M parameters, more than half of its FLOPs at output
    stride 16) for small CPU models (our choice)."""
    freeze_backbone: bool = False
    """Freeze the Feature Extractor (the paper fixes it after pre-training); BatchNorm in eval."""
    normalize_input: bool = True
    """Images come in as RGB in [0, 1]; the extractor applies ImageNet mean/std itself."""
    coseg_levels: tuple[str, ...] = ("res3", "res4", "res5")
    """Feature levels fed to the Co-segmentation Module (III-A-3: "different levels")."""
    coseg_dim: int = 256
    """Channels of G after the 1x1 projection of the concatenated levels (our choice)."""
    coseg_activation: str = "none"
    """Non-linearity after the FC giving f (``none`` as in the paper, or ``sigmoid``)."""
    roi_mode: str = "align"
    """Mask Encoder pooling: ``align`` (roi_align, average) or ``pool`` (roi_pool, max)."""
    roi_output_size: int = 1
    """ROI output grid (averaged to one vector per ROI)."""
    ref_dim: int = 256
    """Channels of F', R', R1, R2 and R in the Reference Module."""
    ref_similarity: str = "matmul"
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
    head_norm: str = "group"
    """Normalisation in the head conv blocks: ``group`` (batch-size independent), ``batch``,
    ``none``. The paper does not say; the decoder's residual block never has one."""
    aux_decoder: bool = True
    """Co-segmentation-only decoder giving M'_t, M'_{t-n} (eq. 3) in the variants with G."""


@dataclass
class DataConfig:
    """Where frames come from and the size the network sees."""

    root: str | None = None
    """A DAVIS-layout dataset root (the synthetic benchmark uses the same layout)."""
    year: str = "2017"
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
    """Fix the Feature Extractor after stage 1 (III-A-2: "fixed after pre-training")."""
    loss_reduction: str = "mean"
    """Each BCE term of eq. 3 as the ``mean`` over pixels (default) or the ``sum``."""
    num_workers: int = 0
    log_every: int = 50
    checkpoint_every: int = 1000
    schedule: str = "poly"
    """Learning-rate schedule over all stages: ``poly`` (power 0.9), ``cosine``, ``constant``."""
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


REFERENCE_ENCODINGS = ("cached", "own-mask")
"""How a segmented frame is encoded as a reference (:attr:`InferenceConfig.reference_encoding`)."""


@dataclass
class InferenceConfig:
    """Reference sampling and Adaptive Search (III-A-1, III-B)."""

    num_refs: int = 3
    """n: temporal fragments, one reference frame drawn from each (plus frame 0)."""
    judgment_threshold: float = 0.7
    """tau of the Judgment Module: M_{t-1} is reliable when cosine similarity >= tau."""
    adaptive_search: bool = True
    """Table VI switch."""
    seed: int = 0
    """Seed of the reference sampling."""
    reference_encoding: str = "cached"
    """Features a segmented frame keeps as a reference: ``"cached"`` reuses those of the pass
    that segmented it, E(I_t, M_{t-1}), masked with its result M_t (no extra cost);
    ``"own-mask"`` encodes it again with its result, E(I_t, M_t), as in training (one more
    backbone pass per frame)."""


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
        return _to_plain(dataclasses.asdict(self))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Return the YAML text; also write it to ``path`` when given (parents created)."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> GCSegConfig:
        """Build from a (partial) nested dict; an optional ``preset`` key picks the base."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of settings (preset:, "
                              f"model:, data:, train:, inference:), got a {type(data).__name__}")
        data = dict(data)
        base_name = data.pop("preset", None) or "paper"
        if base_name not in PRESETS:
            raise ConfigError(f"{source}: unknown preset {base_name!r} (known: {list(PRESETS)})")
        base = PRESETS[base_name]()
        config = _merge(base, data, source, prefix="")
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
        """Load a YAML file (see the module docstring); errors name the file."""
        path = Path(path)
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
        return cls.from_dict(data, source=str(path))

    def validate(self, source: str = "<config>") -> None:
        """Check values; raise :class:`ConfigError` naming the key and ``source``."""
        m, d, t, i = self.model, self.data, self.train, self.inference

        def check(ok: bool, key: str, message: str) -> None:
            if not ok:
                raise ConfigError(f"{source}: {key}: {message}")

        check(m.variant in VARIANTS, "model.variant", f"{m.variant!r} not in {VARIANTS}")
        check(m.backbone in BACKBONES, "model.backbone", f"{m.backbone!r} not in {BACKBONES}")
        check(m.output_stride in (8, 16, 32), "model.output_stride", "must be 8, 16 or 32")
        check(
            len(m.coseg_levels) > 0 and all(level in LEVELS for level in m.coseg_levels),
            "model.coseg_levels",
            f"{m.coseg_levels} must be a non-empty subset of {LEVELS}",
        )
        check(
            len(set(m.coseg_levels)) == len(m.coseg_levels), "model.coseg_levels", "duplicates"
        )
        check(m.top_level in ("res4", "res5"), "model.top_level", "must be 'res4' or 'res5'")
        check(all(LEVELS.index(level) <= LEVELS.index(m.top_level) for level in m.coseg_levels),
              "model.coseg_levels", f"{m.coseg_levels}: no level deeper than {m.top_level}")
        check(m.coseg_activation in ("none", "sigmoid"), "model.coseg_activation", "none|sigmoid")
        check(m.roi_mode in ("align", "pool"), "model.roi_mode", "must be 'align' or 'pool'")
        check(m.ref_similarity in ("matmul", "per_channel"), "model.ref_similarity",
              "must be 'matmul' or 'per_channel'")
        check(m.head_norm in NORMS, "model.head_norm", f"{m.head_norm!r} not in {NORMS}")
        for key in ("coseg_dim", "ref_dim", "decoder_dim", "roi_output_size"):
            check(getattr(m, key) >= 1, f"model.{key}", "must be >= 1")
        check(m.gcn_kernel >= 1 and m.gcn_kernel % 2 == 1, "model.gcn_kernel", "odd and >= 1")
        check(
            len(m.aspp_rates) > 0 and all(rate >= 1 for rate in m.aspp_rates),
            "model.aspp_rates",
            "non-empty, every rate >= 1",
        )
        check(d.year in ("2016", "2017"), "data.year", "must be '2016' or '2017'")
        check(len(d.frame_size) == 2 and min(d.frame_size) >= 32, "data.frame_size",
              "(H, W), both >= 32")
        check(len(d.crop_scale) == 2 and 0 < d.crop_scale[0] <= d.crop_scale[1] <= 1,
              "data.crop_scale", "(min, max) with 0 < min <= max <= 1")
        check(t.lr > 0, "train.lr", "must be > 0")
        check(t.weight_decay >= 0, "train.weight_decay", "must be >= 0")
        for key in ("batch_size", "recurrent_clip_len", "max_interval", "log_every",
                    "checkpoint_every"):
            check(getattr(t, key) >= 1, f"train.{key}", "must be >= 1")
        for key in ("steps", "pretrain_steps", "recurrent_steps", "num_workers"):
            check(getattr(t, key) >= 0, f"train.{key}", "must be >= 0")
        check(0.0 <= t.zero_prev_mask_prob <= 1.0, "train.zero_prev_mask_prob", "in [0, 1]")
        check(t.loss_reduction in ("mean", "sum"), "train.loss_reduction", "'mean' or 'sum'")
        check(t.schedule in ("poly", "cosine", "constant"), "train.schedule",
              "'poly', 'cosine' or 'constant'")
        for key in ("grad_clip", "eval_every", "eval_videos"):
            check(getattr(t, key) >= 0, f"train.{key}", "must be >= 0")
        for spec in d.still_sources:
            check(spec.partition(":")[0] in ("pascal-voc", "msra10k", "davis-stills"),
                  "data.still_sources", f"{spec!r}: pascal-voc:DIR, msra10k:DIR or davis-stills")
        check(i.num_refs >= 0, "inference.num_refs", "must be >= 0")
        check(-1.0 <= i.judgment_threshold <= 1.0, "inference.judgment_threshold",
              "a cosine similarity threshold in [-1, 1]")
        check(i.reference_encoding in REFERENCE_ENCODINGS, "inference.reference_encoding",
              " or ".join(repr(name) for name in REFERENCE_ENCODINGS))


# ----------------------------------------------------------------------------- presets


def _paper() -> GCSegConfig:
    return GCSegConfig(name="paper", model=ModelConfig(weights="imagenet"))


def _tiny() -> GCSegConfig:
    return GCSegConfig(
        name="tiny",
        model=ModelConfig(
            backbone="resnet18",
            weights=None,
            # ResNet-18 up to res4 (stride 16): 2.8 M parameters instead of 11.2 M, so a CPU
            # trains it in minutes and the shipped checkpoint stays small (our choice).
            top_level="res4",
            coseg_levels=("res2", "res3", "res4"),
            coseg_dim=64,
            ref_dim=64,
            decoder_dim=64,
            # Half the paper's frame size, so half the atrous rates.
            aspp_rates=(1, 3, 6, 9),
        ),
        data=DataConfig(frame_size=(240, 432)),
        train=TrainConfig(
            lr=1e-4,  # from scratch, a larger step than the paper's fine-tuning (our choice)
            steps=2000,
            pretrain_steps=0,
            simulated_pretraining=False,
            recurrent_steps=200,
            max_interval=10,
            freeze_backbone_after_pretrain=False,  # random init: the backbone must learn
            grad_clip=5.0,  # training from scratch: keep the first steps tame (our choice)
            log_every=20,
            checkpoint_every=200,
        ),
    )


PRESETS = {"paper": _paper, "tiny": _tiny}
"""Preset name -> a function returning a fresh :class:`GCSegConfig`."""


def get_preset(name: str) -> GCSegConfig:
    """A fresh copy of the preset ``name`` (``paper`` or ``tiny``)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r} (known: {list(PRESETS)})")
    config = PRESETS[name]()
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


# ----------------------------------------------------------------------------- comparing


PATH_SETTINGS = ("data.root", "train.init_from", "model.weights")
"""Settings holding a file or folder path (``model.weights`` also takes the names
``imagenet`` and ``foundation``); ``data.still_sources`` holds ``kind:path`` entries."""


def _resolved(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _normalised(key: str, value: Any) -> Any:
    """``value`` of setting ``key`` with any path in it made absolute (symlinks resolved)."""
    if key in PATH_SETTINGS and isinstance(value, str) and value not in ("imagenet",
                                                                         "foundation"):
        return _resolved(value)
    if key == "data.still_sources" and isinstance(value, (list, tuple)):
        specs = []
        for spec in value:
            kind, sep, path = str(spec).partition(":")
            specs.append(f"{kind}:{_resolved(path)}" if sep and path else spec)
        return specs
    return value


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = _to_plain(value)
    return flat


def config_differences(before: GCSegConfig | dict[str, Any], after: GCSegConfig | dict[str, Any]
                       ) -> dict[str, tuple[Any, Any]]:
    """``{"section.key": (value in before, value in after)}`` for every setting that differs;
    paths are compared resolved (relative against the working folder), so a dataset named by a
    relative path and by its absolute path is the same setting."""
    flat = [_flat(c.to_dict() if isinstance(c, GCSegConfig) else c) for c in (before, after)]
    keys = list(flat[0]) + [key for key in flat[1] if key not in flat[0]]
    return {key: (flat[0].get(key), flat[1].get(key)) for key in keys
            if _normalised(key, flat[0].get(key)) != _normalised(key, flat[1].get(key))}


# ----------------------------------------------------------------------------- dict <-> tree


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(item) for item in value]
    return value


def _merge(base: Any, data: dict[str, Any], source: str, prefix: str) -> Any:
    """Return a copy of dataclass ``base`` with the entries of ``data`` applied (checked)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'top level'}: expected a mapping")
    hints = typing.get_type_hints(type(base))
    names = [f.name for f in dataclasses.fields(base)]
    updates = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(
                f"{source}: unknown key {prefix + str(key)!r} (allowed here: {', '.join(names)})"
            )
        current = getattr(base, key)
        if dataclasses.is_dataclass(current):
            updates[key] = _merge(current, value, source, prefix=f"{prefix}{key}.")
        else:
            updates[key] = _coerce(value, hints[key], f"{source}: {prefix}{key}")
    return dataclasses.replace(base, **updates)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; lists become tuples."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (arg for arg in args if arg is not type(None)):
            try:
                return _coerce(value, option, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if errors else f"{where}: got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(item, args[0], where) for item in value)
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(item, arg, where) for item, arg in zip(value, args, strict=True))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-5" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    raise ConfigError(f"{where}: unsupported type {tp}")  # pragma: no cover
