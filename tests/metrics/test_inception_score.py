import numpy as np
import pytest

from kgan.metrics import inception_score


def test_uniform_predictions_score_one():
    assert inception_score(np.full((100, 10), 0.1)) == pytest.approx((1.0, 0.0))


def test_confident_balanced_predictions_score_the_number_of_classes():
    one_hot = np.tile(np.eye(10), (10, 1))  # each split of 10 rows holds every class once
    assert inception_score(one_hot, num_splits=10) == pytest.approx((10.0, 0.0))


def test_confident_predictions_of_one_class_score_one():
    one_hot = np.zeros((50, 10))
    one_hot[:, 3] = 1
    assert inception_score(one_hot, num_splits=5) == pytest.approx((1.0, 0.0))


def test_hand_computed_two_samples():
    # p(y) = [0.75, 0.25]; KL of [1, 0] is log(4/3); KL of [0.5, 0.5] is 0.5 log(2/3) + 0.5 log 2.
    probabilities = [[1.0, 0.0], [0.5, 0.5]]
    expected = np.exp((np.log(4 / 3) + 0.5 * np.log(2 / 3) + 0.5 * np.log(2)) / 2)
    assert inception_score(probabilities, num_splits=1) == pytest.approx((expected, 0.0))


def test_std_is_over_splits():
    balanced = np.tile(np.eye(2), (5, 1))  # score 2
    same_class = np.tile([[1.0, 0.0]], (10, 1))  # score 1
    assert inception_score(np.concatenate([balanced, same_class]), num_splits=2) == pytest.approx((1.5, 0.5))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="not logits"):
        inception_score(np.random.default_rng(0).standard_normal((10, 3)), num_splits=1)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.full((10, 3), 0.5), num_splits=1)
    with pytest.raises(ValueError, match="must be 2-D"):
        inception_score(np.full(10, 0.1))
    with pytest.raises(ValueError, match="num_splits"):
        inception_score(np.full((5, 2), 0.5), num_splits=10)
