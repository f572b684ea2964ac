"""Fixtures for the training tests (data built in memory by train_toydata)."""

from __future__ import annotations

import pytest
from train_toydata import image_data, sequence_data

from convlens.data.tensors import TensorData


@pytest.fixture
def seq() -> TensorData:
    return sequence_data()


@pytest.fixture
def images() -> TensorData:
    return image_data()


@pytest.fixture
def fashion_mnist() -> None:
    """Skip the test where Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)."""
    from convlens.data import load_dataset
    from convlens.errors import DataError

    try:
        load_dataset("fashion-mnist", "test")
    except DataError:
        pytest.skip("Fashion-MNIST is not installed")
