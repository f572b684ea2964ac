"""Write the course notebooks (``notebooks/*.ipynb``) from the cells listed here.

The notebooks are the artifact students open; this file is their source, so a change to a lesson is
a reviewable diff of text rather than of JSON. The notebooks are written without outputs or
execution counts and with fixed cell ids, so writing them twice gives the same bytes.

    python notebooks/make_notebooks.py          # rewrite every notebook
    python notebooks/make_notebooks.py --check  # exit 1 if a notebook differs from this source
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def setup(third: str, first: str, std: str = "") -> str:
    """A notebook's first code cell: its imports (standard library, third party, convlens, each
    block in isort's order, as ``ruff check`` wants), then a fixed seed and one thread."""
    imports = "\n\n".join(b for b in (std, third, first) if b)
    return (
        f"%matplotlib inline\n{imports}\n\ntorch.manual_seed(0)\n"
        "torch.set_num_threads(1)  # small networks: a second thread only waits on a busy laptop"
    )


# The lessons are text: keep their layout as written.
# fmt: off

# ---------------------------------------------------------------------------------------------
# 1. Neurons
# ---------------------------------------------------------------------------------------------

NEURONS = [
    ("md", """\
# 1. From neurons to networks

A lesson in six steps: the McCulloch–Pitts neuron, the perceptron and its learning rule, why one
perceptron cannot learn XOR and how a layer of them can, the sigmoid neuron, gradient descent, and
what one hidden layer can represent. Everything here is NumPy from `convlens.scratch` (no torch
until the last step), and runs in seconds."""),
    ("code", setup(std="import itertools", third="import matplotlib.pyplot as plt\nimport numpy as np\nimport torch", first="""\
from convlens.experiments import run_experiment
from convlens.scratch import McCullochPitts, boolean_network, train_perceptron, train_sigmoid_neuron""")),
    ("md", """\
## McCulloch–Pitts neuron

Boolean inputs, aggregation $g(x) = \\sum_i x_i$, output $y = 1$ iff $g(x) \\ge \\theta$. The
threshold is set by hand: $\\theta = n$ gives AND, $\\theta = 1$ gives OR. Every input weighs the
same, and nothing is learned."""),
    ("code", """\
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
print("x1 x2 | AND (θ=2)  OR (θ=1)")
for row, a, o in zip(x, McCullochPitts(2)(x), McCullochPitts(1)(x)):
    print(f" {row[0]}  {row[1]} |     {a}          {o}")"""),
    ("md", """\
## The perceptron and its learning rule

$y = 1$ iff $\\sum_i w_i x_i \\ge \\theta$; folding the threshold into a bias ($w_0 = -\\theta$,
$x_0 = 1$) gives $y = 1$ iff $\\sum_{i=0}^{n} w_i x_i \\ge 0$. The learning rule adds a missed
positive to $w$ and subtracts a wrongly accepted negative, until an epoch passes without a
mistake. That happens for every linearly separable set, and never for XOR."""),
    ("code", """\
for name, y in {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}.items():
    result = train_perceptron(x, y, max_epochs=50, seed=0)
    verdict = f"learned in {result.epochs} epochs" if result.converged else "not learned in 50 epochs"
    print(f"{name:<3}: {verdict}; outputs {result.perceptron(x).tolist()}, want {y}")"""),
    ("md", """\
## A network of perceptrons represents any Boolean function

One hidden layer of $2^n$ perceptrons, one per input pattern (inputs in $\\{-1, 1\\}$), and one
output perceptron: hidden unit $k$ has weights equal to pattern $k$ and bias $-n$, so it fires on
its own pattern only; the output fires when any unit whose pattern is true fires. XOR needs 4
hidden units; the parity of three inputs (truth table `01101001`) needs 8
(`convlens neurons boolean --table 01101001`)."""),
    ("code", """\
inputs = np.array(list(itertools.product((-1, 1), repeat=3)))  # the 8 patterns in table order
net = boolean_network([0, 1, 1, 0, 1, 0, 0, 1], 3)  # the truth table 01101001: 3 inputs
for row, hidden, out in zip(inputs, net.hidden(inputs), net(inputs)):
    print(f"x = {row.tolist()}  hidden unit firing: {hidden.argmax() + 1}  y = {out}")"""),
    ("md", """\
## The sigmoid neuron

The threshold jumps from "no" to "yes" between a movie rated 3.9 and one rated 4.1. The sigmoid
neuron $y = 1 / (1 + e^{-(w \\cdot x + b)})$ is smooth and differentiable, so gradient descent can
set $w$ and $b$ from examples, here on the cross-entropy
$-\\hat y \\log y - (1 - \\hat y) \\log (1 - y)$."""),
    ("code", """\
ratings = np.array([[2.0], [3.0], [3.5], [3.8], [4.2], [4.5], [4.8], [5.0]])
watched = np.array([0, 0, 0, 0, 1, 1, 1, 1])
neuron, descent = train_sigmoid_neuron(ratings, watched, lr=0.5, max_steps=5000)
print(f"{descent.steps} steps, cross-entropy {descent.losses[0]:.3f} -> {descent.losses[-1]:.3f}")
for r in (3.9, 4.1):
    print(f"rating {r}: threshold says {int(r >= 4)}, sigmoid neuron says {float(neuron([r])):.2f}")"""),
    ("md", """\
## Gradient descent in action

The lectures' loop: start at $w^0$ and repeat $w^{t+1} = w^t - \\eta \\nabla f(w^t)$ while
$|f(w^t) - f(w^{t+1})| > \\varepsilon$. On $f = a x^2$ a step multiplies $x$ by $(1 - 2a\\eta)$:
it converges for $\\eta < 1/a$ and diverges beyond. On the bowl $x^2 + 10y^2$ the steep direction
($a = 10$) sets the limit $\\eta < 0.1$; on Rosenbrock's valley the curvature at the minimum sets
it ($2/\\lambda_{max} = 0.002$). The table is the experiment `convlens experiment gradient-descent`."""),
    ("code", """\
descent = run_experiment("gradient-descent")
descent"""),
    ("md", "The paths over the contours of each surface (the experiment keeps every iterate):"),
    ("code", """\
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, (label, surface) in zip(axes, descent.data["surfaces"].items()):
    lo = np.minimum(surface["start"], surface["minimum"]) - 1
    hi = np.maximum(surface["start"], surface["minimum"]) + 1
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    Z = X**2 + 10 * Y**2 if label.startswith("elongated") else (1 - X)**2 + 100 * (Y - X**2)**2
    ax.contour(X, Y, Z, levels=surface["levels"], colors="grey", linewidths=0.7)
    for lr, run in surface["runs"].items():
        path = np.array(run["path"])
        inside = np.all((path >= lo) & (path <= hi), axis=1)
        end = len(path) if inside.all() else max(int(np.argmin(inside)), 2)
        ax.plot(*path[:end].T, ".-", ms=2, lw=1, label=f"η = {lr} ({run['outcome']})")
    ax.plot(*surface["minimum"], "k*", ms=10)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_title(label, fontsize=9)
    ax.legend(fontsize=7)"""),
    ("md", """\
## What one hidden layer can represent

"Construct by hand": two sigmoid units make a bump, $\\sigma(k(x - a)) - \\sigma(k(x - b))$; bumps
of height $f(c_i)$ on $N$ pieces of $[0, 1]$ make a staircase through any 1-D function, with $2N$
hidden units. "Automatic estimation": the same network with every weight learned by gradient
descent on the squared error $\\frac12 (y - \\hat y)^2$. Both errors fall as units are added."""),
    ("code", """\
approximator = run_experiment("universal-approximator", quick=True)
approximator"""),
]

