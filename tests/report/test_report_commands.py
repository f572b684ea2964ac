"""`convlens viz` and `convlens report` on a real run directory, and their one-line errors."""

import pytest
from PIL import Image

from convlens.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_pngs(paths):
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG" and min(im.size) > 100


def test_kernels_need_no_checkpoint(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "viz",
        "kernels",
        "--out",
        str(tmp_path),
        "--kernel",
        "laplacian",
        "--kernel",
        "sobel_x",
    )
    assert code == 0, err
    written = out.split()
    assert [p.rsplit("/", 1)[1] for p in written] == [
        "kernels.png",
        "flip.png",
        "hyperparameters.png",
    ]
    assert_pngs(written)


@pytest.mark.parametrize(
    "kind", ["filters", "maps", "saliency", "gradcam", "rf", "curves", "confusion"]
)
def test_viz_kinds_write_pictures(capsys, tmp_path, run_dir, kind):
    code, out, err = run(capsys, "viz", kind, str(run_dir), "--index", "3", "--out", str(tmp_path))
    assert code == 0, err
    assert out.split() and all(p.startswith(str(tmp_path)) for p in out.split())
    assert_pngs(out.split())


def test_viz_on_a_user_image(capsys, tmp_path, run_dir):
    img = tmp_path / "digit.png"
    Image.new("L", (40, 40), 0).save(img)
    code, _, err = run(
        capsys, "viz", "saliency", str(run_dir), "--input", str(img), "--out", str(tmp_path)
    )
    assert code == 0, err


def test_the_image_may_follow_the_checkpoint(capsys, tmp_path, run_dir):
    img = tmp_path / "digit.png"
    Image.new("L", (40, 40), 0).save(img)
    code, out, err = run(capsys, "viz", "gradcam", str(run_dir), str(img), "--out", str(tmp_path))
    assert code == 0, err
    assert_pngs(out.split())
    code, out, err = run(
        capsys, "viz", "maps", str(run_dir), "--image", str(img), "--out", str(tmp_path)
    )
    assert code == 0, err
    assert out.split() == [str(tmp_path / "maps.png")]


def test_kernels_take_the_picture_as_their_one_argument(capsys, tmp_path):
    img = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(img)
    code, out, err = run(capsys, "viz", "kernels", str(img), "--out", str(tmp_path / "k"))
    assert code == 0, err
    assert len(out.split()) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["viz", "gradcam", "IMAGE"], "'IMAGE' is an image, not a model; the model comes first"),
        (["predict", "IMAGE", "RUN"], "is an image, not a model; the model comes first"),
        (["viz", "gradcam", "RUN", "IMAGE", "--index", "2"], "give the input once"),
        (["viz", "gradcam", "RUN", "IMAGE", "--input", "IMAGE"], "give the input once"),
        (["viz", "filters", "RUN", "IMAGE"], "`convlens viz filters` draws no input image"),
        (["viz", "class", "RUN", "--input", "IMAGE"], "the kinds that look at one are kernels"),
        (
            ["viz", "filters", "RUN", "--layer", "layer1.0.conv2"],
            "convolution layers are: conv1, conv2",
        ),
        (
            ["viz", "maps", "RUN", "--index", "355"],
            "--index 355 is out of range; the digits test split has 355",
        ),
        (["viz", "saliency", "RUN", "--input", "NOTIMAGE"], "is not an image"),
        (["viz", "kernels", "--input", "NOTIMAGE"], "is not an image"),
        (["viz", "kernels", "--kernel", "nope"], "unknown kernel 'nope'"),
        (["viz", "filters"], "needs a checkpoint"),
        (["viz", "filters", "MISSING"], "no run directory or checkpoint at"),
        (["report", "MISSING"], "does not exist"),
        # a unit outside the map is only a note (the centre unit is shown); one index is an error
        (["viz", "rf", "RUN", "--unit", "9"], "a unit takes 2 indices such as 0,0"),
    ],
)
def test_bad_input_is_one_sentence(capsys, tmp_path, run_dir, argv, message):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    image = tmp_path / "photo.png"
    Image.new("L", (40, 40), 0).save(image)
    subst = {"RUN": str(run_dir), "NOTIMAGE": str(bad), "MISSING": str(tmp_path / "missing"),
             "IMAGE": str(image)}  # fmt: skip
    argv = [subst.get(a, a) for a in argv]
    message = message.replace("'IMAGE'", repr(str(image)))
    if argv[0] == "viz":
        argv += ["--out", str(tmp_path / "out")]
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_report_command(capsys, run_dir):
    code, out, err = run(capsys, "report", str(run_dir), "--examples", "1")
    assert code == 0, err
    assert out.strip() == str(run_dir / "report.html")


def test_confusion_of_a_table_and_of_a_regression_run(capsys, tmp_path):
    import torch

    from convlens.build import build_model
    from convlens.data import TensorData
    from convlens.train import save_checkpoint

    rows = TensorData("rows", "test", torch.randn(12, 4), torch.arange(12) % 3, ("a", "b", "c"),
                      (0.0,) * 4, (1.0,) * 4)  # fmt: skip
    table = save_checkpoint(tmp_path / "table", build_model("fc8-fc3", (4,)), data=rows)
    # the checkpoint names no data set it can load: give the rows as an .npz
    import numpy as np

    np.savez(tmp_path / "rows.npz", x_train=rows.x.numpy(), y_train=rows.y.numpy(),
             x_test=rows.x.numpy(), y_test=rows.y.numpy())  # fmt: skip
    out = tmp_path / "pics"
    code, printed, err = run(capsys, "viz", "confusion", f"{table}.json", "--data",
                             str(tmp_path / "rows.npz"), "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert printed.split() == [str(out / "confusion.png")]
    assert "rows of a table, so no pictures of the mistakes" in err
    targets = TensorData("sine", "test", torch.randn(12, 1), torch.randn(12), (), (0.0,), (1.0,))
    regression = save_checkpoint(tmp_path / "reg", build_model("fc4-fc1", (1,)), data=targets)
    np.savez(tmp_path / "sine.npz", x_train=targets.x.numpy(), y_train=targets.y.numpy(),
             x_test=targets.x.numpy(), y_test=targets.y.numpy())  # fmt: skip
    code, _, err = run(capsys, "viz", "confusion", f"{regression}.json", "--data",
                       str(tmp_path / "sine.npz"), "--out", str(tmp_path / "none"))  # fmt: skip
    assert code == 2 and "a regression run has no classes to confuse" in err
