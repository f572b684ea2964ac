"""Traditional vs end-to-end: hand-crafted features with a linear classifier, against a network
that learns its own features from the raw input (LECTURES.md §8).

The "traditional" pipeline extracts features chosen by a person, then fits a classifier on them.
For images the features are histograms of oriented gradients (HOG; Dalal & Triggs, "Histograms of
Oriented Gradients for Human Detection", CVPR 2005): centred [-1, 0, 1] gradients, 9 unsigned
orientation bins over 0-180 degrees with each pixel's magnitude split linearly between the two
nearest bins, cells of c x c pixels, and blocks of 2 x 2 cells (stride one cell) normalised by
L2-Hys (L2, clip at 0.2, L2 again), the choices their paper found best. The classifier is
softmax (multinomial logistic) regression. For Iris the "features" are the petal measurements,
and the hand-made classifier is the two thresholds read off the petal scatter plot (petal length
< 2.45 cm is setosa; otherwise petal width < 1.75 cm is versicolor, else virginica).

The "end-to-end" side feeds the pixels (or all four measurements) to a network and lets training
choose the filters: a small CNN for images, a one-hidden-layer MLP for Iris. A linear classifier
on the raw pixels is shown as well, to separate what the features add from what the classifier
adds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlens.errors import ConfigError, DataError
from convlens.experiments.result import ExperimentResult, FigureData, Series

BINS = 9  # orientation bins over 0-180 degrees (Dalal & Triggs 2005, Fig. 4(b))
BLOCK = 2  # cells per block side
CLIP = 0.2  # L2-Hys clipping (Dalal & Triggs 2005, section 6.4)


# ---------------------------------------------------------------------------------------------
# HOG features, NumPy only
# ---------------------------------------------------------------------------------------------


def gradients(images: NDArray) -> tuple[NDArray, NDArray]:
    """Centred differences [-1, 0, 1] along x (columns) and y (rows) of (N, H, W) images; zero
    on the border pixels, which have no neighbour on one side."""
    img = np.asarray(images, dtype=np.float64)
    gx, gy = np.zeros_like(img), np.zeros_like(img)
    gx[:, :, 1:-1] = img[:, :, 2:] - img[:, :, :-2]
    gy[:, 1:-1, :] = img[:, 2:, :] - img[:, :-2, :]
    return gx, gy


def cell_histograms(images: NDArray, cell: int, bins: int = BINS) -> NDArray:
    """(N, H, W) -> (N, H // cell, W // cell, bins): per cell, the gradient magnitudes voted into
    unsigned orientation bins centred at 0, 180/bins, ... degrees, split linearly between the two
    nearest centres (a pixel at 45 degrees with 20-degree bins: 3/4 to 40, 1/4 to 60)."""
    gx, gy = gradients(images)
    mag = np.hypot(gx, gy)
    pos = (np.degrees(np.arctan2(gy, gx)) % 180.0) / (180.0 / bins)
    lo = np.floor(pos).astype(np.int64) % bins
    hi = (lo + 1) % bins
    frac = pos - np.floor(pos)
    n, h, w = mag.shape
    ch, cw = h // cell, w // cell
    # cell index of every pixel inside the cropped grid; the rest of the image is dropped
    rows, cols = np.arange(ch * cell) // cell, np.arange(cw * cell) // cell
    cell_id = (rows[:, None] * cw + cols[None, :]).ravel()
    base = np.arange(n)[:, None] * (ch * cw * bins) + cell_id[None, :] * bins  # (N, pixels)
    crop = (slice(None), slice(0, ch * cell), slice(0, cw * cell))
    votes = np.zeros(n * ch * cw * bins)
    for idx, weight in ((lo, 1 - frac), (hi, frac)):
        flat = (base + idx[crop].reshape(n, -1)).ravel()
        votes += np.bincount(flat, (mag * weight)[crop].ravel(), minlength=votes.size)
    return votes.reshape(n, ch, cw, bins)


def hog(images: NDArray, cell: int, bins: int = BINS, block: int = BLOCK) -> NDArray:
    """HOG descriptor of (N, H, W) images: (N, blocks * block^2 * bins), each block L2-Hys
    normalised (v / sqrt(|v|^2 + eps^2), clipped at 0.2, renormalised)."""
    # a few thousand images at a time: the gradients of all 60,000 Fashion-MNIST images in
    # float64 would take gigabytes
    chunk = 4096
    hist = np.concatenate([cell_histograms(images[i : i + chunk], cell, bins)
                           for i in range(0, max(len(images), 1), chunk)])  # fmt: skip
    n, ch, cw, _ = hist.shape
    if ch < block or cw < block:
        raise ConfigError(
            f"{block}x{block} cells of {cell} pixels do not fit a "
            f"{images.shape[1]}x{images.shape[2]} image"
        )
    blocks = [hist[:, i : i + block, j : j + block].reshape(n, -1)
              for i in range(ch - block + 1) for j in range(cw - block + 1)]  # fmt: skip
    v = np.stack(blocks, axis=1)  # (N, blocks, block^2 * bins)
    eps = 1e-3
    v = v / np.sqrt((v**2).sum(-1, keepdims=True) + eps**2)
    v = np.minimum(v, CLIP)
    v = v / np.sqrt((v**2).sum(-1, keepdims=True) + eps**2)
    return v.reshape(n, -1)


# ---------------------------------------------------------------------------------------------
# Iris by hand
# ---------------------------------------------------------------------------------------------

PETAL_LENGTH, PETAL_WIDTH = 2, 3  # columns of Fisher's table: sepal l, sepal w, petal l, petal w


def iris_rule(x: NDArray) -> NDArray:
    """The two hand-picked thresholds: 0 setosa, 1 versicolor, 2 virginica (x in cm, (N, 4))."""
    x = np.asarray(x)
    return np.where(x[:, PETAL_LENGTH] < 2.45, 0, np.where(x[:, PETAL_WIDTH] < 1.75, 1, 2))


# ---------------------------------------------------------------------------------------------
# Classifiers on feature vectors (a short explicit torch loop)
# ---------------------------------------------------------------------------------------------


def fit_classifier(
    x: NDArray, y: NDArray, classes: int, *, hidden: int = 0, steps: int = 300, seed: int = 0,
    lr: float = 0.05, weight_decay: float = 1e-4, batch_size: int = 2048,
) -> tuple[Callable[[NDArray], NDArray], int]:  # fmt: skip
    """Softmax regression (``hidden=0``) or a one-hidden-layer ReLU MLP on standardised features,
    Adam on the cross-entropy for ``steps`` steps: full batch when the data fit in one
    ``batch_size``, else shuffled mini-batches (a full-batch step over 60,000 HOG vectors costs as
    much as a whole epoch). Returns the predictor and its parameter count."""
    import torch

    mean, std = x.mean(0), x.std(0) + 1e-8
    xt = torch.tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.int64)
    torch.manual_seed(seed)
    layers: list[Any] = [torch.nn.Linear(x.shape[1], hidden or classes)]
    if hidden:
        layers += [torch.nn.ReLU(), torch.nn.Linear(hidden, classes)]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    order, at = torch.randperm(len(yt), generator=g), 0
    for _ in range(steps):
        if len(yt) <= batch_size:
            xb, yb = xt, yt
        else:
            if at + batch_size > len(yt):  # a new epoch: a new order
                order, at = torch.randperm(len(yt), generator=g), 0
            idx = order[at : at + batch_size]
            at += batch_size
            xb, yb = xt[idx], yt[idx]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
    model.eval()

    def predict(z: NDArray) -> NDArray:
        with torch.no_grad():
            zt = torch.tensor((z - mean) / std, dtype=torch.float32)
            return model(zt).argmax(1).numpy()

    return predict, sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------

# per image data set: HOG cell size, the CNN spec, its training recipe, and the training examples
# that --quick keeps (the first ones)
IMAGE_SETS: dict[str, dict[str, Any]] = {
    "digits": {
        "cell": 2,
        "cnn": "conv3x3x16p1-pool2-conv3x3x32p1-pool2-fc10",
        "epochs": 15.0,
        "batch_size": 32,
        "lr": 3e-3,
        "quick_train": None,
    },
    # the lectures' 28x28 example network (LECTURES.md §3, last worked example)
    "fashion-mnist": {
        "cell": 4,
        "cnn": "conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc10",
        "epochs": 2.0,
        "batch_size": 128,
        "lr": 2e-3,
        "quick_train": 6000,
    },
}


# bar labels: the approach in a few words
_SHORT = {"HOG": "HOG + linear", "pixels": "pixels + linear", "CNN": "CNN", "thresholds": "rule",
          "petal features": "petals + linear", "MLP": "MLP"}  # fmt: skip


def _short(approach: str) -> str:
    return next((v for k, v in _SHORT.items() if k in approach), approach)


def _accuracy(pred: NDArray, y: NDArray) -> float:
    return float((np.asarray(pred) == np.asarray(y)).mean())


def _images(data: Any) -> NDArray:
    """(N, H, W) float64 in [0, 1] of a one-channel image TensorData."""
    return data.float_x(normalize=False)[:, 0].numpy().astype(np.float64)


def compare_images(name: str, train: Any, test: Any, *, quick: bool, seed: int = 0) -> list[tuple]:
    """Rows (data, approach, features, inputs, parameters, test accuracy) for one image set."""
    from convlens.experiments.training import Net, Recipe, build_net, head, train_once

    spec = IMAGE_SETS[name]
    if quick and spec["quick_train"]:
        train = head(train, spec["quick_train"])
    x_tr, x_te = _images(train), _images(test)
    y_tr, y_te = train.y.numpy(), test.y.numpy()
    rows = []
    steps = 150 if quick else 300
    h_tr, h_te = hog(x_tr, spec["cell"]), hog(x_te, spec["cell"])
    predict, params = fit_classifier(h_tr, y_tr, train.num_classes, steps=steps, seed=seed)
    rows.append(
        (
            name,
            "traditional: HOG + linear classifier",
            f"HOG, {spec['cell']}×{spec['cell']} cells, {BINS} bins",
            h_tr.shape[1],
            params,
            _accuracy(predict(h_te), y_te),
        )
    )
    p_tr, p_te = x_tr.reshape(len(x_tr), -1), x_te.reshape(len(x_te), -1)
    predict, params = fit_classifier(p_tr, y_tr, train.num_classes, steps=steps, seed=seed)
    rows.append(
        (
            name,
            "linear classifier on pixels",
            "raw pixels",
            p_tr.shape[1],
            params,
            _accuracy(predict(p_te), y_te),
        )
    )
    recipe = Recipe(epochs=spec["epochs"], batch_size=spec["batch_size"], lr=spec["lr"], evals=1)
    model = build_net(Net("CNN", "conv", spec["cnn"]), train.in_shape, train.num_classes, seed)
    run = train_once(model, train, test, recipe, seed)
    rows.append(
        (
            name,
            f"end-to-end: CNN {spec['cnn']}",
            "learned filters",
            int(np.prod(train.in_shape)),
            sum(p.numel() for p in model.parameters()),
            run["test_acc"],
        )
    )
    return rows


def compare_iris(train: Any, test: Any, *, seed: int = 0) -> list[tuple]:
    x_tr, x_te = (d.float_x(normalize=False).numpy().astype(np.float64) for d in (train, test))
    y_tr, y_te = train.y.numpy(), test.y.numpy()
    rows: list[tuple] = [("iris", "traditional: two thresholds by hand",
                          "petal length < 2.45, petal width < 1.75", 2, 0,
                          _accuracy(iris_rule(x_te), y_te))]  # fmt: skip
    petals = [PETAL_LENGTH, PETAL_WIDTH]
    predict, params = fit_classifier(x_tr[:, petals], y_tr, 3, seed=seed)
    rows.append(
        (
            "iris",
            "traditional: petal features + linear classifier",
            "petal length and width",
            2,
            params,
            _accuracy(predict(x_te[:, petals]), y_te),
        )
    )
    predict, params = fit_classifier(x_tr, y_tr, 3, hidden=16, seed=seed)
    rows.append(
        (
            "iris",
            "end-to-end: MLP 4-16-3",
            "all four measurements",
            4,
            params,
            _accuracy(predict(x_te), y_te),
        )
    )
    return rows


def traditional_vs_end_to_end(
    *, quick: bool = False, data: str | None = None, seed: int = 0
) -> ExperimentResult:
    """HOG + linear vs CNN on digits and Fashion-MNIST (when its files are here); rule vs MLP on
    Iris. ``data`` picks one of digits, fashion-mnist, iris (default: all that are available)."""
    names = ("digits", "fashion-mnist", "iris")
    if data is not None and data not in names:
        raise ConfigError(f"traditional takes --data {', '.join(names)}, not {data!r}")
    rows, skipped = _compare_all(names if data is None else (data,), data is not None, quick, seed)
    findings = [*skipped, *_findings(rows)]
    labels = tuple(f"{r[0]}\n{_short(r[1])}" for r in rows)
    return ExperimentResult(
        name="traditional",
        title="Traditional features vs end-to-end learning",
        claim="Instead of extracting features by hand and feeding them to a classifier, feed the "
        "raw input and let learning figure out which features (filters) to extract.",
        columns=(
            "data",
            "approach",
            "features",
            "inputs to classifier",
            "learned parameters",
            "test accuracy",
        ),
        rows=tuple(rows),
        findings=tuple(findings),
        figures=(
            FigureData(
                "traditional_accuracy",
                "Test accuracy: hand-made features vs learned",
                "",
                "test accuracy",
                (
                    Series(
                        "test accuracy",
                        tuple(float(i) for i in range(len(rows))),
                        tuple(r[5] for r in rows),
                    ),
                ),
                kind="bar",
                xticks=labels,
            ),
        ),
        data={
            "rows": [
                dict(zip(("data", "approach", "features", "inputs", "params", "test_acc"), r))
                for r in rows
            ],
            "skipped": skipped,
        },
        options={"quick": quick, "data": data, "seed": seed},
        command="convlens experiment traditional"
        + (" --quick" if quick else "")
        + (f" --data {data}" if data else ""),
    )


def _compare_all(
    names: tuple[str, ...], required: bool, quick: bool, seed: int
) -> tuple[list[tuple], list[str]]:
    """Every comparison's rows, and a line for each data set that is not here (when optional)."""
    import torch

    from convlens.data import load_dataset

    rows: list[tuple] = []
    skipped: list[str] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: see experiments.training.Recipe.threads
    try:
        for name in names:
            try:
                # never download here: Fashion-MNIST is used when a local copy exists
                train = load_dataset(name, "train", download=False)
                test = load_dataset(name, "test", download=False)
            except DataError as err:
                if required:
                    raise
                skipped.append(f"{name} skipped: {err}")
                continue
            if name == "iris":
                rows += compare_iris(train, test, seed=seed)
            else:
                rows += compare_images(name, train, test, quick=quick, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return rows, skipped


def _findings(rows: list[tuple]) -> list[str]:
    """Per data set: the best traditional approach against the end-to-end one."""
    findings = []
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        trad = max((r for r in mine if r[1].startswith("traditional")), key=lambda r: r[5])
        e2e = next(r for r in mine if r[1].startswith("end-to-end"))
        gap = 100 * (e2e[5] - trad[5])
        findings.append(
            f"{name}: {trad[1].split(': ')[1]} {100 * trad[5]:.1f}%, {e2e[1].split(': ')[1]} "
            f"{100 * e2e[5]:.1f}% ({gap:+.1f} points for learning the features)."
        )
    return findings