# ---------------------------------------------------------------------------------------------
# 2. Images and convolution
# ---------------------------------------------------------------------------------------------

CONVOLUTION = [
    ("md", """\
# 2. Images and convolution

An image is a matrix of numbers; a convolution layer slides a small kernel over it. This lesson
computes the lectures' worked examples three ways (NumPy loops, NumPy im2col, PyTorch), shows what
hand-made kernels find, and checks the output-size formula $(N + 2P - F)/S + 1$."""),
    ("code", setup(third="import numpy as np\nimport torch\nimport torch.nn.functional as F", first="""\
import convlens
from convlens import viz
from convlens.scratch import conv2d_naive, convolve2d, correlate2d, pool_forward""")),
    ("md", """\
## An image as numbers

Grey images are matrices of intensities 0–255 (colour: three of them); networks take them divided
by 255. Here is one of the 8×8 digits bundled with scikit-learn as its 0–255 matrix, then the
first examples of the data set (a `TensorData` shows itself as a grid)."""),
    ("code", """\
digits = convlens.load_dataset("digits", "test")
print((digits.float_x(normalize=False)[0, 0] * 255).round().int())
digits"""),
    ("md", """\
## Cross-correlation and convolution

Networks compute cross-correlation, $s(i, j) = \\sum_m \\sum_n I(i + m, j + n) K(m, n)$; true
convolution flips the kernel first. The lectures' 5×5 input and 3×3 kernel give
`[[12, 12, 17], [10, 17, 19], [9, 6, 14]]`."""),
    ("code", """\
image = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                  [2, 0, 0, 0, 1]], float)
kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], float)
print("im2col:     ", correlate2d(image, kernel).astype(int).tolist())
print("naive loops:", conv2d_naive(image[None, None], kernel[None, None])[0, 0].astype(int).tolist())
print("torch:      ", F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None])[0, 0].int().tolist())
print("convolution (kernel flipped):", convolve2d(image, kernel).astype(int).tolist())"""),
    ("md", """\
Max pooling 2×2 with stride 2 keeps the largest value of each window:
`[[1,1,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]` → `[[6,8],[3,4]]`."""),
    ("code", """\
pooled, _ = pool_forward(np.array([[[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], float), "max", 2)
pooled[0, 0]"""),
    ("md", """\
## Hand-made kernels

The edge kernels of the lectures, $[-1, 1]$, the vertical and horizontal edge detectors and the
Laplacian `[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]`, on a synthetic picture (nothing is downloaded).
Then the difference between correlating and convolving with an asymmetric kernel."""),
    ("code", """\
picture = viz.sample_image("shapes", 96)
viz.plot_kernels(picture)"""),
    ("code", "viz.plot_flip(picture)"),
    ("md", """\
## Stride, padding, dilation and the output size

Output size $(N + 2P - F)/S + 1$, with dilation $F_{eff} = D(F - 1) + 1$. On a 7×7 input with a
3×3 filter: stride 1 gives 5×5, stride 2 gives 3×3, padding 1 keeps 7×7, and stride 3 does not fit:
$(7 - 3)/3 + 1 = 2.33$."""),
    ("code", """\
for stride, padding in [(1, 0), (2, 0), (1, 1), (3, 0)]:
    try:
        size = convlens.conv_output_size(7, 3, stride, padding, strict=True)
        print(f"stride {stride}, pad {padding}: {size}x{size}")
    except convlens.LayerFitError as err:
        print(f"stride {stride}, pad {padding}: {err}")"""),
    ("code", "viz.plot_hyperparameters(viz.sample_image('shapes', 64))"),
    ("md", """\
The lectures' parameter counts follow from $(F_w F_h C_{in} + 1) K$: 6 filters of 5×5 on 32×32×3
give 28×28×6 and 456 parameters; 10 filters with padding 2 keep 32×32 and hold 760."""),
    ("code", """\
for spec in ("conv5x5x6", "conv5x5x10p2"):
    row = convlens.summarize(spec, (3, 32, 32)).rows[0]
    print(f"{spec}: output {row.out_shape}, {row.params} parameters")"""),
]

