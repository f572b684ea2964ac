"""`convlens scratch`: the NumPy-only engine.

convlens scratch train conv3x3x16p1-pool2-conv3x3x32p1-pool2-fc64-fc10 --data digits --epochs 12
convlens scratch gradcheck
convlens scratch examples      the lectures' worked examples through the NumPy engine
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import time

from convlens.commands._data_args import DATA_HELP, add_data_arguments, load_data
from convlens.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from convlens.scratch.train import ScratchTrainConfig

    sub = parser.add_subparsers(dest="action", metavar="{train,gradcheck,examples}")
    train = sub.add_parser("train", help="train a spec's network in NumPy on a data set")
    train.add_argument(
        "spec", help="network spec, e.g. conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10"
    )
    train.add_argument("--data", default="digits", help=f"{DATA_HELP} (default digits)")
    train.add_argument("--data-dir", help="where the data set files are (default: search)")
    train.add_argument("--limit", type=int, help="train on the first N training samples only")
    train.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    train.add_argument("--conv", choices=("im2col", "naive"), default="im2col",
                       help="convolution form (naive: the loops of the formula, slow)")  # fmt: skip
    train.add_argument("--threads", type=int, default=1,
                       help="BLAS threads (default 1: the matrices are small, and on a busy "
                       "machine more threads than free cores slows NumPy down many times)")  # fmt: skip
    for f in dataclasses.fields(ScratchTrainConfig):
        train.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default,
                           help=f"{f.metadata['help']} (default {f.default})")  # fmt: skip
    add_data_arguments(train)
    sub.add_parser("examples", help="the lectures' convolution and pooling examples, worked")
    check = sub.add_parser("gradcheck", help="every op's backward pass against central differences")
    check.add_argument("--seed", type=int, default=0, help="random inputs' seed (default 0)")
    check.add_argument("--tolerance", type=float, default=1e-6,
                       help="largest relative error that passes (default 1e-6)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.action == "train":
        return _train(args)
    if args.action == "gradcheck":
        return _gradcheck(args)
    if args.action == "examples":
        return _examples()
    raise ConfigError(
        "choose an action: convlens scratch train SPEC --data NAME, convlens scratch gradcheck "
        "or convlens scratch examples"
    )


def _blas_threads(n: int):
    if n < 1:
        raise ConfigError(f"--threads must be at least 1, not {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl NumPy keeps its own setting
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def _load(args: argparse.Namespace, split: str, dtype, limit=None):
    data = load_data(args, args.data, split)
    x, y = data.float_x().numpy().astype(dtype), data.y.numpy()
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1, not {limit}")
        x, y = x[:limit], y[:limit]
    return x, y, data.in_shape, data.num_classes


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from convlens.scratch import ScratchTrainConfig, build_scratch, fit_scratch

    config = ScratchTrainConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(ScratchTrainConfig)}
    )
    dtype = np.dtype(args.dtype)
    x, y, in_shape, classes = _load(args, "train", dtype, args.limit)
    x_test, y_test, _, _ = _load(args, "test", dtype)
    # the same seed also draws the initial weights, so a run is replayed by its flags
    net = build_scratch(args.spec, in_shape, dtype=dtype, conv_impl=args.conv, seed=config.seed)
    out = net.forward(x[:1]).shape[1:]
    if out != (classes,):
        raise ConfigError(
            f"the network ends in {out} values but {args.data} has {classes} classes; "
            f"end the spec with fc{classes}"
        )
    params = sum(v.size for v in net.params().values())
    print(f"scratch network (NumPy {args.dtype}, {args.conv} convolution), {params:,} parameters:")
    print("  " + " -> ".join(net.layers))
    print(f"data {args.data}: {len(x)} training and {len(x_test)} test samples of shape "
          f"{'x'.join(map(str, in_shape))}; SGD lr {config.lr}, momentum {config.momentum}, "
          f"batch {config.batch_size}, {config.epochs} epochs, seed {config.seed}")  # fmt: skip
    start = time.perf_counter()

    def show(epoch, history):
        print(f"epoch {epoch + 1:>3}/{config.epochs}  loss {history.train_loss[-1]:.4f}  "
              f"train {history.train_acc[-1]:6.1%}  test {history.test_acc[-1]:6.1%}  "
              f"{time.perf_counter() - start:6.1f} s")  # fmt: skip

    with _blas_threads(args.threads):
        history = fit_scratch(net, x, y, config, x_test, y_test, on_epoch=show)
    print(f"final test accuracy {history.test_acc[-1]:.2%}")
    return 0


def _gradcheck(args: argparse.Namespace) -> int:
    from convlens.scratch.gradcheck import gradcheck_all

    results = gradcheck_all(args.seed)
    width = max(len(r.op) for r in results)
    print(f"{'op':<{width}}  {'wrt':<10}  {'entries':>7}  relative error")
    for r in results:
        verdict = "ok" if r.rel_error < args.tolerance else "FAIL"
        print(f"{r.op:<{width}}  {r.wrt:<10}  {r.size:>7}  {r.rel_error:.2e}  {verdict}")
    failed = sum(r.rel_error >= args.tolerance for r in results)
    worst = max(r.rel_error for r in results)
    print(f"{len(results)} gradients checked in float64, worst relative error {worst:.2e}; "
          f"{failed} above {args.tolerance:g}")  # fmt: skip
    return 1 if failed else 0


def _examples() -> int:
    import numpy as np

    from convlens.scratch import convolve2d, correlate2d, pool_forward

    def show(title, array):
        rows = np.array2string(np.asarray(array), separator=", ").replace("\n", "\n    ")
        print(f"{title}\n    {rows}")

    # shared/LECTURES.md, section 3
    image = np.array(
        [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    )
    kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    show("input I (5x5)", image)
    show("kernel K (3x3)", kernel)
    corr = correlate2d(image.astype(float), kernel.astype(float)).astype(int)
    show("cross-correlation s(i,j) = sum_m sum_n I(i+m, j+n) K(m,n)  (what networks compute)", corr)
    conv = convolve2d(image.astype(float), kernel.astype(float)).astype(int)
    show("true convolution s(i,j) = sum_m sum_n I(m,n) K(i-m, j-n)  (the kernel flipped)", conv)
    show("flipped kernel K[::-1, ::-1]", kernel[::-1, ::-1])
    flipped = correlate2d(image.astype(float), kernel[::-1, ::-1].astype(float)).astype(int)
    same = "equals" if np.array_equal(flipped, conv) else "DIFFERS FROM"
    print(f"cross-correlation with the flipped kernel {same} the true convolution\n")
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    show("input (4x4)", x)
    for kind in ("max", "avg"):
        out, _ = pool_forward(x[None, None].astype(float), kind, 2, 2)
        show(f"{kind} pooling 2x2, stride 2", out[0, 0])
    return 0
