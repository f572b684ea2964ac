"""MNIST-1D is generated once and then read from the cache folder."""

from __future__ import annotations

import numpy as np
import pytest

from convlens.data import load_dataset, mnist1d
from convlens.data.mnist1d import Mnist1dConfig, cache_name, generate, load_or_generate

SMALL = Mnist1dConfig(num_samples=200, seed=3)


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() == {"train", "test"}
    for split in a:
        for x, y in zip(a[split], b[split], strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def _no_generating(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cfg: Mnist1dConfig) -> None:
        raise AssertionError("generated although a cached copy was there")

    monkeypatch.setattr(mnist1d, "generate", refuse)


def test_the_second_call_reads_what_the_first_wrote(tmp_path, monkeypatch) -> None:
    expected = generate(SMALL)
    first = load_or_generate(SMALL, tmp_path)
    _same(first, expected)
    assert [p.name for p in tmp_path.iterdir()] == [cache_name(SMALL)]
    _no_generating(monkeypatch)
    _same(load_or_generate(SMALL, tmp_path), expected)


def test_each_config_has_its_own_file() -> None:
    names = {cache_name(c) for c in (SMALL, Mnist1dConfig(), Mnist1dConfig(shuffle=True))}
    assert len(names) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:100]),  # truncated
        lambda path: path.write_bytes(b"not a zip file"),
        lambda path: np.savez(path, x_train=np.zeros((3, 40)), y_train=np.zeros(3, np.int64)),
    ],
    ids=["truncated", "garbage", "other arrays"],
)
def test_a_damaged_file_is_generated_again(tmp_path, damage) -> None:
    load_or_generate(SMALL, tmp_path)
    path = tmp_path / cache_name(SMALL)
    damage(path)
    _same(load_or_generate(SMALL, tmp_path), generate(SMALL))
    with np.load(path) as f:  # and written again whole
        assert f["x_train"].shape == (160, 40) and f["y_test"].shape == (40,)


def test_a_folder_that_cannot_be_written_still_gives_the_data(tmp_path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("in the way")
    _same(load_or_generate(SMALL, blocked / "mnist1d"), generate(SMALL))


def test_load_dataset_caches_under_the_data_folder(isolated_cache, monkeypatch) -> None:
    train = load_dataset("mnist1d", "train", data_seed=3, num_samples=200)
    assert (isolated_cache / "mnist1d" / cache_name(SMALL)).is_file()
    np.testing.assert_array_equal(
        train.x.numpy()[:, 0, :], generate(SMALL)["train"][0].astype(np.float32)
    )