# ---------------------------------------------------------------------------------------------
# 3. Layer arithmetic and architectures
# ---------------------------------------------------------------------------------------------

ARCHITECTURES = [
    ("md", """\
# 3. Layer arithmetic and architectures

A network is one line of spec text, written the way the lectures draw it; the summary table
computes every layer's output shape, parameters, multiply-accumulates (MACs) and receptive field.
The classic architectures come from the zoo, built on the meta device, so nothing is computed and
no memory is used."""),
    ("code", setup(third="import torch", first="import convlens\nfrom convlens.experiments import run_experiment")),
    ("md", """\
## LeNet from the lectures' table

conv 5×5×6 → avg pool → conv 5×5×16 → avg pool → conv 5×5×120 → FC 84 → FC 10 on 32×32×1: the
parameters are $(5 \\cdot 5 \\cdot 1 + 1) \\cdot 6 = 156$, 2,416, 48,120, 10,164 and 850. The
`Summary` renders as a table by itself."""),
    ("code", """\
spec = "conv5x5x6-avgpool2-conv5x5x16-avgpool2-conv5x5x120-fc84-fc10"
lenet = convlens.summarize(spec, (1, 32, 32))
lenet"""),
    ("code", """\
model = convlens.build_model(spec, (1, 32, 32))  # a real torch.nn.Module
print(model(torch.zeros(2, 1, 32, 32)).shape, convlens.format_spec(convlens.parse_spec(spec)))"""),
    ("md", """\
## The zoo: AlexNet, VGG, GoogLeNet, ResNet

The lectures compare them by size (float32 weights), depth and error. Convolutions hold most of
the computation and fully connected layers most of the parameters; `shares()` gives both."""),
    ("code", """\
with torch.device("meta"):
    for name in ("alexnet_lecture", "vgg16", "googlenet", "resnet50"):
        s = convlens.summarize(convlens.create_model(name))
        conv_p, conv_m = s.shares()["conv"]
        print(f"{name:<16} {s.total_params:>12,} parameters  {s.param_bytes / 1e6:6.1f} MB  "
              f"{s.total_macs / 1e9:6.2f} GMACs  conv: {conv_p:.0%} of parameters, {conv_m:.0%} of MACs")"""),
    ("md", """\
## Inception: naive vs with 1×1 reductions

GoogLeNet's inception module puts 1×1, 3×3 and 5×5 convolutions and a 3×3 max pool side by side.
Without 1×1 reductions in front of the big kernels the same network needs far more parameters."""),
    ("code", """\
with torch.device("meta"):
    for name in ("googlenet", "googlenet_naive"):
        print(f"{name:<16} {convlens.summarize(convlens.create_model(name)).total_params:>12,} parameters")"""),
    ("md", """\
The 1×1 bottleneck arithmetic of the slides, computed: a 28×28×128 volume into 64 filters of
5×5 costs $28 \\cdot 28 \\cdot 64 \\cdot 5 \\cdot 5 \\cdot 128 = 160{,}563{,}200$ multiplications;
reducing to 32 channels first costs 3,211,264 + 40,140,800 = 43,352,064 (the slide's 4.8M and
44.8M are wrong)."""),
    ("code", """\
direct = convlens.summarize("conv5x5x64p2", (128, 28, 28)).total_macs
reduced = convlens.summarize("conv1x1x32-conv5x5x64p2", (128, 28, 28), activation=None).total_macs
print(f"direct {direct:,}  with a 1x1 reduction {reduced:,}")"""),
    ("md", """\
## Receptive fields

Stacked 3×3 convolutions see $2L + 1$ pixels after $L$ layers; strides, pooling and dilation
multiply the jump between outputs, so the field grows exponentially
(`convlens experiment receptive-field`)."""),
    ("code", 'run_experiment("receptive-field", quick=True)'),
]

