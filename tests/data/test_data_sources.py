"""The download path without a network: file:// URLs and an opener that serves bytes."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error

import numpy as np
import pytest
from data_formats import idx_bytes, tiny_mnist

from convlens.data import load_dataset, sources
from convlens.data.sources import RemoteFile, fetch
from convlens.errors import DataError


def _serve(monkeypatch, payloads: dict[str, bytes], calls: list[str]):
    """Replace the URL opener: known URLs get their bytes, others fail like a missing network."""

    def opener(url, timeout=None):
        calls.append(url)
        if url not in payloads:
            raise urllib.error.URLError("no network in tests")
        return io.BytesIO(payloads[url])

    monkeypatch.setattr(sources, "_opener", opener)


def test_file_url_download_lands_in_the_cache(tmp_path, isolated_cache):
    payload = b"hello convlens" * 100
    source = tmp_path / "remote.bin"
    source.write_bytes(payload)
    file = RemoteFile("remote.bin", (source.as_uri(),), hashlib.md5(payload).hexdigest())
    path = fetch(file, "toy")
    assert path == isolated_cache / "toy" / "remote.bin"
    assert path.read_bytes() == payload
    assert sorted(p.name for p in path.parent.iterdir()) == ["remote.bin"]  # no leftover .part


def test_checksum_failure_leaves_nothing_in_the_cache(tmp_path, isolated_cache):
    source = tmp_path / "remote.bin"
    source.write_bytes(b"tampered")
    file = RemoteFile("remote.bin", (source.as_uri(),), "0" * 32)
    with pytest.raises(
        DataError, match=r"remote\.bin from file:.* has MD5 [0-9a-f]{32}, not the published 0{32}"
    ):
        fetch(file, "toy")
    assert list((isolated_cache / "toy").iterdir()) == []


def test_failed_transfer_leaves_nothing_in_the_cache(monkeypatch, isolated_cache):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            data = super().read(size)
            if not data:
                raise ConnectionResetError("connection reset")
            return data

    monkeypatch.setattr(sources, "_opener", lambda url, timeout=None: Broken(b"x" * 10))
    file = RemoteFile("f.bin", ("https://example.invalid/f.bin",), "0" * 32)
    with pytest.raises(DataError, match=r"cannot download toy file f\.bin"):
        fetch(file, "toy")
    assert list((isolated_cache / "toy").iterdir()) == []


def test_offline_error_names_the_data_set_the_url_and_the_folder(monkeypatch, isolated_cache):
    calls: list[str] = []
    _serve(monkeypatch, {}, calls)
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist")
    message = str(err.value)
    url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"
    assert calls == [url]
    assert message.startswith("cannot download fashion-mnist file train-images-idx3-ubyte.gz")
    assert url in message and str(isolated_cache / "fashion-mnist") in message


def test_mnist_download_tries_the_mirrors_in_order_and_loads(monkeypatch, isolated_cache, tmp_path):
    """Serve tiny IDX files as if they were the official ones, by patching the published MD5s."""
    from convlens.data import mnist

    arrays = {}
    payloads: dict[str, bytes] = {}
    files = {}
    rng = np.random.default_rng(1)
    for split, (image_file, label_file) in mnist.MNIST.files.items():
        n = 3
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = np.array([7, 1, 3], dtype=np.uint8)
        arrays[split] = (images, labels)
        new = []
        for f, raw in ((image_file, idx_bytes(images)), (label_file, idx_bytes(labels))):
            gz = gzip.compress(raw)
            # only the second mirror serves the file
            payloads[mnist.MNIST.mirrors[1] + f.name + ".gz"] = gz
            new.append(
                mnist.IdxFile(f.name, hashlib.md5(gz).hexdigest(), hashlib.md5(raw).hexdigest(), n)
            )
        files[split] = tuple(new)
    monkeypatch.setattr(
        mnist,
        "MNIST",
        mnist.IdxDataset("mnist", "t", mnist.MNIST.mirrors, files, mnist.MNIST.classes),
    )
    calls: list[str] = []
    _serve(monkeypatch, payloads, calls)
    test = load_dataset("mnist", "test")
    assert np.array_equal(test.x[:, 0].numpy(), arrays["test"][0])
    assert test.y.tolist() == [7, 1, 3]
    assert calls[0].startswith(mnist.MNIST.mirrors[0]) and calls[1].startswith(
        mnist.MNIST.mirrors[1]
    )
    cached = sorted(p.name for p in (isolated_cache / "mnist").iterdir())
    assert cached == sorted(f.name + ".gz" for pair in files.values() for f in pair)
    # A second load finds the cache and does not download again.
    calls.clear()
    from convlens.data import catalog

    monkeypatch.setattr(catalog, "_CACHE", {})
    load_dataset("mnist", "train")
    assert calls == []


def test_local_copies_are_searched_in_order(tmp_path, monkeypatch, isolated_cache):
    root, system = tmp_path / "root", tmp_path / "system"
    tiny_mnist(isolated_cache / "mnist", n_train=2)
    tiny_mnist(system / "mnist", n_train=3)
    monkeypatch.setattr(sources, "SYSTEM_DIRS", (str(system),))
    assert len(load_dataset("mnist", download=False, verify=False)) == 2  # cache before system
    tiny_mnist(root, n_train=5)
    assert len(load_dataset("mnist", root=root, download=False, verify=False)) == 5  # root first
    for p in (isolated_cache / "mnist").iterdir():
        p.unlink()
    from convlens.data import catalog

    monkeypatch.setattr(catalog, "_CACHE", {})
    assert len(load_dataset("mnist", download=False, verify=False)) == 3  # then the system folder
