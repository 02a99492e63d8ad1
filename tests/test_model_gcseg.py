"""The whole network: variants, gradients, inference vs training forward, loss, sizes."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from gcseg.config import VARIANTS, ModelConfig, get_preset
from gcseg.model import (
    GCSeg,
    ReferenceSummary,
    WeightsUnavailableError,
    bce_from_logits,
    gcseg_loss,
    gcseg_loss_terms,
)
from gcseg.model.describe import (
    describe,
    frame_flops,
    module_parameters,
    torchvision_backbone_parameters,
)


def small_config(variant: str = "full", backbone: str = "resnet18", **changes) -> ModelConfig:
    return ModelConfig(variant=variant, backbone=backbone, weights=None, coseg_dim=16,
                       ref_dim=16, decoder_dim=16, gcn_kernel=3, aspp_rates=(1, 2), **changes)


def pair(batch: int, size: tuple[int, int], seed: int = 0) -> tuple[torch.Tensor, ...]:
    """(I_t, M_{t-1}, I_ref, M_ref, GT_t) with boxes of object pixels."""
    generator = torch.Generator().manual_seed(seed)
    height, width = size
    images = torch.rand(2, batch, 3, height, width, generator=generator)
    masks = torch.zeros(3, batch, 1, height, width)
    for b in range(batch):
        for k in range(3):
            top, left = 4 + 3 * b + 2 * k, 8 + 2 * b + 3 * k
            masks[k, b, :, top:top + height // 3, left:left + width // 3] = 1.0
    return images[0], masks[0], images[1], masks[1], masks[2]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("backbone", "size"), [("resnet18", (64, 96)), ("resnet34", (96, 128))])
def test_forward_and_predict_shapes(variant, backbone, size):
    torch.manual_seed(0)
    model = GCSeg(small_config(variant, backbone)).eval()
    img_t, prev, img_r, mask_r, _ = pair(2, size)
    with torch.no_grad():
        out = model(img_t, prev, img_r, mask_r)
        features = model.encode_frame(img_t, prev)
        refs = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r)
        prob, internals = model.predict(features, refs if variant != "baseline" else None)
    assert prob.shape == out.m_t.prob.shape == (2, 1, *size)
    assert out.m_t.logits.shape == (2, 2, *size)
    grid = (math.ceil(size[0] / 16), math.ceil(size[1] / 16))
    two_frames, coseg = variant != "baseline", variant in ("coseg", "full")
    reference = variant in ("ref", "full")
    assert (out.m_ref is not None) == two_frames
    assert (out.aux_t is not None) == (out.aux_ref is not None) == coseg
    if coseg:
        assert internals.G.shape == (2, 16, *grid)
        assert internals.coseg_vectors["res3"].shape == (2, 128)
        assert refs.f["res5"].shape == (2, 512)
        assert out.aux_t.prob.shape == (2, 1, *size)
    if reference:
        assert refs.r.shape == (2, 512)
        assert internals.D1.shape == internals.D1_attended.shape == (2, 1, *grid)
        assert internals.R1.shape == internals.R2.shape == (2, 16, *grid)
        assert internals.roi_boxes.shape == (2, 10, 4)
        assert internals.roi_features.shape == (2, 10, 512)
    if two_frames:
        assert refs.valid.tolist() == [True, True]
        assert refs.object_vector.shape == (2, 512)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_reach_every_trainable_parameter(variant):
    torch.manual_seed(0)
    model = GCSeg(small_config(variant)).train()
    img_t, prev, img_r, mask_r, gt_t = pair(2, (64, 96))
    out = model(img_t, prev, img_r, mask_r)
    loss = gcseg_loss(out, gt_t, mask_r)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.requires_grad, name
        assert parameter.grad is not None, f"no gradient reaches {name}"
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, f"zero gradient at {name}"


def test_frozen_backbone_trains_the_heads_only():
    torch.manual_seed(0)
    model = GCSeg(small_config("full", freeze_backbone=True)).train()
    assert not model.extractor.bn1.training
    img_t, prev, img_r, mask_r, gt_t = pair(1, (64, 96))
    gcseg_loss(model(img_t, prev, img_r, mask_r), gt_t, mask_r).backward()
    assert all(p.grad is None for p in model.extractor.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())
    counts = module_parameters(model)
    assert counts["trainable"] == counts["total"] - sum(
        p.numel() for p in model.extractor.parameters())


@pytest.mark.parametrize("variant", VARIANTS)
def test_inference_with_cached_summaries_equals_training_forward(variant):
    """M_t from (features of I_t, cached r and f of the reference) = the training forward's."""
    torch.manual_seed(0)
    model = GCSeg(small_config(variant)).eval()
    img_t, prev, img_r, mask_r, _ = pair(2, (64, 96), seed=3)
    with torch.no_grad():
        out = model(img_t, prev, img_r, mask_r)
        features_t = model.encode_frame(img_t, prev)
        features_r = model.encode_frame(img_r, mask_r)
        cached = model.summarize_reference(features_r, mask_r).compact()  # O(C) per frame
        prob, internals = model.predict(features_t, cached, with_aux=True)
    torch.testing.assert_close(prob, out.m_t.prob, rtol=1e-4, atol=1e-5)
    if out.aux_t is not None:
        torch.testing.assert_close(internals.aux.prob, out.aux_t.prob, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(internals.logits, out.m_t.logits, rtol=1e-4, atol=1e-4)
    if variant in ("ref", "full"):
        torch.testing.assert_close(internals.D1, out.internals_t.D1, rtol=1e-4, atol=1e-4)
    if variant != "baseline":
        # M_{t-n}: the reference frame's features attended by the target's vectors f_t.
        with torch.no_grad():
            as_other = dataclasses.replace(cached, f=model.coseg.vectors(features_t)
                                           if model.coseg is not None else {})
            prob_ref, _ = model.predict(features_r, as_other)
        torch.testing.assert_close(prob_ref, out.m_ref.prob, rtol=1e-4, atol=1e-5)


def test_predict_broadcasts_many_references_over_one_frame():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    img_t, prev, img_r, mask_r, _ = pair(3, (64, 96), seed=1)
    with torch.no_grad():
        features = model.encode_frame(img_t[:1], prev[:1])
        refs = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r).compact()
        together, _ = model.predict(features, refs)  # 1 frame x 3 references
        one_by_one = torch.cat([model.predict(features, refs.select(i))[0] for i in range(3)])
    assert together.shape == (3, 1, 64, 96)
    torch.testing.assert_close(together, one_by_one, rtol=1e-4, atol=1e-5)
    stacked = ReferenceSummary.cat([refs.select(0), refs.select(2)])
    assert stacked.batch_size == 2 and stacked.roi_features is None