# ---------------------------------------------------------------------------------------------
# 4. Why convolution works
# ---------------------------------------------------------------------------------------------

WHY = [
    ("md", """\
# 4. Why convolution works

The lectures' inductive biases, measured: locality and parameter sharing (a conv net beats a fully
connected one on MNIST-1D, and loses its edge when the input positions are shuffled), translation
equivariance and pooling's invariance, and invariances learned by pooling over filters. Each cell
is an experiment that `convlens experiment NAME` also runs, shortened here (`quick=True`, one
seed)."""),
    ("code", setup(third="import torch", first="from convlens.experiments import run_experiment")),
    ("md", """\
## Parameter sharing, counted

A 10×10 image into a dense layer of 100 units: 10,100 parameters; one 3×3 kernel: 10; 200 kernels:
2,000. A 200×200×3 image into 120,000 units: 14.4 billion weights."""),
    ("code", 'run_experiment("parameter-sharing", counts_only=True)'),
    ("md", """\
## Fully connected vs convolutional on MNIST-1D

MNIST-1D (Greydanus & Kobak 2020) places ten digit-like 1-D shapes at random offsets with noise.
The conv net shares its kernels over positions; the MLP must learn every offset separately. The
published figures are about 94% against 68%; this short run (4 epochs) shows the gap already."""),
    ("code", 'run_experiment("fc-vs-cnn", seeds=1, quick=True)'),
    ("md", """\
## Equivariance and invariance

Shift the input: a stride-1 convolution's maps shift with it ($f(g(x)) = g(f(x))$), exactly with
circular padding; pooling absorbs small shifts, and a global average absorbs all of them."""),
    ("code", 'run_experiment("equivariance", seeds=1, quick=True, trained=False)'),
    ("md", """\
## Learned invariance

Pooling over space gives invariance to shifts. Pooling over *filters* (maxout) lets a unit learn
other invariances (Goodfellow et al., *Deep Learning*, Fig. 9.9): filters each trained on one
rotation of a pattern, and the max over them responds to every rotation."""),
    ("code", 'run_experiment("learned-invariance", quick=True)'),
    ("md", """\
## Traditional vs end-to-end

"Extract features, feed to NN" against "feed the image directly and let learning figure out the
filters": HOG features (Dalal & Triggs 2005) with a linear classifier against a small CNN on the
8×8 digits; on Iris, two thresholds on the petals against an MLP on all four measurements."""),
    ("code", """\
run_experiment("traditional", data="iris")"""),
    ("code", """\
run_experiment("traditional", data="digits", quick=True)"""),
]

