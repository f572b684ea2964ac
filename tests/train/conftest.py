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
