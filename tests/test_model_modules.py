"""The boxes of Figure 1 one by one: shapes, and the equations checked on hand-made tensors."""

from __future__ import annotations

import math
import time

import pytest
import torch
import torchvision
from torch import nn

from gcseg.config import JUDGMENT_THRESHOLD
from gcseg.model import feature_extractor as fe
from gcseg.model.coseg import CoSegmentation, attend_and_project, broadcast_attend
from gcseg.model.decoder import ASPP, Decoder, GlobalConvBlock, ResidualBlock
from gcseg.model.feature_extractor import FeatureExtractor, WeightsUnavailableError
from gcseg.model.judgment import JudgmentModule
from gcseg.model.mask_encoder import MaskEncoder
from gcseg.model.reference import (
    ReferenceModule,
    attend_similarity,
    constant_map_convolution,
    per_reference,
    spatial_softmax,
)
from gcseg.model.roi import grid_boxes, mask_boxes, pool_boxes

SIZES = [(64, 96), (96, 128)]


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


# ----------------------------------------------------------------------------- extractor


@pytest.mark.parametrize("backbone", ["resnet18", "resnet34"])
@pytest.mark.parametrize("size", SIZES)
def test_extractor_shapes(backbone, size):
    torch.manual_seed(0)
    extractor = FeatureExtractor(backbone, output_stride=16).eval()
    height, width = size
    with torch.no_grad():
        out = extractor(torch.rand(2, 3, height, width), torch.rand(2, 1, height, width))
    strides = {"res2": 4, "res3": 8, "res4": 16, "res5": 16}
    for level, stride in strides.items():
        # Each stride-2 layer rounds up: (H + 1) // 2 at each step.
        h, w = height, width
        for _ in range(int(math.log2(stride))):
            h, w = ceil_div(h, 2), ceil_div(w, 2)
        assert out[level].shape == (2, extractor.channels[level], h, w), level
    assert extractor.channels == {"res2": 64, "res3": 128, "res4": 256, "res5": 512}


@pytest.mark.parametrize(("output_stride", "grid"), [(8, (8, 12)), (16, (4, 6)), (32, (2, 3))])
def test_extractor_output_stride(output_stride, grid):
    extractor = FeatureExtractor("resnet18", output_stride=output_stride).eval()
    with torch.no_grad():
        out = extractor(torch.rand(1, 3, 64, 96))
    assert out["res5"].shape[-2:] == grid
    assert extractor.strides["res5"] == output_stride


@pytest.mark.parametrize(("output_stride", "dilate"), [(16, [False, False, True]),
                                                        (8, [False, True, True])])
def test_dilation_matches_torchvision(output_stride, dilate):
    """Our stride-to-dilation surgery equals torchvision's replace_stride_with_dilation."""
    torch.manual_seed(0)
    ours = FeatureExtractor("resnet50", output_stride=output_stride, normalize_input=False).eval()
    theirs = torchvision.models.resnet50(replace_stride_with_dilation=dilate).eval()
    theirs.load_state_dict(
        {**ours.state_dict(), "fc.weight": theirs.fc.weight, "fc.bias": theirs.fc.bias},
        strict=False,
    )
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = theirs.layer4(theirs.layer3(theirs.layer2(theirs.layer1(
            theirs.maxpool(theirs.relu(theirs.bn1(theirs.conv1(x))))))))
        got = ours(x)["res5"]
    torch.testing.assert_close(got, expected)


