"""7. Looking inside: filters, feature maps, receptive fields and what the prediction rests on.

A small conv net is trained on the 8x8 digits, then opened up: the first layer's filters, the
maps each layer produces for one digit, the pixels that can reach one unit (its receptive
field, measured by gradients and compared with the arithmetic of the summary), and the input
gradients behind a prediction: plain backpropagation next to guided backpropagation, which lets
no negative gradient back through a ReLU (Springenberg et al., 2015), and Grad-CAM.
Pictures are written as PNG files; the script prints what each one shows.

Run: python examples/07_looking_inside.py   (CONVLENS_EXAMPLE_QUICK=1 for a few-second version)
"""

import os
from pathlib import Path

import torch

import convlens
from convlens import viz

QUICK = os.environ.get("CONVLENS_EXAMPLE_QUICK") == "1"
SPEC = "conv3x3x8p1-pool2-conv3x3x16p1-pool2-fc10"

train = convlens.load_dataset("digits", "train")
test = convlens.load_dataset("digits", "test")
torch.manual_seed(0)
model = convlens.build_model(SPEC, train.in_shape)
config = convlens.TrainConfig(epochs=2 if QUICK else 10, batch_size=32, device="cpu", verbose=0)
history = convlens.fit(model, train, config, test=test)
print(f"{SPEC} on 8x8 digits: test accuracy {history.test['acc']:.1%}")
model.eval()
out = Path("convlens-runs/examples/07_looking_inside")  # under the working directory
out.mkdir(parents=True, exist_ok=True)

# the first layer's 8 filters, each scaled alone so that zero weight is mid grey
weight = model.conv1.weight.detach()
viz.save_png(viz.plot_filters(model), out / "filters.png")
print(
    f"filters.png: conv1's {weight.shape[0]} filters of 3x3; weights span "
    f"[{weight.min():.2f}, {weight.max():.2f}]"
)

# what each layer makes of one test digit
x = test.float_x()[:1]
label = int(test.y[0])
maps = viz.feature_maps(model, x, ["conv1", "relu1", "pool1", "conv2"])
viz.save_png(viz.plot_feature_maps(maps), out / "feature_maps.png")
for name, m in maps.items():
    active = (m > 0).float().mean().item()
    print(f"feature_maps.png: {name:<5} {tuple(m.shape[1:])}, {active:.0%} of the values positive")

# receptive field of one conv2 unit: arithmetic (summary) vs measured (non-zero input gradients)
rf = convlens.summarize(model, train.in_shape).row("conv2").rf
field = viz.effective_field(model, x, "conv2", (2, 2))
rows, cols = torch.nonzero(field, as_tuple=True)
measured = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
print(
    f"receptive field of conv2 at (2, 2): {rf[0]}x{rf[1]} by arithmetic, "
    f"{measured[0]}x{measured[1]} input pixels reached by its gradient (the rest of the "
    f"window lies in the zero padding outside the 8x8 image)"
)

# saliency next to guided backpropagation for the predicted class
pred = int(model(x).argmax())
plain = viz.saliency(model, x[0])
guided = viz.guided_backprop(model, x[0])
maps = {"gradient": plain, "guided backprop": guided, "grad-cam": viz.grad_cam(model, x[0])}
viz.save_png(viz.plot_attributions(viz.to_picture(x[0], test.mean, test.std), maps),
             out / "attributions.png")  # fmt: skip


def top_share(m: torch.Tensor) -> float:
    """Share of the total |attribution| that falls on the top 10% of pixels."""
    values = m.abs().flatten().sort(descending=True).values
    return float(values[: max(1, len(values) // 10)].sum() / values.sum())


print(
    f"attributions.png: digit {label}, predicted {pred}; the top 10% of pixels carry "
    f"{top_share(plain):.0%} of the plain gradient and {top_share(guided):.0%} of the guided one"
)
print(f"pictures in {out}")
