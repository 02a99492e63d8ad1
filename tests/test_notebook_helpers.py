"""gcseg.notebook's exercise checks: right answers pass, wrong ones and unfinished code fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcseg.notebook import check_answer, check_implementation


@pytest.mark.parametrize("answer, expected, right", [
    (0.8889, 8 / 9, True), (0.88, 8 / 9, False), (None, 1.0, False),
    (True, True, True), (1, True, False), (False, True, False),
    ("Co-Segmentation", "co-segmentation ", True), ("decoder", "encoder", False),
    ([1, 2, 3], np.array([1, 2, 3]), True), ([1, 2], [1, 2, 3], False),
    (torch.tensor([0.5, 0.25]), [0.5, 0.25], True), (torch.ones(2, 2), torch.ones(2), False),
    ({"a": 1.0, "b": [2]}, {"a": 1.0, "b": [2]}, True), ({"a": 1.0}, {"a": 2.0}, False),
    ("abc", 3.0, False),
])
def test_check_answer_accepts_only_the_right_answer(answer, expected, right, capsys):
    assert check_answer("ex", answer, expected) is right
    printed = capsys.readouterr().out
    assert printed.startswith("ex: ") and (("correct" in printed and "not yet" not in printed)
                                           is right)


def test_check_implementation_names_unfinished_and_failing_code(capsys):
    def unfinished(x):
        raise NotImplementedError

    def broken(x):
        return x.nope

    assert not check_implementation("roi", unfinished, (1,), 1)
    assert "implement it" in capsys.readouterr().out
    assert not check_implementation("roi", broken, (1,), 1)
    assert "AttributeError" in capsys.readouterr().out
    assert check_implementation("roi", lambda x: x * 2, (torch.ones(3),), torch.full((3,), 2.0))
    assert not check_implementation("roi", lambda x: x * 3, (torch.ones(3),), torch.full((3,), 2.0))