def test_zero_mask_conv_leaves_rgb_path_unchanged():
    """conv1_mask starts at zero: any mask gives torchvision's ResNet features exactly."""
    torch.manual_seed(0)
    ours = FeatureExtractor("resnet18", output_stride=32).eval()
    reference = torchvision.models.resnet18().eval()
    reference.load_state_dict({**ours.state_dict(), "fc.weight": reference.fc.weight,
                               "fc.bias": reference.fc.bias}, strict=False)
    assert torch.count_nonzero(ours.conv1_mask.weight) == 0
    image = torch.rand(2, 3, 64, 96)
    normalized = (image - ours.mean) / ours.std
    with torch.no_grad():
        x = reference.maxpool(reference.relu(reference.bn1(reference.conv1(normalized))))
        expected = {"res2": reference.layer1(x)}
        expected["res3"] = reference.layer2(expected["res2"])
        expected["res4"] = reference.layer3(expected["res3"])
        expected["res5"] = reference.layer4(expected["res4"])
        for mask in (None, torch.zeros(2, 1, 64, 96), torch.rand(2, 1, 64, 96),
                     torch.ones(2, 1, 64, 96)):
            out = ours(image, mask)
            for level in expected:
                torch.testing.assert_close(out[level], expected[level], rtol=0, atol=0)


def test_mask_conv_is_a_parallel_channel():
    """With a non-zero mask conv, conv1 output = RGB conv + mask conv (the 4th channel)."""
    extractor = FeatureExtractor("resnet18", normalize_input=False)
    with torch.no_grad():
        extractor.conv1_mask.weight.normal_()
    image, mask = torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 32)
    four = nn.Conv2d(4, 64, 7, 2, 3, bias=False)
    with torch.no_grad():
        four.weight.copy_(torch.cat([extractor.conv1.weight, extractor.conv1_mask.weight], 1))
        expected = four(torch.cat([image, mask], 1))
        got = extractor.conv1(image) + extractor.conv1_mask(mask)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_extractor_freezing_keeps_batchnorm_in_eval():
    extractor = FeatureExtractor("resnet18", frozen=True)
    extractor.train()
    assert not any(p.requires_grad for p in extractor.parameters())
    assert all(not m.training for m in extractor.modules() if isinstance(m, nn.BatchNorm2d))
    extractor.set_frozen(False)
    extractor.train()
    assert all(p.requires_grad for p in extractor.parameters())
    assert all(m.training for m in extractor.modules() if isinstance(m, nn.BatchNorm2d))


def test_extractor_rejects_bad_inputs():
    extractor = FeatureExtractor("resnet18")
    with pytest.raises(ValueError, match=r"image must be \(B, 3, H, W\)"):
        extractor(torch.rand(1, 4, 32, 32))
    with pytest.raises(ValueError, match="mask must be"):
        extractor(torch.rand(1, 3, 32, 32), torch.rand(1, 1, 16, 16))


def test_weights_from_local_torchvision_file(tmp_path):
    torch.manual_seed(1)
    net = torchvision.models.resnet18()
    path = tmp_path / "r18.pth"
    torch.save(net.state_dict(), path)
    extractor = FeatureExtractor("resnet18", weights=path)
    torch.testing.assert_close(extractor.layer4[1].conv2.weight, net.layer4[1].conv2.weight)
    assert torch.count_nonzero(extractor.conv1_mask.weight) == 0
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        FeatureExtractor("resnet18", weights=tmp_path / "missing.pth")
    with pytest.raises(WeightsUnavailableError, match="do not fit"):
        FeatureExtractor("resnet34", weights=path)


def test_weights_file_names_what_model_weights_reads(tmp_path):
    assert fe.weights_file("foundation") == fe.FOUNDATION_PATH
    assert fe.weights_file(str(tmp_path / "r18.pth")) == tmp_path / "r18.pth"
    assert fe.weights_file(None) is None and fe.weights_file("imagenet") is None


def test_imagenet_weights_offline_fail_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(fe, "_network_available", lambda *args, **kwargs: False)
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as error:
        FeatureExtractor("resnet18", weights="imagenet")
    assert time.perf_counter() - start < 5.0
    message = str(error.value)
    assert "resnet18-f37072fd.pth" in message  # the file to fetch
    assert str(tmp_path / "hub" / "checkpoints") in message  # where to put it
    assert "weights=None" in message


