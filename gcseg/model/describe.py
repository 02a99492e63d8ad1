"""Sizes of the network: module tree, parameters per module and variant, FLOPs per frame.

``describe("paper")`` (``python -m gcseg describe --preset paper``) returns a text report:

1. the module tree of the ``full`` variant (two levels deep) with parameter counts;
2. parameters per module for each variant of Table V, and the check that the extractor's RGB
   part is exactly torchvision's ResNet without its ``fc`` layer (the mask conv adds 64·7·7);
3. FLOPs of the inference path per variant at the preset's frame size: ``encode_frame`` (the
   backbone, once per frame), ``predict`` with one cached reference, ``summarize_reference``
   (per frame kept as a reference), and the per-frame total with 1 + n references.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matrix
products, 2 FLOPs per multiply-add; element-wise operations, softmax, interpolation and ROI
pooling are not counted). By default the model is built on the ``meta`` device: shapes only, no
memory, no arithmetic, so the paper preset at 480x854 takes a second or two on a CPU.
"""

from __future__ import annotations

import dataclasses

import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from gcseg.config import NUM_REFERENCES, VARIANTS, GCSegConfig, load_config
from gcseg.model.gcseg import GCSeg

__all__ = [
    "build_unweighted",
    "count_parameters",
    "describe",
    "frame_flops",
    "module_parameters",
    "module_tree",
    "torchvision_backbone_parameters",
    "zero_frame",
]

MODULES = ("extractor", "coseg", "mask_encoder", "reference", "decoder", "aux_decoder",
           "judgment")