@pytest.mark.parametrize("variant", ["ref", "coseg", "full"])
def test_predict_reads_m_references_against_k_objects_without_repeating_features(variant):
    """K = 2 objects' features against 3 references each (6 reference rows, reference-major):
    equal to the features repeated, and to each (reference, object) pair alone."""
    torch.manual_seed(0)
    model = GCSeg(small_config(variant)).eval()
    img_t, prev, img_r, mask_r, _ = pair(6, (64, 96), seed=3)
    with torch.no_grad():
        features = model.encode_frame(img_t[:2], prev[:2])  # K = 2 rows
        refs = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r).compact()
        together, _ = model.predict(features, refs)  # (6, 1, H, W)
        repeated, _ = model.predict(features.map(lambda x: torch.cat([x] * 3)), refs)
        pairs = torch.cat([model.predict(features.map(lambda x, o=j % 2: x[o:o + 1]),
                                         refs.select(j))[0]
                           for j in range(6)])
    torch.testing.assert_close(together, repeated, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(together, pairs, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="multiple"):
        model.predict(features, refs.select(0).expand(3))


def test_predict_mean_decodes_the_weighted_mean_of_the_decoder_inputs():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    img_t, prev, img_r, mask_r, _ = pair(6, (64, 96), seed=4)
    weights = torch.tensor([[0.5, 1.0], [0.0, 0.0], [0.5, 0.0]])  # (m = 3, K = 2)
    with torch.no_grad():
        features = model.encode_frame(img_t[:2], prev[:2])
        refs = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r).compact()
        prob, internals = model.predict_mean(features, refs, weights)
        _, each = model.predict(features, refs)  # (6, ...) decoder inputs per pair
        inputs = each.decoder_input.view(3, 2, *each.decoder_input.shape[1:])
        mean = (inputs * weights[:, :, None, None, None]).sum(dim=0)
        expected = model.decoder(mean, features.image_size).prob
        single, _ = model.predict(features, refs.select(slice(0, 2)))
        first, _ = model.predict_mean(features, refs.select(slice(0, 2)), torch.ones(1, 2))
    assert prob.shape == (2, 1, 64, 96) and internals.decoder_input.shape[0] == 2
    torch.testing.assert_close(prob, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(first, single, rtol=1e-4, atol=1e-5)  # one reference: predict
    with pytest.raises(ValueError, match="weights"):
        model.predict_mean(features, refs, torch.ones(2, 3))
    with pytest.raises(ValueError, match="no references"):
        GCSeg(small_config("baseline")).predict_mean(features, refs, weights)


def test_summaries_replace_select_and_count_their_rows():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    _, _, img_r, mask_r, other_mask = pair(3, (64, 96), seed=2)
    with torch.no_grad():
        features = model.encode_frame(img_r, mask_r)
        base = model.summarize_reference(features, mask_r).compact()
        fresh = model.summarize_reference(features, other_mask).compact()
    rows = torch.tensor([False, True, False])
    mixed = base.replace_rows(rows, fresh.select(1))
    for index, source in ((0, base), (1, fresh), (2, base)):
        torch.testing.assert_close(mixed.select(index).r, source.select(index).r)
        torch.testing.assert_close(mixed.select(index).f, source.select(index).f)
        torch.testing.assert_close(mixed.select(index).boxes, source.select(index).boxes)
    assert mixed.roi_features is None  # compact: stays without the per-ROI features
    assert base.r[1].ne(mixed.r[1]).any()  # a copy: base is unchanged
    assert base.numel() == sum(t.numel() for t in base.tensors()) > 0
    assert base.nbytes() == sum(t.numel() * t.element_size() for t in base.tensors())


def test_frame_features_are_replaced_and_expanded_as_new_objects():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    img_t, prev, _, _, _ = pair(2, (64, 96))
    with torch.no_grad():
        features = model.encode_frame(img_t, prev)
        again = model.encode_frame(img_t[1:], torch.zeros_like(prev[1:]))
    kept = {level: tensor.clone() for level, tensor in features.items()}
    mixed = features.replace_rows(torch.tensor([False, True]), again)
    for level in features:
        torch.testing.assert_close(mixed[level][0], kept[level][0])
        torch.testing.assert_close(mixed[level][1], again[level][0])
        torch.testing.assert_close(features[level], kept[level])  # the original is unchanged
    assert features.map(lambda t: t[:1]).expand(4).batch_size == 4
    with pytest.raises(TypeError):
        features.levels["res3"] = features["res2"]  # read-only mapping


def test_empty_reference_mask_is_marked_invalid():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    img_t, prev, img_r, mask_r, _ = pair(2, (64, 96))
    mask_r[1] = 0.0
    with torch.no_grad():
        refs = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r)
    assert refs.valid.tolist() == [True, False]
    assert torch.all(refs.r[1] == 0)