# ---------------------------------------------------------------------------------------------
# 5. Training
# ---------------------------------------------------------------------------------------------

TRAINING = [
    ("md", """\
# 5. Training

`fit(model, data, config)` trains with the whole data set in memory and returns a `History`;
`evaluate` gives accuracy, per-class accuracy and the confusion matrix; checkpoints are safetensors
weights with JSON metadata (never pickles). MNIST-1D is generated locally, so nothing is
downloaded."""),
    ("code", setup(std="import tempfile\nfrom pathlib import Path", third="import numpy as np\nimport torch", first="import convlens\nfrom convlens import viz")),
    ("code", """\
train = convlens.load_dataset("mnist1d", "train")
test = convlens.load_dataset("mnist1d", "test")
train"""),
    ("md", """\
## The fast recipe

`convlens train --recipe fast --data mnist1d`: four 1-D convolutions with batch norm, global
average pooling, AdamW with a one-cycle schedule and label smoothing. About 98.5% test accuracy in
8 epochs; here 4, to keep the lesson short. `verbose=2` prints one line per epoch (`verbose=1`
adds a progress bar)."""),
    ("code", """\
spec = "conv1d3x64p1-bn-conv1d3x64p1-bn-pool2-conv1d3x128p1-bn-pool2-conv1d3x128p1-bn-gap-fc10"
model = convlens.build_model(spec, train.in_shape)
config = convlens.TrainConfig(epochs=4, batch_size=128, optimizer="adamw", lr=3e-3,
                              weight_decay=0.05, label_smoothing=0.1, schedule="onecycle",
                              warmup=0.1, device="cpu", verbose=2)
history = convlens.fit(model, train, config, val=test)
history"""),
    ("md", "## Checkpoints: save, reload, evaluate"),
    ("code", """\
folder = Path(tempfile.mkdtemp(prefix="convlens-notebook-"))
stem = convlens.save_checkpoint(folder / "mnist1d", model, config=config, data=train)
print(sorted(p.name for p in folder.iterdir()))
again = convlens.load_checkpoint(stem)
metrics = convlens.evaluate(again.model, test)
print(f"reloaded: test accuracy {metrics['acc']:.1%}")"""),
    ("md", """\
## The confusion matrix

Row $i$, column $j$: test examples of class $i$ predicted as class $j$."""),
    ("code", "viz.plot_confusion(np.array(metrics['confusion']), test.classes)"),
    ("md", """\
## Fashion-MNIST, if its files are here

Fashion-MNIST is 60,000 28×28 pictures of clothes. This notebook never downloads: it uses a local
copy (`$CONVLENS_DATA`, `~/.cache/convlens` or `/usr/share/datasets/fashion-mnist`, where Debian's
`dataset-fashion-mnist` installs it) and says so when there is none. The lectures' 28×28 net
trains for a fifth of an epoch on it."""),
    ("code", """\
try:
    fashion = convlens.load_dataset("fashion-mnist", "train", download=False)
    fashion_test = convlens.load_dataset("fashion-mnist", "test", download=False)
except convlens.DataError as err:
    fashion = None
    print(f"Fashion-MNIST skipped: {err}")
if fashion is not None:
    net = convlens.build_model("conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc10", fashion.in_shape)
    quick = convlens.TrainConfig(epochs=0.2, batch_size=128, lr=2e-3, device="cpu", verbose=0)
    fashion_history = convlens.fit(net, fashion, quick, test=fashion_test)
    print(f"Fashion-MNIST after {quick.epochs} epochs: test accuracy {fashion_history.test['acc']:.1%}")"""),
]

