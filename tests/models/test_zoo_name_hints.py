"""A zoo name written almost right ("lenet", "resnet-18") is answered with the zoo model it
means, not with "token 1: unknown layer", wherever a model-or-spec is read."""

from __future__ import annotations

import pytest

from convlens.cli import main as cli
from convlens.errors import SpecError
from convlens.spec import parse_spec


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("lenet", "lenet5"),  # the one zoo name that "lenet" is 10/11 of
        ("resnet-18", "resnet18"),  # the same letters once '-' is ignored
        ("ResNet_18", "resnet18"),
        ("Lenet5", "lenet5"),
        ("vgg-16-bn", "vgg16_bn"),
        ("alexnt", "alexnet"),
    ],
)
def test_closest_model_ignores_case_dashes_and_underscores(typed, meant):
    from convlens.models.registry import closest_model

    assert closest_model(typed) == meant


@pytest.mark.parametrize("typed", ["conv3x3x8", "foo", "fc10", "zzzz-fc10"])
def test_closest_model_finds_nothing_for_what_is_no_zoo_name(typed):
    from convlens.models.registry import closest_model

    assert closest_model(typed) is None


def test_parse_spec_names_the_zoo_model_a_first_token_means():
    with pytest.raises(SpecError) as caught:
        parse_spec("lenet")
    assert str(caught.value) == (
        "'lenet' is neither a spec nor a zoo model; did you mean the zoo model lenet5?"
    )


def test_a_spec_error_after_the_first_token_stays_a_spec_error():
    with pytest.raises(SpecError, match="token 2 'lenet': unknown layer"):
        parse_spec("fc10-lenet")
    with pytest.raises(SpecError, match="token 1 'foo': unknown layer"):
        parse_spec("foo-fc10")


@pytest.mark.parametrize(
    ("argv", "typed", "meant"),
    [
        (["summary", "resnet-18"], "resnet-18", "resnet18"),
        (["summary", "lenet", "--input", "1x32x32"], "lenet", "lenet5"),
        (["train", "lenet", "--data", "digits", "--epochs", "1", "--no-report"], "lenet", "lenet5"),
    ],
)
def test_commands_say_which_zoo_model_was_meant_in_one_line(capsys, tmp_path, argv, typed, meant):
    if argv[0] == "train":
        argv = [*argv, "--out", str(tmp_path / "run")]
    assert cli(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines()[-1] == (
        f"convlens {argv[0]}: error: {typed!r} is neither a spec nor a zoo model; did you mean "
        f"the zoo model {meant}?"
    )
    assert "error" not in "".join(captured.err.strip().splitlines()[:-1])
