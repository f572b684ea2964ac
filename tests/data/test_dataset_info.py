"""dataset_info returns a typed value; its to_dict() is what `convlens data info --json` prints."""

from __future__ import annotations

import json

from convlens.cli import main
from convlens.data import dataset_info
from convlens.data.catalog import DatasetInfo


def test_dataset_info_is_a_typed_value_whose_dict_is_the_json(capsys):
    info = dataset_info("mnist1d")
    assert isinstance(info, DatasetInfo)
    # Greydanus & Kobak's defaults: 4,000 training and 1,000 test signals of 40 points, 10 digits
    assert info.sizes == {"train": 4000, "test": 1000}
    assert info.in_shape == [1, 40] and len(info.classes) == 10
    assert [sum(c) for c in info.class_counts.values()] == [4000, 1000]
    assert main(["data", "info", "mnist1d", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(info.to_dict()))
