"""The user's own nn.Module as FILE.py:NAME or module:NAME: summarised, trained, reloaded, and
every bad reference refused in one sentence."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from torch import nn

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.models.user import is_reference, load_user_model, parse_kwargs

NET = """
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self, num_classes=10, width=4, channels=1):
            super().__init__()
            self.conv = nn.Conv2d(channels, width, 3, padding=1)
            self.fc = nn.Linear(width * 8 * 8, num_classes)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))


    def small(num_classes=10):
        return Net(num_classes, width=2)


    NOT_A_MODEL = 3


    def not_a_module():
        return "a string"
"""


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "mynet.py"
    path.write_text(textwrap.dedent(NET))
    return path


def test_references_are_told_apart_from_specs_and_names():
    assert is_reference("model.py:Net")
    assert is_reference("pkg.nets:factory")
    assert is_reference("/abs/dir/model.py:Net")
    assert not is_reference("conv5x5x6-pool2-fc10")
    assert not is_reference("resnet18")
    assert not is_reference("model.py:")  # a name is needed
    assert not is_reference("model.py:3x")  # ... and it must be an identifier


def test_a_class_and_a_factory_are_built_with_the_json_kwargs(model_file):
    model = load_user_model(f"{model_file}:Net", '{"num_classes": 5, "width": 3}')
    assert model.fc.out_features == 5 and model.conv.out_channels == 3
    small = load_user_model(f"{model_file}:small")
    assert small.conv.out_channels == 2
    # stamped for checkpoints: the absolute file and the arguments
    assert model.model_ref == f"{model_file.resolve()}:Net"
    assert model.model_kwargs == {"num_classes": 5, "width": 3}


def test_a_relative_path_is_stored_absolute(model_file, monkeypatch):
    monkeypatch.chdir(model_file.parent)
    model = load_user_model("mynet.py:Net")
    assert model.model_ref == f"{model_file.resolve()}:Net"


def test_module_colon_factory_imports_an_installed_module():
    layer = load_user_model("torch.nn:Linear", {"in_features": 4, "out_features": 2})
    assert isinstance(layer, nn.Linear) and layer.weight.shape == (2, 4)


def test_summary_of_a_model_file(model_file, capsys):
    code = main(["summary", f"{model_file}:Net", "--input", "1x8x8", "--format", "csv",
                 "--kwargs", '{"num_classes": 3}'])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    # conv 1 -> 4, 3x3: 4 * 9 + 4 = 40 parameters; fc 256 -> 3: 768 + 3 = 771
    assert "conv" in out and "fc" in out
    assert "40" in out and "771" in out


BAD = [
    # (file text, reference name, kwargs, words the one sentence must hold)
    ("def broken(:\n    pass\n", "Net", None, "syntax error at line 1"),
    ("import no_such_module_anywhere\n", "Net", None, "No module named 'no_such_module_anywhere'"),
    (NET, "Missing", None, "has no 'Missing'; it defines Net, small"),
    (NET, "NOT_A_MODEL", None, "is a int, not a class or function"),
    (NET, "not_a_module", None, "gave a str, not a torch.nn.Module"),
    (NET, "Net", '{"depth": 3}', "unexpected keyword argument 'depth'"),
    (NET, "Net", "{num_classes: 3}", "--kwargs must be a JSON object"),
    (NET, "Net", "[1, 2]", "--kwargs must be a JSON object"),
]


@pytest.mark.parametrize("text, name, kwargs, words", BAD)
def test_bad_model_files_are_one_sentence_and_exit_2(tmp_path, capsys, text, name, kwargs, words):
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(text))
    argv = ["summary", f"{path}:{name}", "--input", "1x8x8"]
    if kwargs is not None:
        argv += ["--kwargs", kwargs]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_missing_file_and_a_missing_module(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_user_model(f"{tmp_path}/nothere.py:Net")
    with pytest.raises(
        ConfigError, match=r"cannot import module 'no_such_pkg_xyz\.nets': No module"
    ):
        load_user_model("no_such_pkg_xyz.nets:Net")


def test_kwargs_for_a_zoo_model_are_refused(capsys):
    assert main(["summary", "lenet5", "--kwargs", '{"num_classes": 3}']) == 2
    assert "--kwargs is for a model given as FILE.py:NAME" in capsys.readouterr().err


def test_parse_kwargs_passes_dicts_and_empty_text():
    assert parse_kwargs(None) == {} and parse_kwargs("") == {}
    assert parse_kwargs({"a": 1}) == {"a": 1}
    assert parse_kwargs('{"num_classes": 10}') == {"num_classes": 10}


def test_a_checkpoint_of_a_user_model_rebuilds_it_with_the_head_it_was_trained_with(
    model_file, tmp_path
):
    from convlens.models.head import replace_head
    from convlens.train import load_checkpoint, save_checkpoint

    model = load_user_model(f"{model_file}:Net", {"num_classes": 4})
    replace_head(model, 6)  # as training on 6 classes does
    model.in_shape = (1, 8, 8)
    save_checkpoint(tmp_path / "ck", model)
    ckpt = load_checkpoint(tmp_path / "ck")
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(ckpt.model(x), model.eval()(x))
    assert ckpt.meta["kind"] == "user" and ckpt.in_shape == (1, 8, 8)


@pytest.mark.slow
def test_trained_user_model_is_reloaded_by_eval(model_file, tmp_path, capsys):
    run = tmp_path / "run"
    # digits: 8x8 grey, 10 classes; one optimiser step (the whole train split in one batch);
    # the file's Net has 4 outputs, so the head is sized to the data's 10 classes
    code = main(["train", f"{model_file}:Net", "--data", "digits", "--kwargs",
                 '{"num_classes": 4}', "--epochs", "1", "--batch-size", "4096", "--out",
                 str(run), "--no-report", "--verbose", "0"])  # fmt: skip
    assert code == 0
    meta = json.loads((run / "best.json").read_text())
    assert meta["kind"] == "user"
    assert meta["model"] == f"{model_file.resolve()}:Net"
    assert meta["model_kwargs"] == {"num_classes": 4} and meta["num_classes"] == 10
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0
    assert "accuracy" in capsys.readouterr().out.lower()

    from convlens.train import load_checkpoint

    ckpt = load_checkpoint(run)
    assert ckpt.model.fc.out_features == 10
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert ckpt.model(x).shape == (2, 10)
