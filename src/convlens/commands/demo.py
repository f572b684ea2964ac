"""`convlens demo`: why convolution wins, shown on MNIST-1D in about a minute, offline."""

from __future__ import annotations

import argparse

# The two networks of Greydanus & Kobak (2020), "Scaling down deep learning", written as specs:
# a 1-D CNN with 5,210 parameters and an MLP with 15,210 parameters on 40-sample signals.
CNN_SPEC = "conv1d5x25s2p1-conv1d3x25s2p1-conv1d3x25s2p1-fc10"
MLP_SPEC = "fc100-fc100-fc10"
MNIST1D_SHAPE = (1, 40)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="convlens-runs/demo", help="run directory")


def run(args: argparse.Namespace) -> int:
    from convlens.analysis.summary import summarize

    for title, spec in (("CNN", CNN_SPEC), ("MLP", MLP_SPEC)):
        print(summarize(spec, MNIST1D_SHAPE, title=f"{title}: {spec}"))
    print(f"the full demo (training and report) will write to {args.out}")
    return 0
