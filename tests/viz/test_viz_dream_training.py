import json

import numpy as np
import pytest
import torch

from convlens.build import build_model
from convlens.errors import ConfigError, DataError
from convlens.viz.dream import (
    ClassImageConfig,
    DreamConfig,
    class_model_image,
    deep_dream,
    gaussian_blur,
    layer_energy,
    total_variation,
)
from convlens.viz.training import (
    confusion_matrix,
    most_confident_wrong,
    plot_confusion,
    plot_history,
    plot_mistakes,
    read_metrics,
)


@pytest.mark.parametrize("target", [3, 8])
def test_class_image_raises_the_class_score_by_a_large_factor(digits, digits_model, target):
    x, y = digits
    lo, hi = torch.tensor(-0.75).view(1, 1, 1), torch.tensor(1.75).view(1, 1, 1)  # pixels 0..1
    # 8x8 pictures are too small for the default blur and jitter (made for 28x28 and up)
    cfg = ClassImageConfig(steps=80, jitter=1, blur_every=0, tv=1e-3)
    img = class_model_image(digits_model, target, (1, 8, 8), cfg, bounds=(lo, hi))
    start = 0.01 * torch.randn((1, 1, 8, 8), generator=torch.Generator().manual_seed(cfg.seed))
    with torch.no_grad():
        logits = digits_model(img[None])[0]
        before = digits_model(start)[0]
        real = digits_model(x[y == target])[:, target].mean()
    assert int(logits.argmax()) == target
    # the class probability goes from about chance (1/10) to near certainty
    assert logits.softmax(0)[target] > 9 * before.softmax(0)[target]
    assert logits.softmax(0)[target] > 0.99
    # the logit ends several units higher, and above what real examples of the class get
    assert logits[target] - before[target] > 5
    assert logits[target] > real
    assert float(img.min()) >= -0.75 - 1e-6 and float(img.max()) <= 1.75 + 1e-6


def test_deep_dream_amplifies_the_layer():
    torch.manual_seed(0)
    model = build_model("conv3x3x8p1-relu-conv3x3x8p1-pool2-fc4", (1, 24, 24))
    image = torch.rand(1, 24, 24)
    dream = deep_dream(model, image, "conv2", DreamConfig(octaves=2, steps=8, step_size=0.02))
    assert dream.shape == image.shape
    assert layer_energy(model, "conv2", dream) > 2 * layer_energy(model, "conv2", image)
    one = deep_dream(model, image, "conv2", DreamConfig(octaves=1, steps=5, channel=3))
    assert layer_energy(model, "conv2", one, channel=3) > layer_energy(
        model, "conv2", image, channel=3
    )
    with pytest.raises(ConfigError, match="conv1, conv2"):
        deep_dream(model, image, "conv7")
    with pytest.raises(ConfigError, match="needs an image"):
        deep_dream(build_model("conv1d3x4-fc2", (1, 12)), torch.rand(1, 12), "conv1")


def test_regularisers_by_hand():
    x = torch.tensor([[[[0.0, 1.0], [1.0, 3.0]]]])
    # vertical differences 1, 2 -> mean 2.5; horizontal 1, 2 -> mean 2.5
    assert float(total_variation(x)) == 5.0
    flat = torch.full((1, 2, 9, 9), 0.3)
    torch.testing.assert_close(gaussian_blur(flat, 1.0), flat)
    dot = torch.zeros(1, 1, 15, 15)
    dot[0, 0, 7, 7] = 1.0
    blurred = gaussian_blur(dot, 1.0)
    assert abs(float(blurred.sum()) - 1.0) < 1e-5 and float(blurred[0, 0, 7, 7]) < 0.2


def test_confusion_and_mistakes_by_hand():
    y = torch.tensor([0, 0, 1, 1, 2])
    pred = torch.tensor([0, 1, 1, 1, 0])
    np.testing.assert_array_equal(confusion_matrix(y, pred, 3), [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    probs = torch.tensor(
        [[0.9, 0.1, 0.0], [0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.95, 0.0, 0.05]]
    )
    wrong = most_confident_wrong(probs, y, k=5)
    assert [(m.index, m.true, m.predicted) for m in wrong] == [(4, 2, 0), (1, 0, 1)]
    assert [m.confidence for m in wrong] == pytest.approx([0.95, 0.6])  # float32 probabilities
    fig = plot_mistakes([np.zeros((4, 4))] * 2, wrong, ("a", "b", "c"))
    assert len(fig.axes) == 2
    counts = confusion_matrix(y, pred, 3)
    (ax,) = plot_confusion(counts, ("a", "b", "c")).axes
    assert ax.get_title() == "accuracy 60.00% on 5 examples"  # 3 of 5 on the diagonal
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "0", "2", "0", "1", "0", "0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


def test_history_plots_from_a_metrics_file(tmp_path):
    records = [
        {"epoch": e, "loss": 1 / e, "acc": 0.5 + e / 10, "val_loss": 1.2 / e, "val_acc": 0.5}
        for e in (1, 2, 3)
    ]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert read_metrics(tmp_path) == records
    fig = plot_history(tmp_path)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(
        [line.get_ydata() for line in lines], [[1.0, 0.5, 1 / 3], [1.2, 0.6, 0.4]]
    )
    with pytest.raises(DataError, match="no metrics file"):
        read_metrics(tmp_path / "nowhere")
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n{broken\n')
    with pytest.raises(DataError, match="line 2"):
        read_metrics(tmp_path)
