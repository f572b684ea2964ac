"""`convlens viz KIND [CKPT] --out DIR`: pictures of what a network computes, written as PNGs.

KIND is one of the names in ``KINDS``. ``kernels`` needs no checkpoint: it applies the lecture's
hand-made kernels to ``--input FILE`` or a bundled sample picture. Every other kind reads a
checkpoint (a run directory or NAME.json) and, where it needs an input, takes an image file (after
the checkpoint, or ``--input FILE``) or test example ``--index N`` of the checkpoint's data set.
"""

from __future__ import annotations

import argparse

from convlens.commands._data_args import add_data_arguments, check_options, data_options

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".pdf")  # --out names a folder, not these

KINDS: dict[str, str] = {
    "kernels": "hand-made kernels, convolution vs cross-correlation, stride/padding/dilation",
    "filters": "the weights of a conv layer (--layer, default the first)",
    "maps": "feature maps of every conv layer (or --layer) for one input",
    "saliency": "plain gradient, guided backprop, deconvnet and SmoothGrad for one input",
    "gradcam": "Grad-CAM, guided Grad-CAM, occlusion for one input (--layer, default the last "
    "conv whose map is larger than 1x1)",
    "rf": "the receptive field of one unit (--layer, --unit I,J) drawn on the input",
    "top": "test crops that excite one channel most (--layer, --channel)",
    "class": "class-model images: inputs optimised for each class (or --class C)",
    "dream": "Deep Dream of one input at a layer (--layer, default last conv; --octaves N)",
    "curves": "loss and accuracy curves of a run directory",
    "confusion": "confusion matrix and the most confidently wrong test examples",
    "pixels": "an image file printed as matrices of 0-255 values, grey or --rgb; --size N "
    "(longer side) or HxW, default 12",
}


