"""Folders of images in the ImageFolder layout: layouts, formats, grey/colour, sizes, bad files,
and the cache of decoded folders."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image, features
from user_files import image_folder, write_image

from convlens.data import catalog, from_folder, load_dataset
from convlens.errors import DataError


def _as_set(x: torch.Tensor) -> set[bytes]:
    return {example.numpy().tobytes() for example in x}


def test_class_folders_get_a_stratified_split_and_keep_every_pixel(tmp_path):
    written = image_folder(tmp_path / "f", {"dog": 10, "cat": 10, "emu": 5})
    train = load_dataset(tmp_path / "f", "train")
    test = load_dataset(tmp_path / "f", "test")
    assert train.classes == ("cat", "dog", "emu")  # sorted folder names
    # 20% of each class: round(10 * 0.2) = 2, 2 and round(5 * 0.2) = 1
    assert test.class_counts() == [2, 2, 1] and train.class_counts() == [8, 8, 4]
    assert train.x.dtype == torch.uint8 and train.in_shape == (1, 6, 5)
    # every written image is in exactly one split, with its own label
    for index, name in enumerate(train.classes):
        mine = {a.tobytes() for a in written[name]}
        got = _as_set(train.x[train.y == index]) | _as_set(test.x[test.y == index])
        assert got == mine
    assert not (_as_set(train.x) & _as_set(test.x))
    assert test.notes and "no test split" in test.notes[0]
    assert train.name == str((tmp_path / "f").resolve())


def test_test_size_and_the_split_is_the_same_every_time(tmp_path):
    image_folder(tmp_path / "f", {"a": 10, "b": 10})
    test = load_dataset(tmp_path / "f", "test", test_size=0.5)
    assert test.class_counts() == [5, 5]
    catalog._CACHE.clear()
    again = load_dataset(tmp_path / "f", "test", test_size=0.5)
    assert torch.equal(test.x, again.x)
    assert dict(test.options) == {"test_size": 0.5}


def test_train_and_test_folders_are_used_as_given(tmp_path):
    train_arrays = image_folder(tmp_path / "f" / "train", {"a": 3, "b": 2}, seed=1)
    test_arrays = image_folder(tmp_path / "f" / "test", {"a": 1, "b": 2}, seed=2)
    train = from_folder(tmp_path / "f", "train")
    test = from_folder(tmp_path / "f", "test")
    assert train.y.tolist() == [0, 0, 0, 1, 1] and test.y.tolist() == [0, 1, 1]
    expected = np.stack(test_arrays["a"] + test_arrays["b"])[:, None]
    assert np.array_equal(test.x.numpy(), expected)  # class order, then file names
    assert np.array_equal(train.x[3, 0].numpy(), train_arrays["b"][0])
    assert not test.notes


def test_png_bmp_gif_first_frame_webp_and_jpeg(tmp_path):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, size=(8, 8), dtype=np.uint8) for _ in range(5)]
    root = tmp_path / "f"
    write_image(root / "a" / "1.png", arrays[0])
    write_image(root / "a" / "2.bmp", arrays[1])
    frames = [Image.fromarray(arrays[2]), Image.fromarray(arrays[3])]
    (root / "b").mkdir()
    frames[0].save(root / "b" / "3.gif", save_all=True, append_images=frames[1:])
    lossless_webp = features.check("webp")
    if lossless_webp:
        Image.fromarray(arrays[4]).save(root / "b" / "4.webp", lossless=True)
    flat = np.full((8, 8), 77, dtype=np.uint8)  # JPEG is lossy; a flat image survives it exactly
    write_image(root / "b" / "5.JPG", flat, "JPEG")
    (root / "b" / "notes.txt").write_text("not an image, ignored")
    data = load_dataset(root, "train", test_size=0.4)
    test = load_dataset(root, "test", test_size=0.4)
    got = _as_set(data.x) | _as_set(test.x)
    expected = [arrays[0], arrays[1], arrays[2], flat] + ([arrays[4]] if lossless_webp else [])
    assert got == {a[None].tobytes() for a in expected}  # the GIF's second frame is not there


def test_one_colour_image_makes_the_set_rgb_and_channels_forces_grey(tmp_path):
    root = tmp_path / "f"
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    rgb = np.zeros((3, 4, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    write_image(root / "a" / "g.png", grey)
    write_image(root / "a" / "g2.png", grey)
    write_image(root / "b" / "c.png", rgb)
    write_image(root / "b" / "c2.png", rgb)
    x = load_dataset(root, "train", test_size=0.5).x
    assert x.shape[1] == 3
    grey_rows = x[(x[:, 0] == x[:, 1]).flatten(1).all(1)]
    assert torch.equal(grey_rows[0, 2], torch.from_numpy(grey))  # grey repeated in each channel
    catalog._CACHE.clear()
    forced = load_dataset(root, "train", test_size=0.5, channels=1).x
    assert forced.shape[1] == 1
    # ITU-R 601-2 luma, as Pillow's convert("L") documents: L = R*299/1000 + G*587/1000 + B*114/1000
    luma = round(200 * 0.299 + 100 * 0.587 + 50 * 0.114)  # 124.2 -> 124
    assert luma in forced.unique().tolist()


def test_grey_pixels_saved_as_rgb_count_as_grey(tmp_path):
    root = tmp_path / "f"
    for name in ("a", "b"):
        for i in range(2):
            write_image(root / name / f"{i}.png", np.full((4, 4, 3), 30 * i + 10, dtype=np.uint8))
    assert load_dataset(root, "train", test_size=0.5).in_shape == (1, 4, 4)


def test_mixed_sizes_need_size_and_size_resizes(tmp_path):
    root = tmp_path / "f"
    image_folder(root, {"a": 2}, shape=(6, 5))
    image_folder(root, {"b": 3}, shape=(9, 7), seed=1)
    with pytest.raises(DataError, match=r"different sizes: 9x7 \(3\), 6x5 \(2\).*--size"):
        load_dataset(root)
    data = load_dataset(root, "train", size="4x3", test_size=0.5)
    assert data.in_shape == (1, 4, 3) and dict(data.options) == {"size": "4x3", "test_size": 0.5}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda r: (image_folder(r, {"a": 2}), (r / "b").mkdir()), "class folder .*b holds no images"),
        (lambda r: image_folder(r, {"only": 4}), "only one class.*'only'"),
        (lambda r: write_image(r / "loose.png", np.zeros((2, 2), np.uint8)), "image files but no class folders"),
        (lambda r: (image_folder(r / "train", {"a": 2, "b": 2}), image_folder(r / "test", {"a": 1, "cat": 1})),
         "test class .*cat.* lacks class 'cat'"),
        (lambda r: None, "does not exist"),
    ],
    ids=["empty-class", "one-class", "no-class-folders", "test-class-not-in-train", "missing"],
)  # fmt: skip
def test_bad_folders_are_one_sentence(tmp_path, make, message):
    root = tmp_path / "f"
    make(root)
    with pytest.raises(DataError, match=message):
        load_dataset(root)


def test_corrupt_images_stop_the_load_or_are_skipped_and_counted(tmp_path):
    root = tmp_path / "f"
    image_folder(root, {"a": 4, "b": 4})
    (root / "a" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = (root / "b" / "000.png").read_bytes()
    (root / "b" / "cut.png").write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(DataError, match=r"bad\.png is not an image .*1 more.*--skip-bad"):
        load_dataset(root)
    train = load_dataset(root, "train", skip_bad=True)
    test = load_dataset(root, "test", skip_bad=True)
    assert len(train) + len(test) == 8
    assert any("skipped 2 unreadable" in note and "bad.png" in note for note in train.notes)


def _count_opens(monkeypatch) -> list[str]:
    opened: list[str] = []
    real = Image.open

    def counting(fp, *args, **kwargs):
        opened.append(str(fp))
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting)
    return opened


def test_second_load_reads_the_cache_without_decoding(tmp_path, monkeypatch, isolated_cache):
    root = tmp_path / "f"
    image_folder(root, {"a": 5, "b": 5})
    opened = _count_opens(monkeypatch)
    first = load_dataset(root, "train")
    assert len(opened) == 10
    entries = list((isolated_cache / "folders").iterdir())
    assert len(entries) == 1 and entries[0].suffix == ".npz"  # no temporary file left behind
    catalog._CACHE.clear()  # a new process: only the on-disk cache is left
    second = load_dataset(root, "train")
    assert len(opened) == 10 and torch.equal(first.x, second.x)
    # a changed file (new modification time) is decoded again
    os.utime(root / "a" / "000.png", ns=(1, 1))
    catalog._CACHE.clear()
    load_dataset(root, "train")
    assert len(opened) == 20


def test_a_damaged_cache_entry_is_a_miss(tmp_path, monkeypatch, isolated_cache):
    root = tmp_path / "f"
    image_folder(root, {"a": 3, "b": 3})
    first = load_dataset(root, "train")
    (entry,) = (isolated_cache / "folders").iterdir()
    entry.write_bytes(b"PK\x03\x04 broken")
    catalog._CACHE.clear()
    opened = _count_opens(monkeypatch)
    assert torch.equal(load_dataset(root, "train").x, first.x)
    assert len(opened) == 6


def test_worker_processes_decode_the_same_array_in_the_same_order(tmp_path, monkeypatch):
    from convlens.data import folder

    image_folder(tmp_path / "f", {"a": 7, "b": 6}, shape=(3, 3, 3))
    listing = folder.list_folder(tmp_path / "f")
    serial = folder.decode_folder(listing)
    monkeypatch.setattr(folder, "PARALLEL_MIN", 1)
    monkeypatch.setattr(folder, "CHUNK", 4)  # several tasks, to check that their order is kept
    parallel = folder.decode_folder(listing)
    assert parallel.x.shape == (13, 3, 3, 3)
    assert np.array_equal(parallel.x, serial.x)
