"""`convlens <command>`: a thin edge over the library.

Each command lives in ``convlens.commands.<module>`` with two functions,
``add_arguments(parser)`` and ``run(args) -> int``. The table below is all that this module
knows about them, so ``convlens --help`` imports neither torch nor matplotlib.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

# name -> (module under convlens.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "train a CNN and an MLP on MNIST-1D and show why convolution wins (no download)",
    ),
    "summary": ("summary", "layer-by-layer table: shapes, parameters, MACs, receptive field"),
    "arith": (
        "arith",
        "the lecture calculator: one layer's output size, parameters, receptive field",
    ),
    "zoo": ("zoo", "list the built-in models with parameters, MACs and receptive field"),
    "data": ("data", "list, inspect or prepare the data sets"),
    "train": ("train", "train a zoo model or a spec on a data set"),
    "eval": ("evaluate", "evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix"),
    "predict": ("predict", "classify image files with a checkpoint"),
    "viz": (
        "viz",
        "pictures: kernels, filters, feature maps, saliency, Grad-CAM, class images, dream",
    ),
    "report": ("report", "write the self-contained HTML report of a run directory"),
    "experiment": ("experiment", "run one of the lectures' claims as an experiment"),
    "lecture": (
        "lecture",
        "the decks' worked examples, step by step, with the slides' mistakes flagged",
    ),
    "scratch": (
        "scratch",
        "the NumPy-only engine: lecture examples, gradient checks, training a spec",
    ),
    "neurons": ("neurons", "McCulloch-Pitts neurons, perceptrons and sigmoid neurons in NumPy"),
    "bench": ("bench", "measure training speed against the loop of the PyTorch tutorials"),
    "export": ("export", "export a checkpoint to ONNX and check it with onnxruntime"),
    "studio": ("studio", "the local page: build, train, draw into and look inside a CNN"),
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one sentence and exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def _top_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convlens",
        description="Define, measure, train, look inside and rebuild convolutional networks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<11} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\nRun `convlens <command> --help` for the options of one command.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("command", nargs="?", help="one of the commands below")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--version"]:
        from convlens import __version__

        print(f"convlens {__version__}")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        _top_parser().print_help()
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        known = ", ".join(COMMANDS)
        sys.stderr.write(f"convlens: error: unknown command {name!r}; choose one of: {known}\n")
        return 2
    module = importlib.import_module(f"convlens.commands.{COMMANDS[name][0]}")
    parser = _Parser(prog=f"convlens {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    try:
        args = parser.parse_args(rest)
    except SystemExit as stop:  # --help (0) or a bad flag (2): a code, never an exception, so
        return int(stop.code or 0)  # main() can be called from Python and notebooks as well
    from convlens.malloc import keep_freed_memory

    keep_freed_memory()  # the process is a command's own: large tensors reuse freed memory
    return run_guarded(module.run, args, prog=f"convlens {name}")


def entry() -> int:
    """The ``convlens`` program (console script and ``python -m convlens``): ``main`` in a process
    of its own, which ends right after. Its objects are frozen out of the garbage collector first,
    so that the last collection at exit does not walk everything torch and matplotlib made: 0.1 s
    to exit after importing torch instead of 0.4 s. ``main`` itself leaves the collector alone, as
    a notebook or a test that calls it needs."""
    code = main()
    gc.freeze()
    return code


def run_guarded(func, args, prog: str = "convlens") -> int:
    """Run a command; user errors become one line on stderr and exit code 2."""
    from convlens.errors import ConvlensError

    try:
        return int(func(args) or 0)
    except ConvlensError as err:
        _report(f"{prog}: error: {err}")
        return 2
    except KeyboardInterrupt:
        _report(f"{prog}: interrupted")
        return 130
    except OSError as err:  # a full disk, a missing directory, a permission problem
        where = f" {err.filename!r}" if getattr(err, "filename", None) else ""
        _report(f"{prog}: error: cannot use{where}: {err.strerror or err}")
        return 2


def _report(line: str) -> None:
    # torchrun starts every process with RANK set and they fail alike: rank 0 alone says why,
    # the others stay silent (and still exit with the same code)
    if os.environ.get("RANK", "0") == "0":
        sys.stderr.write(line + "\n")


if __name__ == "__main__":
    raise SystemExit(entry())