INPUT_KINDS = (
    "kernels",
    "maps",
    "saliency",
    "gradcam",
    "rf",
    "dream",
)  # the kinds that take --input


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "kinds:\n" + "\n".join(f"  {k:<10} {v}" for k, v in KINDS.items())
    parser.add_argument(
        "kind", nargs="?", choices=list(KINDS), metavar="KIND", help="what to draw (see below)"
    )
    parser.add_argument(
        "checkpoint",
        nargs="?",
        help="run directory, NAME.json, zoo model or FILE.py:NAME (not for kernels; pixels: the image file)",
    )
    parser.add_argument(
        "image",
        nargs="?",
        metavar="IMAGE",
        help="an image file to look at, the same as --input (maps, saliency, gradcam, rf, dream)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--input",
        "--image",
        dest="input",
        help="an image file (kernels: default a bundled sample picture)",
    )
    source.add_argument(
        "--index", type=int, help="test example N of the checkpoint's data set (default 0)"
    )
    parser.add_argument(
        "--sample",
        default="shapes",
        choices=("shapes", "hopper"),
        help="kernels: bundled picture (default shapes)",
    )
    parser.add_argument("--layer", help="module path of a layer, e.g. conv2 or layer1.0.conv2")
    parser.add_argument(
        "--class",
        dest="target",
        help="class index or name, e.g. 251 or dalmatian (default: the prediction)",
    )
    parser.add_argument(
        "--weights", help="zoo or FILE.py:NAME models: a .pth / .safetensors state dict to load"
    )
    parser.add_argument("--kwargs", help="FILE.py:NAME models: JSON keyword arguments")
    parser.add_argument(
        "--channel", type=int, default=0, help="top: channel of --layer (default 0)"
    )
    parser.add_argument(
        "--unit", help="rf: unit position I,J in the layer's map (default: the centre)"
    )
    parser.add_argument(
        "--kernel",
        action="append",
        help="kernels: a kernel such as laplacian, sobel_x, blur or sharpen (repeatable)",
    )
    parser.add_argument("--steps", type=int, help="class/dream: optimisation steps")
    parser.add_argument(
        "--octaves",
        type=int,
        metavar="N",
        help="dream: how many scales to dream at (default: as many as the model can take)",
    )
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")
    parser.add_argument("--out", default="viz", help="folder for the PNG files (default: ./viz)")
    parser.add_argument(
        "--rgb", action="store_true", help="pixels: the R, G and B planes, not grey"
    )
    parser.add_argument("--scaled", action="store_true",
                        help="pixels: also print the values divided by 255, as the network sees them")  # fmt: skip
    add_data_arguments(
        parser,
        data=True,
        data_help="data set name or path of the test examples (default: the checkpoint's)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from convlens.errors import ConfigError

    if args.kind is None:
        raise ConfigError(
            "choose what to draw: convlens viz KIND, where KIND is one of "
            f"{', '.join(KINDS)} (`convlens viz --help` says what each draws)."
        )
    out = Path(args.out)
    if args.kind == "pixels":
        return _pixels(args)
    if args.kind == "kernels" and args.checkpoint and args.image is None:
        from convlens.data.folder import IMAGE_SUFFIXES

        if args.checkpoint.lower().endswith(IMAGE_SUFFIXES):  # `viz kernels photo.jpg`
            args.checkpoint, args.image = None, args.checkpoint
    _take_image(args)
    if out.suffix.lower() in PICTURE_SUFFIXES and not out.is_dir():
        raise ConfigError(
            f"--out is the folder the pictures go into, not one picture's name ({args.out!r}); "
            f"try --out {out.with_suffix('')}."
        )
    if args.kind == "kernels":
        if args.checkpoint:
            raise ConfigError(
                "`convlens viz kernels` draws the lecture's hand-made kernels and takes no "
                f"checkpoint ({args.checkpoint!r}); a model's learned ones: "
                f"`convlens viz filters {args.checkpoint}`."
            )
        written = _kernels(args, out)
    else:
        if not args.checkpoint:
            raise ConfigError(
                f"`convlens viz {args.kind}` needs a checkpoint: a run directory or NAME.json"
            )
        from convlens.viz.gallery import draw

        options = data_options(args)
        if args.data:
            check_options(args.data, options)
        written = draw(_request(args, options), out)
    for path in written:
        print(path)
    return 0


def _take_image(args: argparse.Namespace) -> None:
    """The image given after the model, as --input; refused where the kind draws no input, or
    where it comes twice."""
    from convlens.errors import ConfigError

    if args.image is not None:
        if args.input is not None or args.index is not None:
            given = "--input" if args.input is not None else "--index"
            raise ConfigError(
                f"give the input once: the image {args.image!r} or {given}, not both."
            )
        args.input = args.image
    if args.input is not None and args.kind not in INPUT_KINDS:
        raise ConfigError(
            f"`convlens viz {args.kind}` draws no input image ({args.input!r}); the kinds that "
            f"look at one are {', '.join(INPUT_KINDS)}."
        )


def _request(args: argparse.Namespace, options: dict):
    """The flags as the gallery's GalleryRequest."""
    from convlens.errors import ConfigError
    from convlens.viz.gallery import GalleryRequest

    unit = None
    if args.unit:
        try:
            unit = tuple(int(v) for v in str(args.unit).split(","))
        except ValueError:
            raise ConfigError(f"--unit must be integers such as 3,4, not {args.unit!r}") from None
    return GalleryRequest(
        kind=args.kind, checkpoint=args.checkpoint, input=args.input, index=args.index,
        layer=args.layer, target=args.target, channel=args.channel, unit=unit, steps=args.steps,
        octaves=args.octaves,
        data_dir=args.data_dir, data=args.data, data_options=tuple(options.items()),
        weights=args.weights, kwargs=args.kwargs,
    )  # fmt: skip


def _kernels(args: argparse.Namespace, out):
    from convlens.viz import (
        load_image,
        plot_flip,
        plot_hyperparameters,
        plot_kernels,
        sample_image,
        save_png,
    )
    from convlens.viz.kernels import get_kernel

    image = load_image(args.input) if args.input else sample_image(args.sample, 128)
    names = args.kernel or None
    for name in names or ():
        get_kernel(name)  # one clear error for an unknown name before anything is written
    flip_kernel = names[0] if names else "shift"
    return [
        save_png(plot_kernels(image, names), out / "kernels.png"),
        save_png(plot_flip(image, flip_kernel), out / "flip.png"),
        save_png(
            plot_hyperparameters(image, names[0] if names else "laplacian"),
            out / "hyperparameters.png",
        ),
    ]


def _pixels(args: argparse.Namespace) -> int:
    from convlens.errors import ConfigError
    from convlens.viz.pixels import parse_size, pixel_matrices

    image = args.checkpoint or args.input
    if not image:
        raise ConfigError(
            "`convlens viz pixels` needs an image file: convlens viz pixels IMAGE --size 12"
        )
    matrices = pixel_matrices(image, parse_size(args.size or "12"), colour=args.rgb)
    h, w = matrices.size
    print(f"{image}: {matrices.original_size[0]}x{matrices.original_size[1]} pixels, "
          f"resized to {h}x{w} (height x width), values 0-255")  # fmt: skip
    for k, (name, plane) in enumerate(zip(matrices.names, matrices.planes)):
        label = "grey" if name == "grey" else f"{name}: I(:,:,{k + 1})"
        print(f"\n{label}")
        print("\n".join(" ".join(f"{v:3d}" for v in row) for row in plane))
        if args.scaled:
            print(f"\n{label} / 255 (normalised to [0, 1])")
            print("\n".join(" ".join(f"{v / 255:.2f}" for v in row) for row in plane))
    return 0