def test_judge_uses_the_first_frame_summary():
    torch.manual_seed(0)
    model = GCSeg(small_config("full")).eval()
    img_t, prev, img_r, mask_r, _ = pair(1, (64, 96))
    with torch.no_grad():
        first = model.summarize_reference(model.encode_frame(img_r, mask_r), mask_r)
        same = model.judge(model.encode_frame(img_r, mask_r), mask_r, first)
        empty = model.judge(model.encode_frame(img_t, None), torch.zeros_like(prev), first)
    assert same.score.item() == pytest.approx(1.0, abs=1e-5) and same.reliable.item()
    assert math.isnan(empty.score.item()) and not empty.reliable.item()


def test_bce_by_hand_and_against_torch():
    logits = torch.zeros(1, 2, 1, 2)
    logits[0, 1, 0, :] = math.log(3.0)  # p(foreground) = 3/4 at both pixels
    target = torch.tensor([[[[1.0, 0.0]]]])
    expected = (-math.log(0.75) - math.log(0.25)) / 2
    assert bce_from_logits(logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert bce_from_logits(logits, target, "sum").item() == pytest.approx(2 * expected, rel=1e-6)
    void = torch.tensor([[[[1.0, 255.0]]]])  # DAVIS void pixel left out
    assert bce_from_logits(logits, void).item() == pytest.approx(-math.log(0.75), rel=1e-6)
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 5, 7)
    target = (torch.rand(2, 1, 5, 7) > 0.5).float()
    prob = torch.softmax(logits, 1)[:, 1:2]
    torch.testing.assert_close(bce_from_logits(logits, target),
                               F.binary_cross_entropy(prob, target))