def count_parameters(module: nn.Module | None, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (0 for ``None``)."""
    if module is None:
        return 0
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def module_parameters(model: GCSeg) -> dict[str, int]:
    """Parameters per box of Figure 1; the extractor split into RGB part and mask conv."""
    out = {
        "extractor (RGB)": sum(p.numel() for p in model.extractor.rgb_parameters()),
        "extractor (mask conv)": count_parameters(model.extractor.conv1_mask),
    }
    for name in MODULES[1:]:
        out[name] = count_parameters(getattr(model, name))
    out["total"] = count_parameters(model)
    out["trainable"] = count_parameters(model, trainable_only=True)
    return out


def torchvision_backbone_parameters(backbone: str, top_level: str = "res5") -> int:
    """Parameters of torchvision's ``backbone`` minus its ``fc`` layer (built on meta), and
    minus ``layer4`` when the extractor stops at ``res4``."""
    with torch.device("meta"):
        net = getattr(torchvision.models, backbone)(weights=None)
    dropped = count_parameters(net.fc) + (count_parameters(net.layer4) if top_level == "res4"
                                          else 0)
    return count_parameters(net) - dropped


def module_tree(model: nn.Module, depth: int = 2) -> str:
    """The module tree to ``depth`` levels, with parameter counts."""
    lines = [f"{type(model).__name__}: {count_parameters(model):,}"]

    def walk(module: nn.Module, prefix: str, level: int) -> None:
        children = [(n, c) for n, c in module.named_children()]
        for i, (name, child) in enumerate(children):
            last = i == len(children) - 1
            label = f"{prefix}{'└─ ' if last else '├─ '}{name}: {type(child).__name__}"
            lines.append(f"{label:<58} {count_parameters(child):>12,}")
            if level < depth:
                walk(child, prefix + ("   " if last else "│  "), level + 1)

    walk(model, "", 1)
    return "\n".join(lines)


def _count(fn) -> tuple[int, object]:
    with FlopCounterMode(display=False) as counter:
        result = fn()
    return counter.get_total_flops(), result


def frame_flops(model: GCSeg, image_size: tuple[int, int], num_refs: int = NUM_REFERENCES,
                device: torch.device | str = "meta", reference_fusion: str = "predictions"
                ) -> dict[str, int]:
    """FLOPs of the inference path for one frame of ``image_size`` (H, W), one object.

    Keys: ``encode_frame``, ``predict`` (one reference), ``heads`` (the 1 + num_refs references
    in one batch, as the engine runs them: the frame-only parts of the Reference Module once,
    the rest per reference; with ``reference_fusion="features"`` the decoder once),
    ``summarize_reference``, and ``per_frame`` = encode + heads + summarize (``baseline``, which
    reads no reference: encode + predict).
    """
    image, mask = zero_frame(image_size, device)
    with torch.no_grad():
        encode, features = _count(lambda: model.encode_frame(image, mask))
        summarize, summary = _count(lambda: model.summarize_reference(features, mask))
        predict, _ = _count(lambda: model.predict(features, summary))
        if not model.uses_two_frames:
            return {"encode_frame": encode, "predict": predict, "heads": predict,
                    "summarize_reference": 0, "per_frame": encode + predict}
        refs = summary.expand(1 + num_refs)
        if reference_fusion == "features":
            weights = torch.full((1 + num_refs, 1), 1 / (1 + num_refs), device=device)
            heads, _ = _count(lambda: model.predict_mean(features, refs, weights))
        else:
            heads, _ = _count(lambda: model.predict(features, refs))
    return {
        "encode_frame": encode,
        "predict": predict,
        "heads": heads,
        "summarize_reference": summarize,
        "per_frame": encode + heads + summarize,
    }


def build_unweighted(config: GCSegConfig, variant: str, device: str) -> GCSeg:
    """The ``variant`` model of ``config`` in eval mode, built on ``device`` (``"meta"``:
    no memory), weights never loaded: what the reports measure."""
    model_config = dataclasses.replace(config.model, variant=variant, weights=None)
    with torch.device(device):
        return GCSeg(model_config).eval()


def zero_frame(image_size: tuple[int, int], device: str | torch.device = "meta",
               batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """``(image, mask)`` of zeros, ``(batch, 3, H, W)`` and ``(batch, 1, H, W)``; on a real
    device the mask holds a box (a quarter of the frame) so that every step has an object."""
    height, width = image_size
    image = torch.zeros(batch, 3, height, width, device=device)
    mask = torch.zeros(batch, 1, height, width, device=device)
    if str(device) != "meta":
        mask[..., height // 4: height // 2, width // 4: width // 2] = 1.0
    return image, mask


def describe(preset_or_config: str | GCSegConfig = "tiny", device: str = "meta") -> str:
    """The text report of the module docstring for a preset name, YAML path or config.

    Args:
        preset_or_config: ``"paper"``, ``"tiny"``, a YAML path, or a :class:`GCSegConfig`.
        device: where models are built and FLOPs counted; ``"meta"`` (default) computes
            nothing, ``"cpu"``/``"cuda"`` run real (zero) frames. Weights are never loaded.
    """
    config = load_config(preset_or_config)
    m = config.model
    height, width = config.data.frame_size
    models = {variant: build_unweighted(config, variant, device) for variant in VARIANTS}
    out = [
        f"GCSeg, preset {config.name!r}: {m.backbone}, output stride {m.output_stride}, "
        f"frames {height}x{width}, heads coseg {m.coseg_dim} / ref {m.ref_dim} / "
        f"decoder {m.decoder_dim}, co-seg levels {', '.join(m.coseg_levels)}",
        "",
        "Module tree (variant 'full'):",
        module_tree(models["full"]),
        "",
    ]
    counts = {variant: module_parameters(model) for variant, model in models.items()}
    rows = list(counts["full"])
    out.append("Parameters per module:")
    out.append(f"{'module':<24}" + "".join(f"{v:>14}" for v in VARIANTS))
    for row in rows:
        out.append(f"{row:<24}" + "".join(f"{counts[v][row]:>14,}" for v in VARIANTS))
    rgb = counts["full"]["extractor (RGB)"]
    reference = torchvision_backbone_parameters(m.backbone, m.top_level)
    mask_conv = counts["full"]["extractor (mask conv)"]
    verdict = "matches" if rgb == reference else "DOES NOT MATCH"
    out += [
        "",
        f"Backbone check: extractor RGB part {rgb:,} {verdict} torchvision {m.backbone} without "
        f"fc{'' if m.top_level == 'res5' else ' and layer4'} ({reference:,}); "
        f"mask conv {mask_conv:,} = 64*7*7 = {64 * 7 * 7:,}.",
        "",
        f"FLOPs per frame, inference path at {height}x{width} (GFLOPs; 1 GFLOP = 1e9 FLOPs, "
        f"2 per multiply-add; n = {config.inference.num_refs} references + frame 0):",
    ]
    flops = {v: frame_flops(model, (height, width), config.inference.num_refs, device)
             for v, model in models.items()}
    out.append(f"{'step':<24}" + "".join(f"{v:>14}" for v in VARIANTS))
    n = config.inference.num_refs
    for key, label in (("encode_frame", "encode_frame"), ("predict", "predict (1 ref)"),
                       ("heads", f"heads (1+{n} refs)"),
                       ("summarize_reference", "summarize_reference"),
                       ("per_frame", f"per frame (1+{n} refs)")):
        out.append(f"{label:<24}" + "".join(f"{flops[v][key] / 1e9:>14.3f}" for v in VARIANTS))
    out += [
        "",
        "per frame = encode_frame + heads + summarize_reference (the frame's summary, kept for",
        "later frames); heads = predict on the 1 + n references in one batch, the Reference",
        "Module's frame-only parts once; baseline reads no reference: encode_frame + predict.",
        "Counted: convolutions and matrix products only.",
    ]
    return "\n".join(out)
