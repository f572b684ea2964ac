"""`convlens viz rf` and `convlens viz dream` on LeNet-5, whose conv3 map is 1x1 on 32x32 inputs.

The zoo name with random weights stands in for a trained run: no training, no data set.
"""

import argparse
import re

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main
from convlens.commands import viz as viz_command


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "noise.png"
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return str(path)


def viz_flags() -> set[str]:
    parser = argparse.ArgumentParser()
    viz_command.add_arguments(parser)
    return set(parser._option_string_actions)


def test_rf_of_a_unit_outside_a_1x1_map_shows_the_centre_unit_with_a_note(
    capsys, tmp_path, picture
):
    pics = tmp_path / "pics"
    code, out, err = run(capsys, "viz", "rf", "lenet5", "--input", picture,
                         "--layer", "conv3", "--unit", "3,3", "--out", str(pics))  # fmt: skip
    assert code == 0, err
    note = "note: conv3's map is 1x1; unit (3, 3) is outside it, showing the centre unit (0, 0)"
    assert err.splitlines() == [note]
    assert out.split() == [str(pics / "rf.png")]


def test_dream_takes_the_octaves_that_fit_and_errors_name_only_real_flags(
    capsys, tmp_path, picture
):
    common = ("viz", "dream", "lenet5", "--input", picture, "--steps", "1", "--out", str(tmp_path))
    code, out, err = run(capsys, *common)
    assert code == 0, err
    assert out.split() == [str(tmp_path / "dream.png")]
    assert run(capsys, *common, "--octaves", "1")[0] == 0
    # conv3 needs a 32x32 input; a second octave would be 32 / 1.4 = 23 pixels a side
    code, _, err = run(capsys, *common, "--octaves", "2")
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "--octaves 1" in err
    assert set(re.findall(r"--[a-z][a-z-]*", err)) <= viz_flags()
    code, _, err = run(capsys, *common, "--octaves", "0")
    assert code == 2 and "at least 1" in err and len(err.splitlines()) == 1


def test_viz_refuses_a_picture_name_for_its_folder_and_a_checkpoint_for_kernels(capsys, tmp_path):
    out = tmp_path / "k.png"
    code, _, err = run(capsys, "viz", "kernels", "--out", str(out))
    assert code == 2 and "--out is the folder the pictures go into" in err
    assert f"try --out {tmp_path / 'k'}" in err and not out.exists()
    code, _, err = run(capsys, "viz", "kernels", "lenet5", "--out", str(tmp_path / "k"))
    assert code == 2 and "`convlens viz filters lenet5`" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "k").exists()
    # a folder that happens to end in .png and exists already is a folder
    (tmp_path / "odd.png").mkdir()
    code, _, _ = run(capsys, "viz", "kernels", "--out", str(tmp_path / "odd.png"))
    assert code == 0 and (tmp_path / "odd.png" / "kernels.png").is_file()


def test_viz_alone_names_every_kind_it_can_draw(capsys):
    code, _, err = run(capsys, "viz")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert all(kind in err for kind in viz_command.KINDS)