def test_imagenet_weights_from_hub_cache(tmp_path, monkeypatch):
    """A cached file is used without touching the network."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def no_network(*args, **kwargs):
        raise AssertionError("the network must not be used when the file is cached")

    monkeypatch.setattr(fe, "_network_available", no_network)
    torch.manual_seed(2)
    net = torchvision.models.resnet18()
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(net.state_dict(), cache / "resnet18-f37072fd.pth")
    extractor = FeatureExtractor("resnet18", weights="imagenet")
    torch.testing.assert_close(extractor.conv1.weight, net.conv1.weight)


def test_network_check_times_out_quickly():
    start = time.perf_counter()
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so the connection cannot open.
    assert fe._network_available(("192.0.2.1", 443), timeout=0.5) is False
    assert time.perf_counter() - start < 3.0


# ----------------------------------------------------------------------------- co-segmentation


def test_broadcast_attend_by_hand():
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]],
                              [[5.0, 6.0], [7.0, 8.0]]]])  # (1, 2, 2, 2)
    vector = torch.tensor([[10.0, -1.0]])  # (1, 2)
    expected = torch.tensor([[[[10.0, 20.0], [30.0, 40.0]],
                              [[-5.0, -6.0], [-7.0, -8.0]]]])
    torch.testing.assert_close(broadcast_attend(features, vector), expected)
    with pytest.raises(ValueError):
        broadcast_attend(features, torch.ones(1, 3))


def test_coseg_vectors_and_g_by_hand():
    """f = FC(avgpool(F)); G1 = F1 ⊙ f2 and G2 = F2 ⊙ f1, both ways."""
    module = CoSegmentation({"res5": 2}, levels=["res5"], out_dim=2, norm="none")
    with torch.no_grad():
        module.fc["res5"].weight.copy_(torch.eye(2))
        module.fc["res5"].bias.zero_()
        conv = module.project[0]
        conv.weight.copy_(torch.eye(2)[:, :, None, None])
        conv.bias.zero_()
    f1 = {"res5": torch.tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])}  # (1, 2, 1, 2): means (2, 2)
    f2 = {"res5": torch.tensor([[[[0.0, 4.0]], [[-1.0, -3.0]]]])}  # means (2, -2)
    v1, v2 = module.vectors(f1), module.vectors(f2)
    torch.testing.assert_close(v1["res5"], torch.tensor([[2.0, 2.0]]))
    torch.testing.assert_close(v2["res5"], torch.tensor([[2.0, -2.0]]))
    g1, levels1 = module(f1, v2)
    g2, _ = module(f2, v1)
    torch.testing.assert_close(levels1["res5"], torch.tensor([[[[2.0, 6.0]], [[-4.0, -4.0]]]]))
    # The projection block ends with a ReLU: negative channels are clipped.
    torch.testing.assert_close(g1, torch.tensor([[[[2.0, 6.0]], [[0.0, 0.0]]]]))
    torch.testing.assert_close(g2, torch.tensor([[[[0.0, 8.0]], [[0.0, 0.0]]]]))


@pytest.mark.parametrize("size", SIZES)
def test_coseg_shapes(size):
    torch.manual_seed(0)
    channels = {"res3": 8, "res4": 16, "res5": 32}
    module = CoSegmentation(channels, out_dim=12)
    h, w = size
    features = {"res3": torch.rand(3, 8, h // 8, w // 8), "res4": torch.rand(3, 16, h // 16,
                w // 16), "res5": torch.rand(3, 32, h // 16, w // 16)}
    vectors = module.vectors(features)
    assert {k: tuple(v.shape) for k, v in vectors.items()} == {
        "res3": (3, 8), "res4": (3, 16), "res5": (3, 32)}
    g, levels = module(features, vectors)
    assert g.shape == (3, 12, h // 16, w // 16)
    assert levels["res3"].shape == (3, 8, h // 8, w // 8)


# ----------------------------------------------------------------------------- mask encoder


def _known_mask() -> torch.Tensor:
    mask = torch.zeros(1, 1, 24, 24)
    mask[..., 4:16, 8:20] = 1.0  # rows 4..15, columns 8..19
    return mask


def test_mask_boxes_known_and_empty():
    mask = torch.cat([_known_mask(), torch.zeros(1, 1, 24, 24)])
    boxes, valid = mask_boxes(mask)
    torch.testing.assert_close(boxes, torch.tensor([[8.0, 4.0, 20.0, 16.0], [0.0, 0, 0, 0]]))
    assert valid.tolist() == [True, False]


def test_grid_boxes_are_the_whole_box_and_3x3_cells():
    boxes = grid_boxes(torch.tensor([[8.0, 4.0, 20.0, 16.0]]))
    expected = [[8, 4, 20, 16],
                [8, 4, 12, 8], [12, 4, 16, 8], [16, 4, 20, 8],
                [8, 8, 12, 12], [12, 8, 16, 12], [16, 8, 20, 12],
                [8, 12, 12, 16], [12, 12, 16, 16], [16, 12, 20, 16]]
    torch.testing.assert_close(boxes, torch.tensor([expected], dtype=torch.float32))


def _coordinate_features() -> torch.Tensor:
    """(1, 3, 6, 6): channel 0 = column index, 1 = row index, 2 = ones (stride-4 grid)."""
    cols = torch.arange(6.0).expand(6, 6)
    return torch.stack([cols, cols.T, torch.ones(6, 6)])[None]


def test_mask_encoder_rois_and_r_by_hand():
    """Box (8,4)-(20,16) on a 24x24 frame is cells x 2..4, y 1..3 of the 6x6 grid."""
    encoder = MaskEncoder()
    with torch.no_grad():
        encoder.fuse.weight.copy_(torch.arange(10.0).view(1, 1, 10, 1))
        encoder.fuse.bias.fill_(0.5)
    out = encoder(_coordinate_features(), _known_mask())
    assert out.valid.tolist() == [True]
    torch.testing.assert_close(out.feature_boxes[0, 0], torch.tensor([2.0, 1.0, 5.0, 4.0]))
    # Pooled (column, row, 1): the whole box averages to its centre cell (3, 2); each grid cell
    # is one feature cell.
    cells = [[2 + j, 1 + i, 1.0] for i in range(3) for j in range(3)]
    expected = torch.tensor([[[3.0, 2.0, 1.0], *cells]])
    torch.testing.assert_close(out.roi_features, expected)
    # r = sum_k k * roi_k + 0.5: columns 141, rows 108, ones 45 (worked out in the docs).
    torch.testing.assert_close(out.r, torch.tensor([[141.5, 108.5, 45.5]]))
    # The mask zeroes the background: outside the box the masked features vanish.
    assert out.masked_features[0, 2].sum() == 9.0


def test_mask_encoder_roi_pool_takes_the_max():
    encoder = MaskEncoder(mode="pool")
    out = encoder(_coordinate_features(), _known_mask())
    torch.testing.assert_close(out.roi_features[0, 0], torch.tensor([4.0, 3.0, 1.0]))
    torch.testing.assert_close(out.roi_features[0, 9], torch.tensor([4.0, 3.0, 1.0]))
    torch.testing.assert_close(out.roi_features[0, 1], torch.tensor([2.0, 1.0, 1.0]))


def test_mask_encoder_empty_mask_is_invalid():
    encoder = MaskEncoder()
    with torch.no_grad():
        encoder.fuse.bias.fill_(3.0)  # even with a bias, r must be exactly zero
    features = _coordinate_features().repeat(2, 1, 1, 1)
    mask = torch.cat([torch.zeros(1, 1, 24, 24), _known_mask()])
    out = encoder(features, mask)
    assert out.valid.tolist() == [False, True]
    assert torch.all(out.r[0] == 0)
    assert torch.all(out.r[1] != 0)
    assert out.r.shape == (2, 3) and out.boxes.shape == (2, 10, 4)


# ----------------------------------------------------------------------------- reference module


def test_spatial_softmax_and_attention_eq_1_2_by_hand():
    d1 = torch.log(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))  # exp: 1, 2, 3, 4 (sum 10)
    attention, attended = attend_similarity(d1)
    torch.testing.assert_close(attention, torch.tensor([[[[0.1, 0.2], [0.3, 0.4]]]]))
    expected = torch.tensor([[[[0.0, 0.2 * math.log(2)], [0.3 * math.log(3),
                                                          0.4 * math.log(4)]]]])
    torch.testing.assert_close(attended, expected)


def test_spatial_softmax_is_per_channel():
    x = torch.zeros(1, 2, 1, 2)
    x[0, 1, 0, 1] = math.log(3.0)  # channel 1: exp = (1, 3)
    out = spatial_softmax(x)
    torch.testing.assert_close(out, torch.tensor([[[[0.5, 0.5]], [[0.25, 0.75]]]]))


def _identity_reference(similarity: str, scaled: bool = False) -> ReferenceModule:
    module = ReferenceModule(2, dim=2, similarity=similarity, norm="none", scaled=scaled)
    with torch.no_grad():
        for conv in (module.map_features, module.map_reference):
            conv.weight.copy_(torch.eye(2)[:, :, None, None])
            conv.bias.zero_()
    return module


def test_reference_scaled_similarity_divides_by_sqrt_dim():
    features = torch.tensor([[[[1.0, 0.0]], [[0.0, 2.0]]]])  # (1, 2, 1, 2)
    r = torch.tensor([[1.0, 1.0]])
    _, literal = _identity_reference("matmul")(features, r)
    _, scaled = _identity_reference("matmul", scaled=True)(features, r)
    torch.testing.assert_close(literal.D1, torch.tensor([[[[1.0, 2.0]]]]))
    torch.testing.assert_close(scaled.D1, literal.D1 / math.sqrt(2.0))
    # the per-channel form has no sum over channels and no scale
    _, per_channel = _identity_reference("per_channel", scaled=True)(features, r)
    torch.testing.assert_close(per_channel.D1, features)


def test_reference_upper_stream_matmul_by_hand():
    module = _identity_reference("matmul")
    features = torch.tensor([[[[1.0, 0.0]], [[0.0, math.log(3.0)]]]])  # (1, 2, 1, 2)
    r = torch.tensor([[0.0, 1.0]])
    out, internals = module(features, r)
    # D1 = R'^T F' = (0, ln 3); softmax = (1/4, 3/4); D1' = (0, 3/4 ln 3); R1 = F' + D1'.
    torch.testing.assert_close(internals.D1, torch.tensor([[[[0.0, math.log(3.0)]]]]))
    torch.testing.assert_close(internals.attention, torch.tensor([[[[0.25, 0.75]]]]))
    d1p = 0.75 * math.log(3.0)
    torch.testing.assert_close(internals.D1_attended, torch.tensor([[[[0.0, d1p]]]]))
    torch.testing.assert_close(internals.R1, torch.tensor([[[[1.0, d1p]],
                                                            [[0.0, math.log(3.0) + d1p]]]]))
    assert out.shape == internals.R2.shape == (1, 2, 1, 2)


def test_reference_upper_stream_per_channel_by_hand():
    module = _identity_reference("per_channel")
    features = torch.tensor([[[[1.0, 0.0]], [[0.0, math.log(3.0)]]]])
    r = torch.tensor([[1.0, 1.0]])
    _, internals = module(features, r)
    # D1_c = R'_c F'_c = F'; per-channel softmax: ch0 (e/(e+1), 1/(e+1)), ch1 (1/4, 3/4).
    e = math.e
    torch.testing.assert_close(internals.attention, torch.tensor([[[[e / (e + 1), 1 / (e + 1)]],
                                                                   [[0.25, 0.75]]]]))
    assert internals.D1.shape == (1, 2, 1, 2)


@pytest.mark.parametrize("similarity", ["matmul", "per_channel"])
@pytest.mark.parametrize("size", [(4, 6), (6, 8)])
def test_reference_shapes(similarity, size):
    module = ReferenceModule(32, dim=16, similarity=similarity)
    out, internals = module(torch.rand(3, 32, *size), torch.rand(3, 32))
    channels = 1 if similarity == "matmul" else 16
    assert out.shape == internals.R1.shape == internals.R2.shape == (3, 16, *size)
    assert internals.D1.shape == internals.D1_attended.shape == (3, channels, *size)
    torch.testing.assert_close(internals.attention.sum(dim=(2, 3)), torch.ones(3, channels))


# ----------------------------------------------------------------------------- decoder


def test_global_conv_block_sees_a_k_by_k_square():
    torch.manual_seed(0)
    block = GlobalConvBlock(1, 1, kernel_size=5)
    with torch.no_grad():
        for conv in block.modules():
            if isinstance(conv, nn.Conv2d):
                conv.weight.fill_(1.0)
                conv.bias.zero_()
        impulse = torch.zeros(1, 1, 11, 11)
        impulse[..., 5, 5] = 1.0
        response = block(impulse)[0, 0]
    support = (response != 0).nonzero()
    assert support.min(0).values.tolist() == [3, 3] and support.max(0).values.tolist() == [7, 7]
    torch.testing.assert_close(response[3:8, 3:8], torch.full((5, 5), 2.0))  # both branches


def test_residual_block_is_identity_plus_branch_without_norm():
    block = ResidualBlock(4)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in block.modules())
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(block(x), x)


@pytest.mark.parametrize("image_pool", [True, False])
def test_aspp_shapes(image_pool):
    aspp = ASPP(8, 6, rates=(1, 2, 3), image_pool=image_pool)
    assert len(aspp.branches) == 3
    assert aspp.branches[0][0].kernel_size == (1, 1)
    assert aspp.branches[2][0].dilation == (3, 3)
    assert aspp(torch.rand(1, 8, 5, 7)).shape == (1, 6, 5, 7)


@pytest.mark.parametrize("size", SIZES)
def test_decoder_outputs_two_class_softmax_at_frame_size(size):
    torch.manual_seed(0)
    decoder = Decoder(12, dim=8, gcn_kernel=3, aspp_rates=(1, 2))
    out = decoder(torch.rand(2, 12, size[0] // 16, size[1] // 16), size)
    assert out.logits.shape == (2, 2, *size) and out.prob.shape == (2, 1, *size)
    torch.testing.assert_close(out.prob[:, 0], torch.sigmoid(out.logits[:, 1] - out.logits[:, 0]))


# ----------------------------------------------------------------------------- judgment


def _judgment_inputs(vector_t: list[float]) -> tuple[torch.Tensor, ...]:
    """Frame 0 carries (1, 0) in the box, frame t ``vector_t``; the background differs."""
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1.0
    f0 = torch.tensor([0.0, 5.0]).view(1, 2, 1, 1).repeat(1, 1, 8, 8)
    ft = torch.tensor([-3.0, 2.0]).view(1, 2, 1, 1).repeat(1, 1, 8, 8)
    f0[..., 2:6, 2:6] = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    ft[..., 2:6, 2:6] = torch.tensor(vector_t).view(1, 2, 1, 1)
    return f0, mask, ft, mask


@pytest.mark.parametrize(("vector_t", "score", "reliable"), [
    ([1.0, 1.0], 1 / math.sqrt(2.0), True),  # 0.7071 >= 0.7
    ([1.0, 1.1], 1 / math.sqrt(2.21), False),  # 0.6727 <  0.7
])
def test_judgment_both_sides_of_the_threshold(vector_t, score, reliable):
    judgment = JudgmentModule(threshold=0.7)
    assert len(list(judgment.parameters())) == 0
    result = judgment(*_judgment_inputs(vector_t))
    assert result.score.item() == pytest.approx(score, abs=1e-5)
    assert result.reliable.tolist() == [reliable]
    torch.testing.assert_close(result.box_prev, torch.tensor([[8.0, 8.0, 24.0, 24.0]]))


def test_judgment_and_mask_encoder_pool_the_whole_box_alike():
    """One ROI geometry (gcseg.model.roi): the Judgment Module's vector of a mask is the Mask
    Encoder's whole-box ROI (index 0) of the same features, unmasked."""
    torch.manual_seed(0)
    features = torch.rand(2, 8, 6, 8)  # (B, C, h, w)
    mask = torch.zeros(2, 1, 48, 64)
    mask[0, :, 5:30, 10:41] = 1.0
    mask[1, :, 20:47, 2:20] = 1.0
    pooled = JudgmentModule().pool(features, mask)
    box, _ = mask_boxes(mask)
    whole, _ = pool_boxes(features, grid_boxes(box), (48, 64))  # (B, 10, C)
    torch.testing.assert_close(pooled.vector, whole[:, 0])
    torch.testing.assert_close(pooled.box, box)