@pytest.mark.parametrize(("variant", "terms"), [
    ("baseline", ["m_t"]), ("ref", ["m_t", "m_ref"]),
    ("coseg", ["m_t", "m_ref", "aux_t", "aux_ref"]), ("full", ["m_t", "m_ref", "aux_t", "aux_ref"]),
])
def test_loss_sums_the_terms_of_the_variant(variant, terms):
    torch.manual_seed(0)
    model = GCSeg(small_config(variant)).eval()
    img_t, prev, img_r, mask_r, gt_t = pair(1, (64, 96))
    with torch.no_grad():
        out = model(img_t, prev, img_r, mask_r)
        parts = gcseg_loss_terms(out, gt_t, mask_r)
        total = gcseg_loss(out, gt_t, mask_r)
    assert list(parts) == terms
    torch.testing.assert_close(total, sum(parts.values()))
    expected = F.binary_cross_entropy(out.m_t.prob, gt_t)
    torch.testing.assert_close(parts["m_t"], expected, rtol=1e-5, atol=1e-6)


def test_no_aux_decoder_option():
    model = GCSeg(small_config("full", aux_decoder=False))
    assert model.aux_decoder is None
    img_t, prev, img_r, mask_r, gt_t = pair(1, (64, 96))
    with torch.no_grad():
        out = model.eval()(img_t, prev, img_r, mask_r)
    assert list(out.outputs()) == ["m_t", "m_ref"]


def test_two_frame_variants_require_a_reference():
    model = GCSeg(small_config("ref")).eval()
    img_t, prev, _, _, _ = pair(1, (64, 96))
    with pytest.raises(ValueError, match="needs ref_img"):
        model(img_t, prev)
    with pytest.raises(ValueError, match="needs reference summaries"):
        model.predict(model.encode_frame(img_t, prev), None)


def test_resnet101_extractor_count_matches_torchvision():
    """The paper's backbone, counted on the meta device (no memory, no forward)."""
    with torch.device("meta"):
        model = GCSeg(ModelConfig(weights=None))
    counts = module_parameters(model)
    assert counts["extractor (RGB)"] == torchvision_backbone_parameters("resnet101")
    assert counts["extractor (RGB)"] == 42_500_160  # torchvision resnet101 minus fc
    assert counts["extractor (mask conv)"] == 64 * 7 * 7


def test_describe_tiny_report():
    text = describe(get_preset("tiny"))
    assert "resnet18" in text and "240x432" in text
    assert "matches torchvision resnet18 without fc and layer4 (2,782,784)" in text
    for variant in VARIANTS:
        assert variant in text
    assert "encode_frame" in text and "per frame" in text
    assert "├─ extractor: FeatureExtractor" in text


def test_flops_on_meta_equal_flops_on_real_tensors():
    config = small_config("full")
    with torch.device("meta"):
        on_meta = GCSeg(config).eval()
    torch.manual_seed(0)
    on_cpu = GCSeg(config).eval()
    counted_meta = frame_flops(on_meta, (64, 96), num_refs=3, device="meta")
    counted_cpu = frame_flops(on_cpu, (64, 96), num_refs=3, device="cpu")
    assert counted_meta == counted_cpu
    assert counted_meta["per_frame"] == (counted_meta["encode_frame"] + counted_meta["heads"]
                                         + counted_meta["summarize_reference"])
    # the frame-only parts once: less than four predicts, more than one
    assert counted_meta["predict"] < counted_meta["heads"] < 4 * counted_meta["predict"]
    fused = frame_flops(on_meta, (64, 96), num_refs=3, reference_fusion="features")
    assert fused["heads"] < counted_meta["heads"]  # the decoder once
    assert fused["predict"] == counted_meta["predict"]


def test_paper_preset_offline_fails_fast_with_instructions(tmp_path, monkeypatch):
    from gcseg.model import feature_extractor

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(feature_extractor, "_network_available", lambda *a, **k: False)
    with pytest.raises(WeightsUnavailableError, match="resnet101"):
        GCSeg(get_preset("paper"))
