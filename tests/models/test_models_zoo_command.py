"""`convlens zoo`: the table, its formats, its errors and its cache."""

from __future__ import annotations

import csv
import io
import json

import pytest

from convlens.cli import main


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_DATA", str(tmp_path))


def _zoo(capsys, *argv: str) -> str:
    assert main(["zoo", *argv]) == 0
    return capsys.readouterr().out


def test_json_rows_carry_hand_checkable_numbers(capsys):
    rows = {r["name"]: r for r in json.loads(_zoo(capsys, "--family", "lenet", "--format", "json"))}
    assert list(rows) == ["lenet5", "lenet5_1998"]
    lenet = rows["lenet5"]
    # LECTURES.md table: 156 + 2,416 + 48,120 + 10,164 + 850 parameters
    assert lenet["params"] == lenet["expected_params"] == 61_706
    # MACs: 28*28*6*25 + 10*10*16*150 + 120*400 + 120*84 + 84*10 (conv and fc only)
    assert lenet["macs"] == 117_600 + 240_000 + 48_000 + 10_080 + 840
    assert lenet["receptive_field"] == [32, 32]
    assert lenet["input"] == [1, 32, 32] and lenet["num_classes"] == 10
    assert lenet["param_bytes"] == 4 * 61_706


def test_sizes_in_both_units_reproduce_the_lectures_alexnet(capsys):
    row = json.loads(_zoo(capsys, "--model", "alexnet_lecture", "--format", "json"))[0]
    # 62,378,344 float32 weights: 249.5 MB (10^6) or 238.0 MiB (2^20); the lectures say 238 MB
    assert row["param_mb"] == pytest.approx(249.513, abs=1e-3)
    assert row["param_mib"] == pytest.approx(237.954, abs=1e-3)
    assert row["receptive_field"] == [195, 195]


def test_text_table_and_markdown_and_csv(capsys):
    text = _zoo(capsys, "--family", "mnist1d")
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["model", "family", "input", "classes", "params"]
    assert any(line.startswith("mnist1d_cnn") and "5,210" in line for line in lines)
    assert "FLOPs = 2 x MACs" in text

    md = _zoo(capsys, "--family", "mnist1d", "--format", "md").splitlines()
    assert md[0].startswith("| model | family |") and md[1].startswith("|---|")
    assert len(md) == 2 + 4

    table = list(
        csv.DictReader(io.StringIO(_zoo(capsys, "--family", "mnist1d", "--format", "csv")))
    )
    assert [r["model"] for r in table] == ["mnist1d_cnn", "mnist1d_mlp", "udl_cnn", "udl_fc"]
    assert table[2]["params"] == "2050" and table[2]["RF"] == "15"
    assert table[3]["RF"] == ""  # a fully connected net has no feature map


def test_names_after_zoo_are_the_model_list(capsys):
    named = json.loads(_zoo(capsys, "lenet5", "udl_cnn", "--json"))
    assert [r["name"] for r in named] == ["lenet5", "udl_cnn"]
    flagged = json.loads(_zoo(capsys, "--model", "lenet5", "udl_cnn", "--json"))
    assert named == flagged
    assert main(["zoo", "resnet81"]) == 2
    assert "unknown model 'resnet81'; did you mean resnet18" in capsys.readouterr().err


def test_cache_is_written_and_gives_the_same_table(capsys, tmp_path):
    first = _zoo(capsys, "--family", "small", "--format", "json")
    assert len(list(tmp_path.glob("zoo-*.json"))) == 1
    assert _zoo(capsys, "--family", "small", "--format", "json") == first
    assert _zoo(capsys, "--family", "small", "--format", "json", "--no-cache") == first


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--family", "transformers"], "unknown model family 'transformers'"),
        (["--model", "resnet-5"], "unknown model 'resnet-5'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    assert main(["zoo", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


# torchvision's weight tables (torchvision/models/*.py, ``*_Weights.IMAGENET1K_V1.meta``) give
# "_ops" in GFLOPS that are in fact multiply-accumulates, and "_file_size" of the weights in MiB
# (checked where batch-norm running statistics, also in the file, are negligible)
TORCHVISION_OPS = {
    "alexnet": (0.714, 233.087),
    "vgg11": (7.609, 506.84),
    "vgg16": (15.47, 527.796),
    "vgg19_bn": (19.632, None),
    "googlenet": (1.498, None),  # its weight file holds the auxiliary classifiers too
    "resnet18": (1.814, None),
    "resnet50": (4.089, None),
    "resnet34": (3.664, None),
    "resnet152": (11.514, None),
}
_DEEP = {"resnet34", "resnet152"}  # seconds of tracing each: under -m slow


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.slow] if n in _DEEP else []) for n in TORCHVISION_OPS],
)
def test_macs_and_sizes_match_torchvision(name):
    from convlens.models.zoo import zoo_entry

    entry = zoo_entry(name)
    gmacs, mib = TORCHVISION_OPS[name]
    assert round(entry.macs / 1e9, 3) == gmacs
    if mib is not None:  # the file adds names and headers
        assert 0 <= mib - entry.param_mib < 0.05


