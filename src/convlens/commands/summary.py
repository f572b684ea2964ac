"""`convlens summary SPEC_OR_MODEL --input 3x32x32`: the layer table."""

from __future__ import annotations

import argparse

FORMATS = ("table", "md", "csv", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", help="a zoo model name (see `convlens zoo`) or a spec such as conv5x5x6-pool2-fc10"
    )
    parser.add_argument("--input", "-i", help="input shape without the batch, e.g. 3x32x32, 1x40 or 784 "
                        "(zoo models default to their own)")  # fmt: skip
    parser.add_argument("--format", "-f", choices=FORMATS, default="table", help="output format")
    parser.add_argument("--num-classes", type=int, help="zoo models: number of classes")
    parser.add_argument("--strict", action="store_true",
                        help="refuse layers whose stride does not fit the input exactly")  # fmt: skip
    parser.add_argument("--no-activation", action="store_true",
                        help="specs: do not add ReLU after each layer when the spec names no activation")  # fmt: skip


def resolve_model(name: str, in_shape: tuple[int, ...] | None, num_classes: int | None = None):
    """A zoo model (built on the meta device: shapes only) or a spec, and its input shape."""
    from convlens.errors import ConfigError, SpecError
    from convlens.spec import parse_spec

    zoo = _zoo_names()
    if name in zoo:
        import torch

        from convlens.models.registry import create_model

        kwargs = {"num_classes": num_classes} if num_classes else {}
        if in_shape is not None:
            kwargs["in_channels"] = in_shape[0]
        with torch.device("meta"):
            model = create_model(name, **kwargs)
        return model, in_shape or tuple(model.in_shape)
    try:
        spec = parse_spec(name)
    except SpecError as err:
        import difflib

        close = difflib.get_close_matches(name, zoo, n=3)
        if close and "-" not in name:
            raise SpecError(
                f"unknown model {name!r}; did you mean {' or '.join(close)}? (`convlens zoo` lists them)"
            ) from None
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
    from convlens.analysis.geometry import parse_shape
    from convlens.analysis.summary import summarize

    shape = parse_shape(args.input) if args.input else None
    model, shape = resolve_model(args.model, shape, args.num_classes)
    # the activation default applies to specs only; a module is summarised as it is
    activation = None if args.no_activation else "relu"
    summary = summarize(model, shape, strict=args.strict, activation=activation)
    if args.format == "table":
        from rich.console import Console

        console = Console()
        console.print(summary.rich_table())
        for line in summary.footer():
            console.print(line, highlight=False, markup=False)
    else:
        text = summary.render(args.format)
        print(text, end="" if text.endswith("\n") else "\n")
    if summary.error:
        from convlens.errors import LayerFitError

        raise LayerFitError(summary.error)
    return 0
