"""Soft aggregation of K objects (gcseg.inference.objects) against the argmax merge."""

from __future__ import annotations

import torch

from gcseg.inference import merge_objects, soft_aggregation, soft_aggregation_labels


def test_aggregated_probabilities_sum_to_one_with_the_background_first():
    prob = torch.tensor([[0.7, 0.2], [0.6, 0.1]]).view(2, 1, 1, 2)  # K = 2, one row, 2 pixels
    q = soft_aggregation(prob)
    assert q.shape == (3, 1, 2)
    torch.testing.assert_close(q.sum(dim=0), torch.ones(1, 2))
    # background p_0 = (1 - 0.7)(1 - 0.6) = 0.12 at the first pixel: odds 0.12/0.88
    odds = torch.tensor([0.12 / 0.88, 0.7 / 0.3, 0.6 / 0.4])
    torch.testing.assert_close(q[:, 0, 0], odds / odds.sum())


def test_labels_by_hand_where_the_background_loses_to_two_weak_objects():
    # p_1 = p_2 = 0.45: argmax [0.5, ...] says background; soft aggregation gives the
    # background (0.55)^2 = 0.3025 and the first object wins the tie
    prob = torch.tensor([[0.45, 0.9, 0.1], [0.45, 0.2, 0.3]]).view(2, 1, 1, 3)
    ids = torch.tensor([3, 7], dtype=torch.uint8)
    assert soft_aggregation_labels(prob, ids).tolist() == [[3, 3, 0]]
    assert merge_objects(prob, ids).tolist() == [[0, 3, 0]]


def test_one_object_is_merged_as_by_the_argmax():
    generator = torch.Generator().manual_seed(0)
    prob = torch.rand(1, 1, 16, 16, generator=generator)
    ids = torch.tensor([2], dtype=torch.uint8)
    assert torch.equal(soft_aggregation_labels(prob, ids), merge_objects(prob, ids))