# ---------------------------------------------------------------------------------------------
# 6. Looking inside
# ---------------------------------------------------------------------------------------------

INSIDE = [
    ("md", """\
# 6. Looking inside

A small conv net learns the 8×8 digits in a few seconds; then we open it: the first layer's
filters, the maps each layer produces, the input gradients behind a prediction (plain
backpropagation, guided backpropagation, Grad-CAM), an image optimised to maximise a class score,
and Deep Dream."""),
    ("code", setup(third="import torch", first="""\
import convlens
from convlens import viz
from convlens.notebook import Attributions
from convlens.viz.figures import image_grid""")),
    ("code", """\
train = convlens.load_dataset("digits", "train")
test = convlens.load_dataset("digits", "test")
model = convlens.build_model("conv3x3x8p1-pool2-conv3x3x16p1-pool2-fc10", train.in_shape)
history = convlens.fit(model, train, convlens.TrainConfig(epochs=10, batch_size=32, device="cpu", verbose=0), test=test)
print(f"test accuracy {history.test['acc']:.1%}")
model.eval();"""),
    ("md", "## The first layer's filters (each scaled alone, zero weight mid grey)"),
    ("code", "viz.plot_filters(model)"),
    ("md", "## Feature maps of one test digit, layer by layer"),
    ("code", """\
x = test.float_x()[:1]
maps = viz.feature_maps(model, x, ["conv1", "relu1", "pool1", "conv2"])
viz.plot_feature_maps(maps)"""),
    ("md", """\
## What the prediction rests on

The plain gradient $\\partial y_c / \\partial x_i$; guided backpropagation, which lets no negative
gradient back through a ReLU (Springenberg et al. 2015); and Grad-CAM, the last conv layer's maps
weighted by their gradients (Selvaraju et al. 2017)."""),
    ("code", """\
Attributions(viz.to_picture(x[0], test.mean, test.std),
             {"gradient": viz.saliency(model, x[0]),
              "guided backprop": viz.guided_backprop(model, x[0]),
              "grad-cam": viz.grad_cam(model, x[0])},
             title=f"digit {int(test.y[0])}, predicted {viz.predicted_class(model, x[0])}")"""),
    ("md", """\
## "Fantasy" images and Deep Dream

Gradient ascent on the input to maximise one class's score (Simonyan et al. 2014), with the light
regularisation small pictures need; then Deep Dream, which amplifies whatever a layer already sees
in an image."""),
    ("code", """\
config = viz.ClassImageConfig(steps=60, blur_every=0, tv=1e-3)
fantasies = [viz.to_picture(viz.class_model_image(model, c, train.in_shape, config)) for c in range(10)]
image_grid(fantasies, [f"class {c}" for c in range(10)], ncols=10, panel=1.0)"""),
    ("code", """\
dream = viz.deep_dream(model, x[0], "conv2", viz.DreamConfig(octaves=1, steps=20))
image_grid([viz.to_picture(x[0], test.mean, test.std), viz.to_picture(dream)], ["input", "dream"], panel=1.6)"""),
]

