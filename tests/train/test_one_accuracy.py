"""A model has one test accuracy: `convlens train`'s last line, `convlens eval`, the report and
Python's `evaluate` score a run the same way (its precision, layout and test-time augmentation),
and the demo's shifted-input curve starts at the demo table's accuracy.

The runs below train in bfloat16 autocast on purpose: scoring them in float32 instead changes the
logits in their third significant digit, which shows in the loss and, for a barely trained model
whose class scores are close, in which class wins.
"""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from convlens.cli import main as cli

SPEC = "conv3x3x8p1-bn-pool2-fc10"


@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "run"
    argv = ["train", SPEC, "--data", "digits", "--out", str(out), "--epochs", "1",
            "--lr", "1e-4", "--precision", "bfloat16", "--device", "cpu", "--verbose", "0",
            "--no-report"]  # fmt: skip
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli(argv) == 0
    return out, printed.getvalue()


def test_train_eval_report_and_python_give_one_accuracy(bf16_run, capsys):
    from convlens.data import load_dataset
    from convlens.report.run import build_report
    from convlens.train import evaluate, load_checkpoint
    from convlens.train.evaluation import scoring_config

    out, trained = bf16_run
    printed = re.search(r"test accuracy ([0-9.]+)%", trained)
    assert printed, trained
    assert "bfloat16 autocast" in trained  # the line says how it scored

    assert cli(["eval", str(out), "--json", "--device", "cpu"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert printed.group(1) == f"{100 * scores['acc']:.2f}"

    page = build_report(out)
    shown = dict(re.findall(r'<span class="metric"><b>([^<]*)</b>([^<]*)</span>', page))
    shown = {name: value for value, name in shown.items()}
    assert shown["test accuracy"] == f"{scores['acc']:.2%}"
    assert shown["test loss"] == f"{scores['loss']:.4f}"
    assert "bfloat16 autocast" in shown["scored in"]

    ckpt = load_checkpoint(out)
    test = load_dataset("digits", "test")
    import dataclasses

    test = dataclasses.replace(test, mean=ckpt.mean, std=ckpt.std)
    again = evaluate(ckpt.model, test, scoring_config(ckpt.meta, ckpt.config, device="cpu"))
    assert again["confusion"] == scores["confusion"]
    assert again["loss"] == scores["loss"]


def test_float32_scoring_would_differ(bf16_run):
    """The check above can fail: the same checkpoint scored in float32 gives another loss."""
    import dataclasses

    from convlens.data import load_dataset
    from convlens.train import TrainConfig, evaluate, load_checkpoint
    from convlens.train.evaluation import scoring_config

    out, _ = bf16_run
    ckpt = load_checkpoint(out)
    test = dataclasses.replace(load_dataset("digits", "test"), mean=ckpt.mean, std=ckpt.std)
    as_trained = evaluate(ckpt.model, test, scoring_config(ckpt.meta, ckpt.config, device="cpu"))
    plain = evaluate(ckpt.model, test, TrainConfig(precision="float32", device="cpu", verbose=0))
    assert f"{as_trained['loss']:.4f}" != f"{plain['loss']:.4f}"


def test_recorded_scoring_survives_another_machine_default():
    """A checkpoint says how it was scored; `auto` is not re-resolved when the record exists."""
    from convlens.train.evaluation import scoring_config

    meta = {"scoring": {"precision": "bfloat16", "channels_last": True, "tta": True,
                        "batch_size": 500, "device": "cpu"}}  # fmt: skip
    config = scoring_config(meta, None, device="cpu")
    assert (config.precision, config.channels_last, config.tta, config.flip) == (
        "bfloat16", "on", True, True,
    )  # fmt: skip
    assert config.eval_batch_size == 500
    cuda_half = scoring_config({"scoring": {"precision": "float16"}}, None, device="cpu")
    assert cuda_half.precision == "float32"  # a CPU has no float16 autocast to score in


@pytest.mark.slow
def test_demo_shift_curve_starts_at_the_table_accuracy(tmp_path, fashion_mnist):
    """On Fashion-MNIST (10,000 test images) the curve once used only the first 2,000."""
    out = tmp_path / "demo"
    assert cli(["demo", "--data", "fashion-mnist", "--quick", "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    nets = results["fc-vs-cnn"]["data"]["nets"]
    curve = results["equivariance"]["data"]["classifier"]
    for label, net in nets.items():
        assert curve[label]["accuracy"][0] == net["test_acc"], label
