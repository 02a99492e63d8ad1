"""Feature Extractor (paper Section III-A-2).

A torchvision ResNet whose first convolution takes four channels: the image and a mask. As in
RGMP, the mask gets its own single-channel 7x7 convolution, summed with the RGB convolution:

    x = conv1(I) + conv1_mask(M)            # (B, 64, H/2, W/2)

``conv1_mask`` starts at zero, so at initialisation (and with ImageNet weights) the RGB path is
exactly the original network, whatever the mask. The two halves are separate, so one image with
K masks (the K objects of a frame at inference) runs ``conv1(I)`` once and broadcasts it over the
K ``conv1_mask(M_k)``: pass ``image`` with batch 1 and ``mask`` with batch K.

The extractor returns the four stages ``res2`` (stride 4), ``res3`` (8), ``res4`` (16) and
``res5`` (16 at output stride 16: the last stage is dilated instead of strided, as in DeepLab).

The same weights serve every frame, ``F_t = E(I_t, M_{t-1})`` and ``F_{t-n} = E(I_{t-n},
M_{t-n})``. The paper fixes the extractor after pre-training: ``set_frozen(True)`` stops its
gradients and keeps its BatchNorm layers in eval mode.

Weights: ``"imagenet"`` (torchvision's ``IMAGENET1K_V1`` through its weights API; needs the
internet once, then torch hub's cache), ``"foundation"`` (the project's own stand-in for ImageNet
weights, ``checkpoints/foundation_tiny.pt``: a ResNet-18 extractor up to ``res4`` trained once on
the synthetic benchmark; see :mod:`gcseg.foundation`), a path to a local state dict
(torchvision's keys or this module's), or ``None`` (random initialisation). Nothing downloads at
import.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn

from gcseg.config import BACKBONES, OUTPUT_STRIDES, TOP_LEVELS, Backbone, OutputStride, TopLevel

__all__ = [
    "BACKBONE_CHANNELS",
    "FeatureExtractor",
    "FOUNDATION_PATH",
    "WeightsUnavailableError",
    "load_backbone_state",
    "state_dict_mismatch",
    "weights_file",
]

_BUILDERS: dict[str, tuple[Callable[..., torchvision.models.ResNet], str]] = {
    "resnet18": (torchvision.models.resnet18, "ResNet18_Weights"),
    "resnet34": (torchvision.models.resnet34, "ResNet34_Weights"),
    "resnet50": (torchvision.models.resnet50, "ResNet50_Weights"),
    "resnet101": (torchvision.models.resnet101, "ResNet101_Weights"),
}

BACKBONE_CHANNELS: dict[str, dict[str, int]] = {
    "resnet18": {"res2": 64, "res3": 128, "res4": 256, "res5": 512},
    "resnet34": {"res2": 64, "res3": 128, "res4": 256, "res5": 512},
    "resnet50": {"res2": 256, "res3": 512, "res4": 1024, "res5": 2048},
    "resnet101": {"res2": 256, "res3": 512, "res4": 1024, "res5": 2048},
}
"""Channels of each level per backbone."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DOWNLOAD_HOST = ("download.pytorch.org", 443)
FOUNDATION_PATH = Path(__file__).resolve().parents[2] / "checkpoints" / "foundation_tiny.pt"
"""Where ``weights="foundation"`` is read from (beside the package, in the repository)."""