# -- the comparison slide (zoo --compare) --------------------------------------------------------

SLIDE_DEPTHS = {"alexnet": 8, "vgg16": 16, "vgg19": 19, "googlenet": 22, "resnet50": 50,
                "resnet152": 152}  # fmt: skip


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in _DEEP else []) for n in SLIDE_DEPTHS]
)
def test_depth_is_counted_the_way_the_slide_counts(name):
    import torch

    from convlens.models import create_model
    from convlens.models.comparison import weighted_depth

    with torch.device("meta"):
        model = create_model(name)
    # AlexNet 5 conv + 3 fc; VGG 13 / 16 conv + 3 fc; GoogLeNet 3 stem convs + 9 modules x 2 on
    # the longest branch + 1 fc; ResNet 1 + 3 x blocks (3-4-6-3 or 3-8-36-3) + 1 fc
    assert weighted_depth(model, model.in_shape) == SLIDE_DEPTHS[name]


def test_depth_of_small_nets():
    import torch

    from convlens.models import create_model
    from convlens.models.comparison import weighted_depth

    with torch.device("meta"):
        assert weighted_depth(create_model("lenet5"), (1, 32, 32)) == 5  # 3 conv + 2 fc
        assert weighted_depth(create_model("inception3a"), (192, 28, 28)) == 3  # 1x1, 3x3, fc


def test_compare_sizes_are_params_times_four_bytes():
    from convlens.models.comparison import compare

    rows = {r.name: r for r in compare(["alexnet", "vgg16"])}
    # torchvision num_params: 61,100,840 and 138,357,544; float32 = 4 bytes each
    assert rows["alexnet"].param_bytes == 244_403_360
    assert rows["alexnet"].mb == pytest.approx(244.40336)
    assert rows["alexnet"].mib == pytest.approx(244_403_360 / 1_048_576)
    assert rows["vgg16"].param_bytes == 553_430_176
    assert rows["vgg16"].mib == pytest.approx(553_430_176 / 2**20)  # 527.79; the file: 527.796
    assert (rows["vgg16"].conv_layers, rows["vgg16"].fc_layers) == (13, 3)
    # torchvision AlexNet_Weights.IMAGENET1K_V1: acc@1 56.522, acc@5 79.066 -> errors
    assert rows["alexnet"].published.top1 == pytest.approx(43.478)
    assert rows["alexnet"].published.top5 == pytest.approx(20.934)
    assert rows["vgg16"].slide.mb == 540


def test_compare_command(capsys):
    out = _zoo(capsys, "--compare", "-m", "lenet5", "--width", "200")
    assert "lenet5" in out and "61,706" in out and "where they" not in out
    assert "fit no single reading" in out
    data = json.loads(_zoo(capsys, "--compare", "-m", "lenet5", "--format", "json"))
    assert data["rows"][0]["depth"] == 5 and data["rows"][0]["published"] is None
    assert main(["zoo", "--compare", "--family", "vgg"]) == 2
    assert "--compare takes --model names" in capsys.readouterr().err


@pytest.mark.slow
def test_compare_slide_models(capsys):
    out = _zoo(capsys, "--compare", "--width", "200")
    for name, depth in SLIDE_DEPTHS.items():
        assert any(line.split()[:2] == [name, str(depth)] for line in out.splitlines())
    assert "3.57 is the ensemble's top-5" in out
