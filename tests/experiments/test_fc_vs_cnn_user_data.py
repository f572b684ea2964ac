"""fc-vs-cnn on your own data: a folder of images or an .npz of signals picks nets of its shape."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.experiments import run_experiment


def _folder(root, n=12, side=16):
    rng = np.random.default_rng(0)
    for cls in ("dark", "light"):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            base = 40 if cls == "dark" else 200
            pixels = np.clip(base + rng.normal(0, 20, (side, side)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / cls / f"{i}.png")
    return root


def test_an_image_folder_gets_the_lectures_nets_sized_to_its_classes(tmp_path):
    result = run_experiment("fc-vs-cnn", data=str(_folder(tmp_path / "pics")), quick=True, seeds=1)
    rows = {r[0]: r for r in result.rows}
    conv = rows["CNN (lectures' net)"]
    assert conv[2] == "conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc2"
    # 1 channel, 16x16: (25*1 + 1)*16 + (25*16 + 1)*32, then 4x4x32 = 512 inputs to fc 2
    assert conv[3] == (25 + 1) * 16 + (25 * 16 + 1) * 32 + 512 * 2 + 2
    assert rows["MLP of comparable size"][3] == (256 * 32 + 32) + (32 * 2 + 2)
    assert all(0.0 <= v["test_acc"] <= 1.0 for v in result.data["nets"].values())


def test_signals_in_an_npz_get_the_1d_conv_net(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 1, 24)).astype(np.float32)
    y = (x[:, 0, :12].sum(1) > 0).astype(np.int64)
    path = tmp_path / "signals.npz"
    np.savez(path, x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    result = run_experiment("fc-vs-cnn", data=str(path), quick=True, seeds=1)
    conv = next(r for r in result.rows if r[1] == "conv")
    assert conv[2] == "conv1d5x16p2-pool2-conv1d5x32p2-pool2-fc2"
    # length 24 -> 12 -> 6 after two poolings: 6 x 32 = 192 inputs to fc 2
    assert conv[3] == (5 + 1) * 16 + (5 * 16 + 1) * 32 + 192 * 2 + 2


def test_rows_of_features_and_a_missing_path_are_one_sentence(tmp_path, capsys):
    path = tmp_path / "table.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    with pytest.raises(ConfigError, match="rows of 2 features"):
        run_experiment("fc-vs-cnn", data=str(path), quick=True, seeds=1)
    assert main(["experiment", "fc-vs-cnn", "--data", str(tmp_path / "none"), "--quick"]) == 2
    assert "give the path of your own images" in capsys.readouterr().err


def test_the_reading_flags_size_the_folder_and_are_in_the_command_to_repeat(tmp_path, capsys):
    pics = _folder(tmp_path / "pics", n=8, side=16)
    Image.new("L", (20, 12)).save(pics / "dark" / "odd.png")  # another size: needs --size
    (pics / "light" / "notes.png").write_text("no picture")  # unreadable: needs --skip-bad
    argv = ["experiment", "fc-vs-cnn", "--data", str(pics), "--quick", "--seeds", "1", "--quiet",
            "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    capsys.readouterr()
    assert main([*argv, "--size", "8x8", "--skip-bad"]) == 0
    out = capsys.readouterr().out
    assert "--size 8x8 --skip-bad" in out  # the reproduce line
    # 8x8 pictures: two 2x2 poolings leave 2x2x32 = 128 inputs to fc 2
    assert "conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc2" in out
    assert f"{(25 + 1) * 16 + (25 * 16 + 1) * 32 + 128 * 2 + 2:,}" in out
    assert main(["experiment", "receptive-field", "--size", "8x8"]) == 2
    assert "only fc-vs-cnn takes" in capsys.readouterr().err