def weights_file(weights: str | Path | None) -> Path | None:
    """The file that ``model.weights`` reads: the shipped foundation for ``"foundation"``, the
    path itself for a state dict, ``None`` for ``None`` and ``"imagenet"`` (torchvision's
    cache, see :func:`_imagenet_state_dict`)."""
    if weights is None or str(weights) == "imagenet":
        return None
    return FOUNDATION_PATH if str(weights) == "foundation" else Path(weights)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights were asked for but cannot be found or downloaded."""


def _network_available(address: tuple[str, int] = DOWNLOAD_HOST, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``address`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def _imagenet_weights(backbone: str) -> torchvision.models.WeightsEnum:
    enum = getattr(torchvision.models, _BUILDERS[backbone][1])
    return enum.IMAGENET1K_V1


def _imagenet_state_dict(backbone: str) -> dict[str, Tensor]:
    """torchvision's ImageNet weights of ``backbone`` from the hub cache, else downloaded.

    Fails within a few seconds, with instructions, when the file is not cached and the download
    server cannot be reached: never hangs on a machine without internet.
    """
    weights = _imagenet_weights(backbone)
    filename = weights.url.rsplit("/", 1)[-1]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if cached.is_file():
        try:
            return torch.load(cached, map_location="cpu", weights_only=True)
        except Exception as error:  # a truncated download, say
            raise WeightsUnavailableError(
                f"the cached ImageNet weights {cached} are not readable "
                f"({type(error).__name__}: {_first_line(error)}): delete the file to download "
                "them again") from None
    how = (
        f"To get them: on a machine with internet run\n"
        f"    python -c \"import torchvision; torchvision.models.{backbone}"
        f"(weights='IMAGENET1K_V1')\"\n"
        f"and copy {filename} into {cached.parent}/ here (or download {weights.url} there), "
        f"or pass weights=<path to a state dict>, or weights=None for random initialisation."
    )
    if not _network_available():
        raise WeightsUnavailableError(
            f"ImageNet weights for {backbone} are not in torch hub's cache ({cached}) and "
            f"{DOWNLOAD_HOST[0]} cannot be reached.\n{how}"
        )
    try:
        return weights.get_state_dict(progress=True)
    except Exception as error:  # network errors come in many types
        raise WeightsUnavailableError(
            f"downloading ImageNet weights for {backbone} failed ({error}).\n{how}"
        ) from error


def load_backbone_state(path: str | Path) -> dict[str, Tensor]:
    """Read a local state dict (torchvision ResNet keys, or FeatureExtractor keys).

    Read with ``weights_only=True`` (a file cannot run code); a file that is not a readable
    state dict (random bytes, truncated, a pickled list, values that are not tensors) raises
    :class:`WeightsUnavailableError` naming it."""
    path = Path(path)
    if path.is_dir():
        raise WeightsUnavailableError(f"model.weights {path}: a folder, not a weights file")
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise WeightsUnavailableError(
            f"model.weights {path}: not a readable state dict, truncated or not written by "
            f"torch.save ({type(error).__name__}: {_first_line(error)})") from None
    for key in ("state_dict", "model", "extractor"):  # common checkpoint wrappers
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict):
        raise WeightsUnavailableError(
            f"model.weights {path}: expected a state dict (names to tensors), got a "
            f"{type(state).__name__}")
    wrong = [str(key) for key, value in state.items()
             if not isinstance(key, str) or not isinstance(value, Tensor)]
    if wrong:
        raise WeightsUnavailableError(
            f"model.weights {path}: expected a state dict (names to tensors); {len(wrong)} "
            f"entries are not tensors ({', '.join(wrong[:3])}{', ...' if len(wrong) > 3 else ''})")
    return state


def _first_line(error: BaseException, limit: int = 200) -> str:
    """The line of a (long) torch.load error that says what is wrong."""
    text = str(error).strip()
    # weights_only's refusal opens with a paragraph on PyTorch 2.6; the cause comes later
    _, found, cause = text.partition("WeightsUnpickler error:")
    if found:
        line = " ".join(cause.split("Check the documentation")[0].split())
    else:
        line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[:limit] + " ..."


def state_dict_mismatch(module: nn.Module, state: dict[str, Tensor], limit: int = 3,
                        ignore_missing: tuple[str, ...] = ()) -> str | None:
    """How ``state`` does not fit ``module`` in a few words, or ``None`` when it fits.

    The counts of missing, unexpected and wrongly shaped entries with the first ``limit`` of
    each; ``load_state_dict``'s own message lists every key, tens of kilobytes for a ResNet.
    ``ignore_missing`` names entries the module may keep (e.g. ``conv1_mask.weight``)."""
    ours = module.state_dict()
    missing = [key for key in ours if key not in state and key not in ignore_missing]
    unexpected = [key for key in state if key not in ours]
    reshaped = [key for key in ours if key in state and (
        not isinstance(state[key], Tensor) or state[key].shape != ours[key].shape)]

    def listing(keys: list[str]) -> str:
        return ", ".join(keys[:limit]) + (", ..." if len(keys) > limit else "")

    def shape(value: object) -> str:
        return str(tuple(value.shape)) if isinstance(value, Tensor) else type(value).__name__

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing ({listing(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected ({listing(unexpected)})")
    if reshaped:
        shown = "; ".join(f"{key} {shape(state[key])} for {tuple(ours[key].shape)}"
                          for key in reshaped[:limit])
        parts.append(f"{len(reshaped)} of another shape ({shown}"
                     f"{'; ...' if len(reshaped) > limit else ''})")
    return ", ".join(parts) or None


def _dilate_stage(stage: nn.Sequential, dilation: int, previous: int) -> None:
    """Replace the stride of ``stage`` by dilation (DeepLab's output-stride trick), in place.

    The strided 3x3 conv (and the 1x1 downsample conv) get stride 1; the strided conv keeps the
    ``previous`` dilation and every 3x3 conv after it gets ``dilation``, which is what
    torchvision's ``replace_stride_with_dilation`` does for Bottleneck blocks (and, for
    BasicBlock, which torchvision does not dilate, keeps the receptive field of the strided
    network).
    """
    seen_stride = False
    for module in stage.modules():
        if not isinstance(module, nn.Conv2d):
            continue
        if module.stride == (2, 2):
            module.stride = (1, 1)
            if module.kernel_size == (3, 3):
                module.dilation, module.padding = (previous, previous), (previous, previous)
                seen_stride = True
            continue
        if module.kernel_size == (3, 3) and seen_stride:
            module.dilation, module.padding = (dilation, dilation), (dilation, dilation)


class FeatureExtractor(nn.Module):
    """4-channel ResNet: ``(image (B,3,H,W) in [0,1], mask (B,1,H,W)) -> {level: features}``.

    Args:
        backbone: ``resnet18``, ``resnet34``, ``resnet50`` or ``resnet101`` (paper).
        output_stride: 8, 16 (default) or 32; stride of ``res5``.
        weights: ``"imagenet"``, a path, or ``None``.
        frozen: start frozen (no gradients, BatchNorm in eval mode).
        normalize_input: apply ImageNet mean/std to the image inside the module.
        top_level: ``res5`` (default) or ``res4``: stop there, without building the stages
            after it (a smaller, faster extractor for CPU runs).

    Attributes:
        channels: ``{level: C_l}``; strides: ``{level: stride}``.
    """

    def __init__(
        self,
        backbone: Backbone = "resnet101",
        output_stride: OutputStride = 16,
        weights: str | Path | None = None,
        frozen: bool = False,
        normalize_input: bool = True,
        top_level: TopLevel = "res5",
    ) -> None:
        super().__init__()
        if top_level not in TOP_LEVELS:
            raise ValueError(f"top_level must be one of {TOP_LEVELS}, got {top_level!r}")
        self.top_level = top_level
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r} (known: {list(BACKBONES)})")
        if output_stride not in OUTPUT_STRIDES:
            raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}, got {output_stride}")
        net = _BUILDERS[backbone][0](weights=None)
        self.backbone_name = backbone
        self.output_stride = output_stride
        self.normalize_input = normalize_input
        self.conv1 = net.conv1  # RGB part, (64, 3, 7, 7)
        self.conv1_mask = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
        nn.init.zeros_(self.conv1_mask.weight)  # the RGB path is unchanged at the start
        self.bn1, self.relu, self.maxpool = net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3 = net.layer1, net.layer2, net.layer3
        self.layer4 = net.layer4 if top_level == "res5" else None
        self.channels = dict(BACKBONE_CHANNELS[backbone])
        self.strides = {"res2": 4, "res3": 8, "res4": 16, "res5": 32}
        if self.layer4 is None:
            del self.channels["res5"], self.strides["res5"]
        elif output_stride <= 16:
            _dilate_stage(self.layer4, dilation=32 // output_stride, previous=16 // output_stride)
            self.strides["res5"] = output_stride
        if output_stride == 8:
            _dilate_stage(self.layer3, dilation=2, previous=1)
            self.strides["res4"] = 8
            if self.layer4 is not None:
                self.strides["res5"] = 8
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)
        if weights is not None:
            self.load_weights(weights)
        self.frozen = False
        self.set_frozen(frozen)

    def load_weights(self, weights: str | Path) -> None:
        """Load ``"imagenet"`` or a local state dict; the fc layer is dropped, the mask conv
        keeps its value when the file has none (zero for a torchvision file)."""
        if str(weights) == "imagenet":
            state, source = _imagenet_state_dict(self.backbone_name), "ImageNet weights"
        elif str(weights) == "foundation":
            path = weights_file(weights)
            if not path.is_file():
                raise WeightsUnavailableError(
                    f"the foundation weights {path} are missing: they ship with the "
                    "repository (git checkout checkpoints/), or train them with the commands "
                    "in configs/foundation_tiny.yaml")
            state, source = load_backbone_state(path), f"the foundation {path}"
            if self.backbone_name != "resnet18" or self.layer4 is not None:
                raise WeightsUnavailableError(
                    f"{source} is a resnet18 extractor up to res4 (the tiny preset); this model "
                    f"is a {self.backbone_name} up to {self.top_level}")
        else:
            state, source = load_backbone_state(weights), str(weights)
        dropped = ("fc.",) if self.layer4 is not None else ("fc.", "layer4.")
        state = {k: v for k, v in state.items() if not k.startswith(dropped)}
        problem = state_dict_mismatch(self, state, ignore_missing=("conv1_mask.weight",))
        if problem:
            raise WeightsUnavailableError(
                f"{source} do not fit a {self.backbone_name} extractor up to "
                f"{self.top_level}: {problem}")
        self.load_state_dict(state, strict=False)

    def set_frozen(self, frozen: bool = True) -> None:
        """Freeze (no gradients, BatchNorm in eval mode) or unfreeze the whole extractor."""
        self.frozen = frozen
        for parameter in self.parameters():
            parameter.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> FeatureExtractor:
        super().train(mode)
        if getattr(self, "frozen", False):
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def rgb_parameters(self) -> list[nn.Parameter]:
        """Every parameter except the mask conv: torchvision's ResNet without ``fc``."""
        return [p for name, p in self.named_parameters() if not name.startswith("conv1_mask")]

    def forward(self, image: Tensor, mask: Tensor | None = None) -> dict[str, Tensor]:
        """``image`` (B,3,H,W) RGB in [0,1], ``mask`` (B,1,H,W) in [0,1] (``None`` = zeros).

        ``image`` may have batch 1 for B masks: its RGB convolution runs once, shared.
        """
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"image must be (B, 3, H, W), got {tuple(image.shape)}")
        if mask is not None and (
            mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[-2:] != image.shape[-2:]
            or image.shape[0] not in (1, mask.shape[0])
        ):
            raise ValueError(
                f"mask must be (B, 1, H, W) matching image {tuple(image.shape)} (or image batch "
                f"1), got {tuple(mask.shape)}"
            )
        x = (image - self.mean) / self.std if self.normalize_input else image
        x = self.conv1(x)  # (B or 1, 64, H/2, W/2)
        if mask is not None:
            x = x + self.conv1_mask(mask.to(x.dtype))  # (B, 64, H/2, W/2): RGB part broadcast
        x = self.maxpool(self.relu(self.bn1(x)))  # (B, 64, H/4, W/4)
        res2 = self.layer1(x)  # (B, C2, H/4, W/4)
        res3 = self.layer2(res2)  # (B, C3, H/8, W/8)
        res4 = self.layer3(res3)  # (B, C4, H/16, W/16) at output stride >= 16
        if self.layer4 is None:
            return {"res2": res2, "res3": res3, "res4": res4}
        res5 = self.layer4(res4)  # (B, C5, H/os, W/os)
        return {"res2": res2, "res3": res3, "res4": res4, "res5": res5}