def test_judgment_threshold_default_is_the_config_tau():
    assert JudgmentModule().threshold == JUDGMENT_THRESHOLD == 0.7


def test_judgment_empty_previous_mask_is_unreliable():
    f0, m0, ft, _ = _judgment_inputs([1.0, 0.0])
    result = JudgmentModule()(f0, m0, ft, torch.zeros_like(m0))
    assert math.isnan(result.score.item())
    assert result.reliable.tolist() == [False]


@pytest.mark.parametrize(("kernel", "dilation", "size"), [(3, 1, (5, 7)), (3, 2, (6, 4)),
                                                          (5, 1, (3, 9)), (1, 1, (4, 4))])
def test_a_convolution_of_a_tiled_vector_needs_no_tiled_map(kernel, dilation, size):
    torch.manual_seed(0)
    r, weight = torch.randn(2, 6), torch.randn(4, 6, kernel, kernel)
    padding = dilation * (kernel // 2)
    tiled = r[:, :, None, None].expand(-1, -1, *size)
    expected = torch.nn.functional.conv2d(tiled, weight, padding=padding, dilation=dilation)
    torch.testing.assert_close(constant_map_convolution(r, weight, size, padding, dilation),
                               expected, atol=1e-5, rtol=1e-5)


def test_reference_bottom_stream_equals_the_convolution_of_the_concatenation():
    """R2 = conv block(concat(F, tile(r))), computed split into its F and r halves: the same
    values and the same gradients as the plain concatenation."""
    torch.manual_seed(0)
    module = ReferenceModule(8, dim=6)
    features = torch.randn(3, 8, 5, 7, requires_grad=True)
    r = torch.randn(3, 8, requires_grad=True)
    _, internals = module(features, r)
    tiled = r[:, :, None, None].expand(-1, -1, 5, 7)
    plain = module.bottom(torch.cat([features, tiled], dim=1))
    torch.testing.assert_close(internals.R2, plain, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(internals.R2.square().sum(), (features, r))
    plain_grads = torch.autograd.grad(plain.square().sum(), (features, r))
    for mine, theirs in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("similarity", ["matmul", "per_channel"])
def test_reference_fusion_equals_the_convolution_of_the_concatenation(similarity):
    """R = conv block(concat(R1, R2)), computed as the F' term once per frame row plus the D1'
    and R2 terms per reference (D1' of one channel by the summed taps): the same values and
    gradients as the plain concatenation, also for 3 references of 2 frame rows."""
    torch.manual_seed(0)
    module = ReferenceModule(8, dim=6, similarity=similarity)
    features = torch.randn(2, 8, 5, 7, requires_grad=True)
    r = torch.randn(6, 8, requires_grad=True)
    out, internals = module(features, r)
    plain = module.fuse(torch.cat([internals.R1, internals.R2], dim=1))
    torch.testing.assert_close(out, plain, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(out.square().sum(), (features, r, module.fuse[0].weight),
                                retain_graph=True)  # R1 and R2 are shared with ``plain``
    plain_grads = torch.autograd.grad(plain.square().sum(), (features, r, module.fuse[0].weight))
    for mine, theirs in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("similarity", ["matmul", "per_channel"])
def test_reference_module_reads_m_references_against_each_frame_row(similarity):
    """Frame rows (B_f = 2 objects) against 3 references each (6 rows of r, reference-major):
    the frame-only parts computed once give what the module gives on repeated features,
    values and gradients."""
    torch.manual_seed(0)
    module = ReferenceModule(8, dim=6, similarity=similarity)
    features = torch.randn(2, 8, 5, 7, requires_grad=True)
    r = torch.randn(6, 8, requires_grad=True)
    out, internals = module(features, r)
    repeated, plain_internals = module(features.repeat(3, 1, 1, 1), r)
    torch.testing.assert_close(out, repeated, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(internals.D1, plain_internals.D1, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(out.square().sum(), (features, r))
    plain_grads = torch.autograd.grad(repeated.square().sum(), (features, r))
    for mine, theirs in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="multiple"):
        module(features, torch.randn(3, 8))


def test_per_reference_views_one_row_and_repeats_blocks():
    one = torch.arange(4.0).view(1, 4)
    assert per_reference(one, 3).data_ptr() == one.data_ptr()  # a view
    two = torch.arange(8.0).view(2, 4)
    torch.testing.assert_close(per_reference(two, 6), torch.cat([two] * 3))
    with pytest.raises(ValueError, match="multiple"):
        per_reference(two, 5)


def test_broadcast_attend_reads_each_reference_block_against_the_frame_rows():
    torch.manual_seed(0)
    features, vectors = torch.randn(2, 3, 4, 5), torch.randn(6, 3)
    expected = torch.cat([features] * 3) * vectors[:, :, None, None]
    torch.testing.assert_close(broadcast_attend(features, vectors), expected)
    with pytest.raises(ValueError, match="multiple"):
        broadcast_attend(features, torch.randn(3, 3))


@pytest.mark.parametrize("bias", [False, True])
def test_attention_folded_into_the_projection_equals_the_attended_map_projected(bias):
    """conv1x1(F ⊙ f) as (W diag(f)) F: 2 frame rows against 3 references each, values and
    gradients as the plain attended map through the convolution."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 4, 1, bias=bias)
    features = torch.randn(2, 6, 3, 5, requires_grad=True)
    vector = torch.randn(6, 6, requires_grad=True)
    mine = attend_and_project(conv, features, vector)
    plain = conv(broadcast_attend(features, vector))
    torch.testing.assert_close(mine, plain, atol=1e-5, rtol=1e-5)
    inputs = (features, vector, conv.weight)
    grads = torch.autograd.grad(mine.square().sum(), inputs)
    plain_grads = torch.autograd.grad(plain.square().sum(), inputs)
    for a, b in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    channels_last = features.detach().contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(attend_and_project(conv, channels_last, vector), plain,
                               atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="multiple"):
        attend_and_project(conv, features, torch.randn(3, 6))


def test_coseg_resizes_each_level_once_and_skips_the_level_maps_on_request():
    """G from the levels resized before they are attended equals G from the attended levels
    resized (bilinear resizing is linear, channel by channel); ``levels=False`` leaves out the
    per-level maps only."""
    torch.manual_seed(0)
    channels = {"res2": 4, "res3": 6, "res4": 8}
    module = CoSegmentation(channels, ("res2", "res3", "res4"), out_dim=5, grid_level="res4")
    features = {"res2": torch.randn(2, 4, 16, 24), "res3": torch.randn(2, 6, 8, 12),
                "res4": torch.randn(2, 8, 4, 6)}
    vectors = {level: torch.randn(6, c) for level, c in channels.items()}  # 3 references x 2
    G, levels = module(features, vectors)
    resized = [torch.nn.functional.interpolate(broadcast_attend(features[level], vectors[level]),
                                               size=(4, 6), mode="bilinear",
                                               align_corners=False)
               for level in ("res2", "res3", "res4")]
    torch.testing.assert_close(G, module.project(torch.cat(resized, dim=1)), atol=1e-5,
                               rtol=1e-5)
    assert levels["res2"].shape == (6, 4, 16, 24)
    G_only, none = module(features, vectors, levels=False)
    assert none == {}
    torch.testing.assert_close(G_only, G)
