"""The video inference engine: references, batching, adaptive search, cache, outputs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from gcseg.config import JUDGMENT_THRESHOLD, NUM_REFERENCES
from gcseg.data.davis import DavisDataset, read_annotation
from gcseg.evaluation import evaluate
from gcseg.inference import (
    InferenceOptions,
    ReferenceBank,
    VideoSegmenter,
    calibrate_threshold,
    reference_fragments,
    sample_reference_frames,
    segment_dataset,
)
from gcseg.inference.calibration import _auc, _best_threshold, judged_previous_masks
from gcseg.model import GCSeg
from tests.conftest import small_config, square_video

KEEP = InferenceOptions(keep_probabilities=True)


def _model(variant: str = "full") -> GCSeg:
    torch.manual_seed(0)
    return GCSeg(small_config(variant).model)


def test_reference_frames_come_from_even_fragments():
    rng = np.random.default_rng(0)
    assert sample_reference_frames(1, 3, rng) == [0, 0]
    assert sample_reference_frames(5, 0, rng) == [0]
    for _ in range(20):
        refs = sample_reference_frames(9, 3, rng)
        assert refs[0] == 0 and 0 <= refs[1] <= 2 and 3 <= refs[2] <= 5 and 6 <= refs[3] <= 8
    assert sample_reference_frames(2, 3, rng)[1:] == [0, 1]
    a = sample_reference_frames(30, 3, np.random.default_rng(7))
    assert a == sample_reference_frames(30, 3, np.random.default_rng(7))


@pytest.mark.parametrize("variant", ["baseline", "ref", "coseg", "full"])
def test_segment_a_two_object_video(variant):
    frames, masks = square_video(frames=5, size=(64, 96), objects=2)
    result = VideoSegmenter(_model(variant), InferenceOptions(num_refs=2)).segment(frames, masks[0])
    assert result.labels.shape == (5, 64, 96) and result.labels.dtype == np.uint8
    np.testing.assert_array_equal(result.labels[0], masks[0])
    assert set(np.unique(result.labels)) <= {0, 1, 2}
    assert result.object_ids == [1, 2]
    assert [r.index for r in result.records] == list(range(5))
    assert result.records[3].references[0] == 0 and len(result.records[3].references) == 3


def test_objects_in_one_batch_match_objects_one_by_one():
    frames, masks = square_video(frames=2, size=(64, 96), objects=2)
    model = _model()
    both = VideoSegmenter(model, KEEP).segment(frames, masks[0])
    for k in (1, 2):
        alone_mask = np.where(masks[0] == k, k, 0).astype(np.uint8)
        alone = VideoSegmenter(model, KEEP).segment(frames, alone_mask)
        np.testing.assert_allclose(
            both.probabilities[1, k - 1], alone.probabilities[1, 0], atol=1e-5
        )


def test_merge_is_argmax_with_background_at_half():
    frames, masks = square_video(frames=3, size=(64, 96), objects=2)
    result = VideoSegmenter(_model(), KEEP).segment(frames, masks[0])
    probs = result.probabilities[2].astype(np.float32)  # (K, H, W)
    expected = np.concatenate([np.full_like(probs[:1], 0.5), probs]).argmax(axis=0)
    np.testing.assert_array_equal(expected, result.labels[2])


def test_adaptive_search_runs_the_backbone_again_only_when_rejected():
    frames, masks = square_video(frames=4, size=(64, 96))
    model = _model()
    never = VideoSegmenter(model, InferenceOptions(threshold=-1.0)).segment(frames, masks[0])
    always = VideoSegmenter(model, InferenceOptions(threshold=1.01)).segment(frames, masks[0])
    off = VideoSegmenter(model, InferenceOptions(adaptive_search=False)).segment(frames, masks[0])
    for record in never.records[1:]:
        if record.reliable == [True]:
            assert record.backbone_passes == 1
    for record in always.records[1:]:  # every M_{t-1} rejected; an empty one costs no pass
        prev_present = (always.labels[record.index - 1] == 1).any()
        assert record.reliable == [False]
        assert record.backbone_passes == (2 if prev_present else 1)
    assert always.records[1].backbone_passes == 2  # M_0 is never empty
    assert all(r.backbone_passes == 1 and r.judgment_scores is None for r in off.records[1:])


@torch.inference_mode()
def test_own_mask_reference_encoding_summarises_each_frame_with_its_result():
    """``reference_encoding="own-mask"``: frame t's cached summary comes from E(I_t, M_t), one
    more backbone pass per frame; the default ``"cached"`` one from E(I_t, M_{t-1})."""
    frames, masks = square_video(frames=4, size=(64, 96), objects=2)
    model = _model()
    own = VideoSegmenter(model, InferenceOptions(adaptive_search=False,
                                                reference_encoding="own-mask"))
    result = own.segment(frames, masks[0])
    cached = VideoSegmenter(model, InferenceOptions(adaptive_search=False))
    default = cached.segment(frames, masks[0])
    assert [r.backbone_passes for r in result.records[1:]] == [2, 2, 2]
    assert [r.backbone_passes for r in default.records[1:]] == [1, 1, 1]
    ids = torch.tensor([1, 2], dtype=torch.uint8)

    def object_masks(labels):
        return (torch.from_numpy(labels)[None, None] == ids.view(-1, 1, 1, 1)).float()

    def image(t):
        return torch.from_numpy(frames[t]).permute(2, 0, 1)[None].float() / 255

    t = 2
    result_masks = object_masks(result.labels[t])
    expected = model.summarize_reference(model.encode_frame(image(t), result_masks),
                                         result_masks)
    torch.testing.assert_close(own.bank[t].r, expected.r)
    for level, vector in expected.f.items():
        torch.testing.assert_close(own.bank[t].f[level], vector)
    previous = object_masks(default.labels[t - 1])
    old = model.summarize_reference(model.encode_frame(image(t), previous),
                                    object_masks(default.labels[t]))
    torch.testing.assert_close(cached.bank[t].r, old.r)
    with pytest.raises(ValueError, match="reference_encoding"):
        InferenceOptions(reference_encoding="exact")


def test_reference_fusion_comes_from_the_config_and_is_checked():
    from gcseg.config import ConfigError, get_preset
    from gcseg.config.validation import validate_config

    config = get_preset("tiny")
    assert InferenceOptions.from_config(config.inference).reference_fusion == "predictions"
    config.inference.reference_fusion = "features"
    assert InferenceOptions.from_config(config.inference).reference_fusion == "features"
    config.inference.reference_fusion = "logits"
    with pytest.raises(ConfigError, match="inference.reference_fusion"):
        validate_config(config, "test")
    with pytest.raises(ValueError, match="reference_fusion"):
        InferenceOptions(reference_fusion="logits")


def test_no_mask_judgment_compares_appearance_without_the_mask_channel():
    """``judgment_features="no-mask"``: the Judgment Module pools E(I_t, 0) against E(I_0, 0)
    (one more pass per frame); the verdict changes, never the features of a kept mask, and a
    rejected object gets E(I_t, 0) as it does with the default judgment."""
    frames, masks = square_video(frames=4, size=(64, 96), objects=2)
    model = _model()

    def run(features: str, threshold: float):
        options = InferenceOptions(judgment_features=features, threshold=threshold,
                                   keep_probabilities=True)
        return VideoSegmenter(model, options).segment(frames, masks[0])

    def image(t):
        return torch.from_numpy(frames[t]).permute(2, 0, 1)[None].float() / 255

    kept, kept_plain = run("prev-mask", -1.0), run("no-mask", -1.0)
    assert [r.backbone_passes for r in kept_plain.records] == [2, 2, 2, 2]
    np.testing.assert_array_equal(kept.labels, kept_plain.labels)  # nothing rejected
    first = torch.from_numpy(masks[0])[None, None]
    first = (first == torch.tensor([1, 2]).view(-1, 1, 1, 1)).float()
    plain = model.encode_frame(image(0), torch.zeros_like(first[:1])).expand(2)
    previous = (torch.from_numpy(kept_plain.labels[0])[None, None]
                == torch.tensor([1, 2]).view(-1, 1, 1, 1)).float()
    current = model.encode_frame(image(1), torch.zeros_like(first[:1])).expand(2)
    expected = model.judgment.compare(model.judgment_view(plain, first),
                                      model.judgment_view(current, previous))
    np.testing.assert_allclose(kept_plain.records[1].judgment_scores, expected.score.tolist(),
                               rtol=1e-5)
    assert kept_plain.records[1].judgment_scores != kept.records[1].judgment_scores
    rejected, rejected_plain = run("prev-mask", 1.01), run("no-mask", 1.01)
    assert not any(any(r.reliable) for r in rejected_plain.records[1:])
    np.testing.assert_allclose(rejected.probabilities, rejected_plain.probabilities, atol=1e-5)
    with pytest.raises(ValueError, match="judgment_features"):
        InferenceOptions(judgment_features="none")


def test_cache_holds_o_of_c_numbers_per_frame():
    """A 300-frame video: the reference cache grows by the same few numbers per frame, and
    that number does not depend on the frame size (no feature maps are kept)."""
    model = _model()
    per_frame = {}
    for size, count in (((32, 32), 300), ((64, 96), 10)):
        frames, masks = square_video(frames=1, size=size)
        frames = np.broadcast_to(frames[:1], (count, *frames.shape[1:]))  # a still video
        segmenter = VideoSegmenter(model, InferenceOptions(num_refs=3, adaptive_search=False))
        segmenter.segment(frames, masks[0])
        assert len(segmenter.bank) == count
        per_frame[size] = segmenter.bank.numel() / count
    assert per_frame[(32, 32)] == per_frame[(64, 96)]
    channels = model.extractor.channels
    assert per_frame[(64, 96)] <= 2 * channels[model.top_level] + sum(channels.values()) + 64


def test_segment_dataset_writes_results_and_timing(tiny_davis, tmp_path):
    dataset = DavisDataset(tiny_davis)
    out = tmp_path / "results"
    timing = segment_dataset(VideoSegmenter(_model()), dataset, out, progress=False)
    assert sorted(p.name for p in (out / "two").iterdir()) == [f"{i:05d}.png" for i in range(4)]
    assert read_annotation(out / "two" / "00000.png").max() == 2
    saved = json.loads((out / "timing.json").read_text())
    assert saved["frames"] == 6 and saved["device"] == "cpu"
    assert saved["seconds_per_frame"] > 0 and saved["resolution"] == "48x32"
    assert timing["frames_per_second"] == pytest.approx(1 / timing["seconds_per_frame"])
    scores = evaluate(dataset, out, progress=False)
    assert 0.0 <= scores.global_stats["J&F-Mean"] <= 1.0


def _late_object_video():
    """Object 1 in every frame; object 2 appears at frame 2 (DAVIS-2017's late objects)."""
    frames, masks = square_video(frames=6, size=(64, 96), objects=2)
    masks[:2][masks[:2] == 2] = 0
    return frames, masks


def test_objects_that_appear_later_start_from_their_first_annotation(tmp_path):
    from gcseg.baselines import run_baseline
    from tests.conftest import write_davis

    frames, masks = _late_object_video()
    root = write_davis(tmp_path / "davis", {"late": (frames, masks)})
    sequence = DavisDataset(root, "2017", "val")["late"]
    later = sequence.later_annotations()
    assert list(later) == [2] and (later[2] == masks[2]).all()
    assert DavisDataset(root, "2016", "val")["late"].later_annotations() == {}  # merged: one

    segmenter = VideoSegmenter(_model(), InferenceOptions(num_refs=2, keep_probabilities=True))
    result = segmenter.segment(frames, masks[0], later_masks=later)
    assert result.object_ids == [1, 2]
    assert not (result.labels[:2] == 2).any()  # not there yet: probability 0
    assert (result.probabilities[:2, 1] == 0).all()
    assert ((result.labels[2] == 2) == (masks[2] == 2)).all()  # its given mask, pasted
    assert result.records[2].backbone_passes >= 2  # encoded again with its mask
    assert all(2 in r.references for r in result.records[3:])  # its "frame 0"
    # the object of frame 0 is segmented as without the late one until frame 2
    alone = VideoSegmenter(_model(), InferenceOptions(num_refs=2, keep_probabilities=True)).segment(
        frames, masks[0])
    np.testing.assert_allclose(result.probabilities[1, 0], alone.probabilities[1, 0], atol=1e-6)

    # the whole pipeline: segment_dataset and the copy-first baseline use the late masks
    segment_dataset(segmenter, DavisDataset(root, "2017", "val"), tmp_path / "gcseg",
                    progress=False)
    assert (read_annotation(tmp_path / "gcseg" / "late" / "00002.png") == 2).any()
    run_baseline("copy-first", DavisDataset(root, "2017", "val"), tmp_path / "copy",
                 progress=False)
    copied = [read_annotation(tmp_path / "copy" / "late" / f"{t:05d}.png") for t in range(6)]
    assert not (copied[1] == 2).any() and all(((c == 2) == (masks[2] == 2)).all()
                                              for c in copied[2:])


def test_frames_much_smaller_than_the_training_scale_get_a_warning():
    from gcseg.inference import FrameSizeWarning, frame_size_warning, trained_frame_size

    config = small_config("full", frame_size=(120, 216))
    config.data.crop_scale = (0.5, 0.8)  # crops of up to 0.8 of a side: frames of 150x270
    assert trained_frame_size(config) == (150, 270)
    assert frame_size_warning((240, 432), (150, 270)) is None
    assert frame_size_warning((113, 203), (150, 270)) is None  # at 3/4 or above: fine
    message = frame_size_warning((64, 96), (150, 270), "cows")
    assert message.startswith("cows: frames of 64x96") and "150x270" in message
    frames, masks = square_video(frames=2, size=(64, 96))
    small = VideoSegmenter.from_config(_model(), config)
    with pytest.warns(FrameSizeWarning, match="64x96"):
        small.segment(frames, masks[0])
    config.data.frame_size, config.data.crop_scale = (64, 96), (0.8, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FrameSizeWarning)
        VideoSegmenter.from_config(_model(), config).segment(frames, masks[0])


# --------------------------------------------------------------------------- the engine's parts

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "tiny_synthetic.pt"

SHIPPED_OBJECT_PIXELS = [[7484, 1778], [6041, 1601], [4462, 1458], [2536, 1504], [617, 1602],
                         [0, 1066], [0, 990], [0, 1074]]
"""Pixels of objects 1 and 2 in each frame of a rendered synthetic video (object 1 leaves at
frame 5), segmented by the shipped model with the settings of its config, as the engine gave
them before it was split into its parts; its ``M_{t-1}`` was rejected at frame 5 only."""


def test_the_shipped_model_segments_as_it_did_before_the_engine_was_split():
    from gcseg.checkpoint import load_model
    from gcseg.data.synthetic import render_video

    model, config = load_model(SHIPPED)
    video = render_video(np.random.SeedSequence(2024, spawn_key=(3, 0)), 8, (240, 432))
    result = VideoSegmenter.from_config(model, config).segment(video.frames, video.masks[0])
    pixels = np.array([[(labels == i).sum() for i in result.object_ids]
                       for labels in result.labels])
    assert result.object_ids == [1, 2]
    assert [r.backbone_passes for r in result.records] == [1, 1, 1, 1, 1, 2, 1, 1]
    # float rounding on another machine may move a few pixels near a tie, never more
    np.testing.assert_allclose(pixels, SHIPPED_OBJECT_PIXELS, rtol=0.01, atol=5)


def test_options_come_from_the_config_and_overrides_win():
    config = small_config("full")
    options = InferenceOptions.from_config(config.inference, num_refs=1, channels_last=True)
    assert options.num_refs == 1 and options.speed.channels_last
    assert options.threshold == config.inference.judgment_threshold == JUDGMENT_THRESHOLD
    assert InferenceOptions().num_refs == NUM_REFERENCES
    with pytest.raises(TypeError):
        InferenceOptions.from_config(config.inference, refs=2)
    with pytest.raises(ValueError, match="num_refs"):
        InferenceOptions(num_refs=-1)
    segmenter = VideoSegmenter.from_config(_model(), config, adaptive_search=False)
    assert not segmenter.options.adaptive_search


def test_the_bank_samples_from_fragments_and_gives_late_objects_their_rows():
    model = _model()
    frames, masks = square_video(frames=1, size=(64, 96), objects=2)
    image = torch.from_numpy(frames[0]).permute(2, 0, 1)[None].float() / 255
    ids = torch.tensor([1, 2], dtype=torch.uint8)
    object_masks = (torch.from_numpy(masks[0])[None, None] == ids.view(-1, 1, 1, 1)).float()
    with torch.inference_mode():
        summary = model.summarize_reference(model.encode_frame(image, object_masks),
                                            object_masks).compact()
        empty = model.summarize_reference(model.encode_frame(image, object_masks * 0),
                                          object_masks * 0).compact()
    bank = ReferenceBank(num_refs=3, seed=0)
    bank.start(empty)
    for _ in range(5):
        bank.add(empty)
    references = bank.sample(6)
    for frame, fragment in zip(references[1:], reference_fragments(6, 3), strict=True):
        assert frame in fragment
    rows = torch.tensor([False, True])
    bank.give_objects(rows, summary.select(slice(1, 2)))
    assert bank.first.valid.tolist() == [False, True] and not empty.valid.any()  # a copy
    torch.testing.assert_close(bank[5].r[1], summary.r[1])
    torch.testing.assert_close(bank[5].r[0], empty.r[0])
    assert bank.sample(7)[-1] == 5  # where it was given: a reference of every later frame
    stacked, counts = bank.stack([0, 5, 0])
    assert stacked.batch_size == 4 and counts.tolist() == [2, 1]


def test_threshold_calibration_separates_good_from_bad_previous_masks(tiny_davis):
    """τ is fitted where it best tells a previous mask of J >= 0.5 from a worse one; the
    counts, medians and AUC describe how well; the segmenter's own settings are untouched."""
    segmenter = VideoSegmenter(_model(), InferenceOptions(judgment_features="no-mask"))
    dataset = DavisDataset(tiny_davis)
    calibration = calibrate_threshold(segmenter, dataset)
    pairs = [pair for sequence in dataset for pair in judged_previous_masks(
        VideoSegmenter(segmenter.model, segmenter.options.replace(threshold=-1.0)), sequence)]
    assert calibration.good + calibration.bad == len(pairs) > 0
    assert calibration.good == sum(j >= 0.5 for _, j in pairs)
    assert calibration.judgment_features == "no-mask" and segmenter.options.threshold == 0.7
    assert 0.5 <= calibration.balanced_accuracy <= 1.0
    scores = np.array([s for s, _ in pairs])
    good = np.array([j >= 0.5 for _, j in pairs])
    kept = scores >= calibration.threshold
    rates = [kept[good].mean()] if good.any() else []
    rates += [(~kept[~good]).mean()] if (~good).any() else []
    assert calibration.balanced_accuracy == pytest.approx(np.mean(rates))


def test_best_threshold_on_a_worked_example():
    """Scores of good masks 0.9, 0.8, 0.6 and bad ones 0.7, 0.3: τ between 0.3 and 0.6 keeps
    every good one and rejects one bad of two (0.75); τ = 0.75 keeps two of three good and
    rejects both bad (0.833): the best; AUC = 5/6."""
    scores = np.array([0.9, 0.8, 0.6, 0.7, 0.3])
    good = np.array([True, True, True, False, False])
    threshold, accuracy = _best_threshold(scores, good)
    assert threshold == pytest.approx(0.75) and accuracy == pytest.approx(5 / 6)
    assert _auc(scores, good) == pytest.approx(5 / 6)