# ---------------------------------------------------------------------------------------------
# 7. From scratch
# ---------------------------------------------------------------------------------------------

SCRATCH = [
    ("md", """\
# 7. From scratch

`convlens.scratch` rebuilds every piece in NumPy alone: convolution as loops and as im2col,
pooling, fully connected layers, their backward passes, SGD. The same spec builds a NumPy network
with the torch model's layer names, so it loads the torch twin's weights and gives the same
numbers; a numerical gradient check shows that every hand-written backward pass is the chain
rule."""),
    ("code", setup(third="import numpy as np\nimport torch", first="""\
import convlens
from convlens.scratch import (
    ScratchTrainConfig,
    accuracy,
    build_scratch,
    fit_scratch,
    gradcheck_all,
    numerical_gradient,
    rel_error,
)
from convlens.scratch.functional import softmax_cross_entropy""")),
    ("md", "## The NumPy network beside the torch one"),
    ("code", """\
spec = "conv5x5x6p2-pool2-conv5x5x16-pool2-fc120-fc84-fc10"
model, net = convlens.build_model(spec, (1, 28, 28)), build_scratch(spec, (1, 28, 28))
net.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})
x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
print("largest difference:", abs(net.forward(x) - model(torch.from_numpy(x)).detach().numpy()).max())"""),
    ("md", """\
## Gradient checking

Every op's backward pass against central differences $\\frac{f(w + h) - f(w - h)}{2h}$ in float64,
as relative errors; values near $10^{-8}$ or below mean the two agree."""),
    ("code", """\
checks = gradcheck_all()
worst = max(checks, key=lambda c: c.rel_error)
print(f"{len(checks)} checks, worst relative error {worst.rel_error:.1e} ({worst.op}, d/d{worst.wrt})")"""),
    ("md", """\
## Backpropagation by hand learns

An MLP on the 8×8 digits, trained by the NumPy engine alone (forward, backward and SGD written out),
after checking one weight's gradient by finite differences."""),
    ("code", """\
train, test = convlens.load_dataset("digits", "train"), convlens.load_dataset("digits", "test")
x, y = train.float_x().flatten(1).numpy().astype(np.float64), train.y.numpy()
x_test, y_test = test.float_x().flatten(1).numpy().astype(np.float64), test.y.numpy()
net = build_scratch("fc64-fc10", (64,), seed=0)
weight = net.params()["fc2.weight"]
numeric = numerical_gradient(lambda: softmax_cross_entropy(net.forward(x[:5]), y[:5])[0], weight)
net.backward(softmax_cross_entropy(net.forward(x[:5], train=True), y[:5])[1])
print(f"fc2.weight: backprop vs finite differences, relative error {rel_error(net.grads()['fc2.weight'], numeric):.1e}")
history = fit_scratch(net, x, y, ScratchTrainConfig(epochs=5, lr=0.05, batch_size=32))
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}, test accuracy {accuracy(net, x_test, y_test):.1%}")"""),
]

# fmt: on

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_neurons.ipynb": NEURONS,
    "02_convolution.ipynb": CONVOLUTION,
    "03_architectures.ipynb": ARCHITECTURES,
    "04_why_convolution.ipynb": WHY,
    "05_training.ipynb": TRAINING,
    "06_looking_inside.ipynb": INSIDE,
    "07_from_scratch.ipynb": SCRATCH,
}


def build(cells: list[tuple[str, str]]) -> str:
    """The notebook's JSON text: no outputs, no execution counts, cell ids from their position."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, id=f"cell-{i:02d}"))
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / name
        text = build(cells)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        tmp = path.with_suffix(".ipynb.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a notebook
    if stale:
        print(f"out of date: {', '.join(stale)}; run python notebooks/make_notebooks.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
