from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from convlens.build import build_model
from convlens.errors import CheckpointError
from convlens.train import TrainConfig, load_checkpoint, save_checkpoint
from convlens.train.checkpoint import checkpoint_stem

SPEC = "conv3x3x4-bn-pool2-fc5"


@pytest.fixture
def saved(tmp_path, images):
    torch.manual_seed(1)
    model = build_model(SPEC, images.in_shape)
    with torch.no_grad():  # non-default BN statistics must survive the trip too
        model.bn1.running_mean.uniform_()
    config = TrainConfig(model=SPEC, data="noise", epochs=2)
    stem = save_checkpoint(
        tmp_path / "ckpt", model, config=config, data=images, epoch=2, metrics={"acc": 0.5}
    )
    return model, stem, images


def test_round_trip_rebuilds_the_model_from_its_spec(saved):
    model, stem, images = saved
    ckpt = load_checkpoint(stem)
    x = images.float_x()[:8]
    model.eval()
    assert torch.equal(ckpt.model(x), model(x))
    assert ckpt.classes == images.classes
    assert ckpt.mean == images.mean and ckpt.std == images.std
    assert ckpt.in_shape == (1, 12, 12)
    assert ckpt.config == TrainConfig(model=SPEC, data="noise", epochs=2)
    assert ckpt.meta["epoch"] == 2 and ckpt.metrics == {"acc": 0.5}
    assert ckpt.meta["versions"]["torch"] == torch.__version__


def test_every_way_of_naming_a_checkpoint_finds_it(saved, tmp_path):
    _, stem, _ = saved
    for name in ("ckpt", "ckpt.json", "ckpt.safetensors"):
        assert checkpoint_stem(tmp_path / name) == stem


def test_a_run_directory_prefers_best_over_last(tmp_path, images):
    model = build_model(SPEC, images.in_shape)
    save_checkpoint(tmp_path / "last", model, data=images)
    assert checkpoint_stem(tmp_path) == tmp_path / "last"
    save_checkpoint(tmp_path / "best", model, data=images)
    assert checkpoint_stem(tmp_path) == tmp_path / "best"


def test_a_mismatched_model_is_refused_with_the_differing_tensor(saved):
    _, stem, images = saved
    wider = build_model("conv3x3x6-bn-pool2-fc5", images.in_shape)
    with pytest.raises(
        CheckpointError,
        match=r"'conv1.weight' is \(4, 1, 3, 3\) in the checkpoint but \(6, 1, 3, 3\)",
    ):
        load_checkpoint(stem, wider)
    other = build_model("conv3x3x4-pool2-fc5", images.in_shape)  # no BatchNorm
    with pytest.raises(
        CheckpointError, match="does not match the model: the checkpoint has unexpected 'bn1"
    ):
        load_checkpoint(stem, other)


def test_halves_written_at_different_moments_are_refused(saved):
    _, stem, _ = saved
    weights = stem.with_suffix(".safetensors")
    save_file(load_file(str(weights)), str(weights), {"step": "99"})
    with pytest.raises(CheckpointError, match="different moments"):
        load_checkpoint(stem)


def test_missing_and_corrupt_files_are_clear_errors(saved, tmp_path):
    _, stem, _ = saved
    with pytest.raises(CheckpointError, match="no run directory or checkpoint at"):
        load_checkpoint(tmp_path / "nothing")
    stem.with_suffix(".json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(stem)
    stem.with_suffix(".json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointError, match="not a convlens checkpoint"):
        load_checkpoint(stem)


def test_truncated_weights_are_a_clear_error(saved):
    _, stem, _ = saved
    weights = stem.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(stem)


def test_saving_is_atomic_and_leaves_no_temporary_files(saved, tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.json", "ckpt.safetensors"]


def test_a_zoo_model_is_rebuilt_by_name(tmp_path):
    from convlens.models.registry import create_model

    torch.manual_seed(0)
    model = create_model("fast28", num_classes=7, in_channels=1)
    stem = save_checkpoint(tmp_path / "zoo", model)
    meta = json.loads(stem.with_suffix(".json").read_text())
    assert meta["kind"] == "zoo" and meta["model"] == "fast28"
    ckpt = load_checkpoint(stem)
    x = torch.randn(2, 1, 28, 28)
    model.eval()
    assert torch.equal(ckpt.model(x), model(x))
    last = [m for m in ckpt.model.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert last.out_features == 7
