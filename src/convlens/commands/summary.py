"""`convlens summary SPEC_OR_MODEL --input 3x32x32`: the layer table."""

from __future__ import annotations

import argparse

from convlens.commands._format_args import add_format_arguments
from convlens.commands._shape_args import add_shape_arguments

FORMATS = ("table", "md", "csv", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="+",
        metavar="MODEL",
        help="a zoo model name (see `convlens zoo`), a spec such as conv5x5x6-pool2-fc10 (its "
        "layers may also come as separate words), a run directory or checkpoint NAME.json, or "
        "your own nn.Module as FILE.py:NAME or module:NAME",
    )
    parser.add_argument("--kwargs", help="FILE.py:NAME models: JSON keyword arguments, e.g. "
                        "'{\"num_classes\": 10}'")  # fmt: skip
    add_shape_arguments(
        parser,
        "input shape without the batch, e.g. 3x32x32 or 32x32x3 (read as HxWxC, said on stderr), "
        "1x40 or 784 (zoo models default to their own)",
    )
    parser.add_argument("--width", type=int,
                        help="table width in characters (default: the terminal's; a pipe gets the full table)")  # fmt: skip
    add_format_arguments(parser, FORMATS)
    parser.add_argument("--num-classes", type=int, help="zoo models: number of classes")
    parser.add_argument("--strict", action="store_true",
                        help="refuse layers whose stride does not fit the input exactly")  # fmt: skip
    parser.add_argument("--no-activation", action="store_true",
                        help="specs: do not add ReLU after each layer when the spec names no activation")  # fmt: skip


def resolve_model(
    name: str,
    in_shape: tuple[int, ...] | None,
    num_classes: int | None = None,
    model_kwargs: str | None = None,
):
    """A zoo model (built on the meta device: shapes only; one of modest size then gets
    uninitialised memory for one real forward pass), a spec or the user's FILE.py:NAME
    (called with the JSON ``model_kwargs``), and its input shape."""
    from convlens.errors import ConfigError, SpecError
    from convlens.models.user import is_reference, load_user_model
    from convlens.spec import parse_spec

    if is_reference(name):
        model = load_user_model(name, model_kwargs)
        shape = in_shape or getattr(model, "in_shape", None)
        if not shape:
            raise ConfigError(f"give the input shape of {name} with --input, e.g. --input 3x32x32")
        return model, tuple(shape)
    if model_kwargs:
        raise ConfigError("--kwargs is for a model given as FILE.py:NAME or module:NAME.")
    try:  # a spec first: no zoo name parses as one, and a spec's table needs no torch (1.2 s)
        spec = parse_spec(name)
    except SpecError as err:
        from convlens.models.source import is_checkpoint

        if is_checkpoint(name):  # a run directory or NAME.json: its model
            from convlens.train import load_checkpoint

            ckpt = load_checkpoint(name)
            return ckpt.model, tuple(in_shape or ckpt.in_shape)
        zoo = _zoo_names()
        if name in zoo:
            from convlens.analysis.summary import zoo_model_for_shapes

            return zoo_model_for_shapes(name, in_shape, num_classes)
        if zoo:
            from convlens.models.registry import closest_model

            if closest_model(name):
                raise  # parse_spec's sentence already names the zoo model that was meant
        hint = " nor a zoo model (see `convlens zoo`)" if zoo else ""
        raise SpecError(f"{name!r} is not a valid spec{hint}: {err}") from None
    if in_shape is None:
        raise ConfigError("a spec needs --input, e.g. --input 1x28x28 (channels x height x width)")
    return spec, in_shape


def _zoo_names() -> list[str]:
    try:
        from convlens.models.registry import list_models
    except ImportError:
        return []
    return list_models()


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import sys

    from convlens.analysis.summary import summarize
    from convlens.errors import ConfigError, LayerFitError
    from convlens.shapes import read_shape
    from convlens.tables import terminal_width

    if args.width is not None and args.width < 20:
        raise ConfigError(f"--width must be at least 20 characters, not {args.width}")
    shape = None
    if args.input:
        read = read_shape(args.input, args.layout)
        if read.note:
            print(read.note, file=sys.stderr)
        shape = read.shape
    model, shape = resolve_model("-".join(args.model), shape, args.num_classes, args.kwargs)
    # the activation default applies to specs only; a module is summarised as it is
    activation = None if args.no_activation else "relu"
    summary = summarize(model, shape, strict=args.strict, activation=activation)
    if summary.error and not summary.rows:  # not even the first layer fits: no table to show
        raise LayerFitError(summary.error)
    # the layers that fit, then the error once, on stderr (JSON keeps it as data)
    shown = summary if args.format == "json" else dataclasses.replace(summary, error="")
    text = shown.render(args.format, width=args.width or terminal_width(), channels_last=args.hwc)
    print(text, end="" if text.endswith("\n") else "\n")
    if summary.error:
        raise LayerFitError(summary.error)
    return 0
