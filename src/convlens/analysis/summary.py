"""``summarize(model_or_spec, in_shape) -> Summary``: the table a student looks at first.

A ``Summary`` is a value: rows (``LayerInfo``) plus totals. Its text form is the table; it also
renders as Markdown, CSV, JSON and HTML (``_repr_html_`` for notebooks). Specs are summarised by
arithmetic alone (no torch); any ``nn.Module`` by forward hooks on the meta device, or on one real
example for the first model of modest size in a process (``trace.real_trace_ok``: the meta
device's first conv imports torch._dynamo, 1.2-2 s). On a spec-built network all give the same
rows.

MACs (multiply-accumulates, for one sample; FLOPs = 2 x MACs). For a module, PyTorch's FLOP
counter (``torch.utils.flop_counter.FlopCounterMode``) is the authority: every convolution and
matrix product that runs is counted, and a row gets what ran while its module ran, less what its
submodules did. So a conv, linear or matmul written as a function call on the model's own
parameters counts on the row of the module that calls it, a module called twice counts twice, and
a weight that two modules share counts its parameters once (on the first row) and its MACs on
every call. Where this agrees with the lectures' per-layer convention (conv: C_out x H_out x W_out
x C_in/groups x K x K; fc: in x out) the numbers are the same. The differences, all by the
counter's rules:

* biases: not counted (an addition, not a multiply-accumulate), as in the spec arithmetic;
* normalisation (batch norm, LRN, layer norm), activations, max and average pooling: not counted;
  weighted-average pooling runs as a fixed-weight convolution and is counted (K x K per output);
* attention: the matrix products of ``scaled_dot_product_attention`` (Q K^T and the weighted sum of
  V) are counted, the softmax is not;
* recurrent layers (LSTM, GRU, RNN): the gates' matrix products, per step, 4 x (in x hidden +
  hidden x hidden) for an LSTM and 3 x (...) for a GRU; the gate non-linearities and elementwise
  products are not counted. This needs the meta-device trace: a real CPU forward pass runs fused
  kernels that the counter does not see.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from convlens.analysis.geometry import (
    BYTES_PER_VALUE,
    LayerInfo,
    analyze,
    format_shape,
    parse_shape,
)
from convlens.errors import LayerFitError, SpecError
from convlens.shapes import shape_text
from convlens.tables import Column, decimal_text, render_table, wrap_text

# layer kinds grouped the way the lectures compare them
KIND_GROUPS = {
    "conv1d": "conv", "conv2d": "conv", "conv3d": "conv", "local2d": "conv", "tiled2d": "conv",
    "rcl2d": "conv", "linear": "fc",
}  # fmt: skip


@dataclass(frozen=True)
class Summary:
    rows: tuple[LayerInfo, ...]
    in_shape: tuple[int, ...]
    title: str = ""
    total_params: int = 0  # unique parameters (a shared tensor counts once)
    trainable_params: int = 0
    param_bytes: int = 0
    error: str = ""  # why the shapes stopped before the last layer, if they did
    notes: tuple[str, ...] = field(default_factory=tuple)

    # -- totals -----------------------------------------------------------------------------

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        return 2 * self.total_macs

    @property
    def param_mb(self) -> float:
        return self.param_bytes / 1e6

    @property
    def activation_bytes(self) -> int:
        """Bytes of all layer outputs for one sample in float32 (what a forward pass keeps)."""
        return sum(r.out_elements for r in self.rows) * BYTES_PER_VALUE

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.rows[-1].out_shape if self.rows else self.in_shape

    @property
    def rf(self) -> tuple[int, ...]:
        """Receptive field of the last layer, per spatial dimension."""
        return self.rows[-1].rf if self.rows else ()

    def shares(self) -> dict[str, tuple[float, float]]:
        """Share of parameters and of MACs per layer group (conv, fc, other)."""
        params: dict[str, int] = {}
        macs: dict[str, int] = {}
        for r in self.rows:
            group = KIND_GROUPS.get(r.kind, "other")
            params[group] = params.get(group, 0) + r.params
            macs[group] = macs.get(group, 0) + r.macs
        p_total = max(sum(params.values()), 1)
        m_total = max(sum(macs.values()), 1)
        return {g: (params[g] / p_total, macs[g] / m_total) for g in params if params[g] or macs[g]}

    def row(self, name: str) -> LayerInfo:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; layers: {', '.join(r.name for r in self.rows)}")

    # -- renderers --------------------------------------------------------------------------

    HEADERS = (
        "layer", "kind", "kernel", "input", "output", "weights", "biases",
        "params", "MACs", "RF", "jump", "note",
    )  # fmt: skip
    # layer, kind and note may wrap; shapes and counts are never wrapped or cut
    COLUMNS = (
        Column("layer", wrap=True), Column("kind", wrap=True), Column("kernel", wrap=True),
        Column("input", fixed=True, left=True), Column("output", fixed=True, left=True),
        Column("weights", fixed=True), Column("biases", fixed=True), Column("params", fixed=True),
        Column("MACs", fixed=True), Column("RF", fixed=True, left=True),
        Column("jump", fixed=True, left=True), Column("note", wrap=True),
    )  # fmt: skip

    def table_rows(self, channels_last: bool = False) -> list[list[str]]:
        """The table's cells as text; ``channels_last`` writes shapes as the slides do (HxWxC)."""
        out = []
        for r in self.rows:
            out.append(
                [
                    r.name,
                    r.kind,
                    _window_text(r),
                    shape_text(r.in_shape, channels_last),
                    shape_text(r.out_shape, channels_last),
                    f"{r.weights:,}",
                    f"{r.biases:,}",
                    f"{r.params:,}",
                    f"{r.macs:,}",
                    format_shape(r.rf) if r.rf else "-",
                    format_shape(r.jump) if r.jump else "-",
                    _note(r),
                ]
            )
        return out

    def heading(self, channels_last: bool = False) -> str:
        order = "H x W x C" if channels_last and len(self.in_shape) > 1 else ""
        shape = shape_text(self.in_shape, channels_last) + (f", {order}" if order else "")
        return f"{self.title or 'summary'}  (input {shape})"

    def footer(self) -> list[str]:
        lines = [
            f"params: {self.total_params:,} (trainable {self.trainable_params:,}), "
            f"{self.param_bytes:,} bytes as float32 = {decimal_text(self.param_mb)} MB "
            f"(10^6 bytes) = {decimal_text(self.param_bytes / 2**20)} MiB (2^20 bytes)",
            f"compute per sample: {self.total_macs:,} MACs = {self.total_flops:,} FLOPs "
            f"({_si(self.total_macs)}MACs; 1 MAC = 1 multiply + 1 add = 2 FLOPs; "
            "as PyTorch's FLOP counter counts)",
            f"activations per sample: {self.activation_bytes:,} bytes = "
            f"{decimal_text(self.activation_bytes / 1e6)} MB (float32 outputs of every layer)",
        ]
        shares = self.shares()
        if shares:
            lines.append(
                "share by layer kind: "
                + "; ".join(
                    f"{g} {p:.1%} of params, {m:.1%} of MACs" for g, (p, m) in shares.items()
                )
            )
        if self.rf:
            lines.append(f"receptive field of the output: {format_shape(self.rf)} input pixels")
        lines.append(
            "kernel: window size, then s stride, p padding, d dilation where they are not 1, 0, 1"
        )
        lines.extend(self.notes)
        if self.error:
            lines.append(f"error: {self.error}")
        return lines

    def to_text(self, width: int | None = 140, channels_last: bool = False) -> str:
        """The table and its footer in ``width`` columns (``None``: as wide as it needs).

        Counts and shapes are never wrapped or cut: narrower widths wrap the names and notes,
        then switch to one stacked record per layer.
        """
        table = render_table(
            self.COLUMNS,
            self.table_rows(channels_last),
            width=width,
            title=self.heading(channels_last),
        )
        footer = [part for line in self.footer() for part in wrap_text(line, width, "  ")]
        return table + "\n\n" + "\n".join(footer) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def to_markdown(self, channels_last: bool = False) -> str:
        align = ["---:" if c.fixed and not c.left else "---" for c in self.COLUMNS]
        lines = [f"**{self.heading(channels_last)}**", ""]
        lines += ["| " + " | ".join(self.HEADERS) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.table_rows(channels_last)]
        return "\n".join(lines) + "\n\n" + "\n".join(f"- {line}" for line in self.footer()) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(
            ["name", "kind", "kernel_size", "stride", "padding", "dilation", "in_shape", "out_shape",
             "weights", "biases", "params", "macs", "rf", "jump", "start", "unused"]
        )  # fmt: skip
        for r in self.rows:
            writer.writerow(
                [r.name, r.kind, *(format_shape(v) for v in (r.kernel_size, r.stride, r.padding, r.dilation)),
                 format_shape(r.in_shape), format_shape(r.out_shape), r.weights, r.biases, r.params,
                 r.macs, format_shape(r.rf), format_shape(r.jump), "x".join(f"{s:g}" for s in r.start),
                 format_shape(r.unused)]
            )  # fmt: skip
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "in_shape": list(self.in_shape),
            "rows": [{**asdict(r), "params": r.params} for r in self.rows],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "total_flops": self.total_flops,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
            "shares": {g: {"params": p, "macs": m} for g, (p, m) in self.shares().items()},
            "error": self.error or None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_html(self, channels_last: bool = False) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.HEADERS)
        # numbers right-aligned and never broken across lines
        styles = [
            ' style="text-align:right;white-space:nowrap"' if c.fixed and not c.left
            else ' style="white-space:nowrap"' if c.fixed else ""
            for c in self.COLUMNS
        ]  # fmt: skip
        body = "".join(
            "<tr>"
            + "".join(f"<td{st}>{html.escape(c)}</td>" for st, c in zip(styles, row))
            + "</tr>"
            for row in self.table_rows(channels_last)
        )
        foot = "".join(f"<li>{html.escape(line)}</li>" for line in self.footer())
        title = html.escape(self.heading(channels_last))
        return (
            f'<div class="convlens-summary"><p><b>{title}</b></p>'
            f'<table border="1" style="border-collapse:collapse;font-family:monospace">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><ul>{foot}</ul></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def render(
        self, fmt: str = "table", width: int | None = 140, channels_last: bool = False
    ) -> str:
        """One format by name; CSV and JSON are data and keep convlens's C x H x W order."""
        renderers = {
            "table": lambda: self.to_text(width, channels_last),
            "md": lambda: self.to_markdown(channels_last),
            "markdown": lambda: self.to_markdown(channels_last),
            "csv": self.to_csv,
            "json": self.to_json,
            "html": lambda: self.to_html(channels_last),
        }
        if fmt not in renderers:
            raise SpecError(f"unknown format {fmt!r}; choose one of {', '.join(renderers)}")
        return renderers[fmt]()


def _window_text(r: LayerInfo) -> str:
    if not r.kernel_size:
        return ""
    parts = [format_shape(r.kernel_size)]
    for label, values, neutral in (("s", r.stride, 1), ("p", r.padding, 0), ("d", r.dilation, 1)):
        if values and any(v != neutral for v in values):
            parts.append(label + _compact(values))
    return " ".join(parts)


def _compact(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else format_shape(values)


def _note(r: LayerInfo) -> str:
    if r.unused:
        return f"{r.note}; skips {format_shape(r.unused)} px"
    return r.note


def _si(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:,.2f} {unit}"
    return f"{n:,.0f} "


# ---------------------------------------------------------------------------------------------


def summarize(
    model_or_spec: Any,
    in_shape: Sequence[int] | str | None = None,
    *,
    strict: bool = False,
    title: str = "",
    activation: str | None = "relu",
) -> Summary:
    """Summarise a spec (text, ``Spec`` or layer list), a zoo model's name or any
    ``torch.nn.Module``.

    ``in_shape`` excludes the batch dimension and is always channels first, C x H x W
    (``(3, 32, 32)`` or ``"3x32x32"``), C x L for 1-D nets; a slide's "32x32x3" must be turned
    around first (``convlens.shapes.read_shape`` does it for typed text). A module built by
    convlens remembers its own. A layer that does not fit ends the table early and its reason is
    kept in ``Summary.error``, unless ``strict=True``, which raises ``LayerFitError`` instead.
    """
    if isinstance(in_shape, str):
        in_shape = parse_shape(in_shape)
    if isinstance(model_or_spec, str) and _zoo_name(model_or_spec, in_shape):
        model_or_spec, in_shape = zoo_model_for_shapes(model_or_spec, in_shape)
    if _is_module(model_or_spec):
        return _summarize_module(model_or_spec, in_shape, title=title, strict=strict)
    if in_shape is None:
        if isinstance(model_or_spec, str):
            from convlens.spec import parse_spec

            parse_spec(model_or_spec)  # a typo of a zoo name is named as such
        raise SpecError("a spec needs an input shape, e.g. summarize(spec, (1, 28, 28))")
    shape = tuple(int(v) for v in in_shape)
    try:
        rows = analyze(model_or_spec, shape, strict=strict, activation=activation)
        error = ""
    except LayerFitError as err:
        if strict:
            raise
        rows, error = getattr(err, "rows", []), str(err)
    total = sum(r.params for r in rows)
    notes = _unused_notes(rows)
    return Summary(
        rows=tuple(rows),
        in_shape=shape,
        title=title or _spec_title(model_or_spec),
        total_params=total,
        trainable_params=total,
        param_bytes=total * BYTES_PER_VALUE,
        error=error,
        notes=notes,
    )


def _built_spec(model: Any) -> str:
    """The spec text of a network ``build_model`` made (it keeps its ``Spec``), else ""."""
    spec = getattr(model, "spec", None)
    if spec is None:
        return ""
    from convlens.spec import format_spec

    return format_spec(spec)


def _summarize_module(model: Any, in_shape, *, title: str, strict: bool) -> Summary:
    from convlens.analysis.trace import trace_rows

    if in_shape is None:
        in_shape = getattr(model, "in_shape", None)
        if in_shape is None:
            raise SpecError("give the input shape (without the batch), e.g. in_shape=(3, 224, 224)")
    shape = tuple(int(v) for v in in_shape)
    rows, err = trace_rows(model, shape)
    error = ""
    if err is not None:
        name = rows[-1].name if rows else "the input"
        error = f"the forward pass failed after {name}: {_first_line(err)}"
        if strict:
            raise LayerFitError(error)
    if strict:
        for r in rows:
            if r.unused:
                raise LayerFitError(f"layer {r.name} does not fit: its stride skips border pixels")
    params = {id(p): p for p in model.parameters()}.values()
    total = sum(p.numel() for p in params)
    return Summary(
        rows=tuple(rows),
        in_shape=shape,
        title=title
        or getattr(model, "model_name", None)
        or _built_spec(model)
        or type(model).__name__,
        total_params=total,
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        error=error,
        notes=_unused_notes(rows),
    )


def _unused_notes(rows: Sequence[LayerInfo]) -> tuple[str, ...]:
    return tuple(
        f"note: {r.name} does not fit exactly; its stride never reaches the last "
        f"{format_shape(r.unused)} input pixels (floor, as in PyTorch; strict=True refuses this)"
        for r in rows
        if r.unused
    )


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def zoo_model_for_shapes(
    name: str, in_shape: Sequence[int] | None = None, num_classes: int | None = None
) -> tuple[Any, tuple[int, ...]]:
    """The zoo model ``name`` built to be summarised, and its input shape (``in_shape``, else the
    model's own): on the meta device (shapes only), or, for a model of modest size, with
    uninitialised memory for one real forward pass (cheaper than the meta device's first use)."""
    from convlens.analysis.trace import real_trace_ok
    from convlens.models.registry import create_model
    from convlens.torchutil import built_on_meta

    in_channels = in_shape[0] if in_shape is not None else None
    with built_on_meta():
        model = create_model(name, num_classes or None, in_channels)
    shape = tuple(int(v) for v in (in_shape or model.in_shape))
    if real_trace_ok(model, shape):
        model = model.to_empty(device="cpu")
    return model, shape


def _zoo_name(text: str, in_shape: Sequence[int] | None) -> bool:
    """Whether ``text`` names a zoo model rather than a spec: asked only when it has no input
    shape or does not parse as a spec, so a spec is still summarised without importing torch."""
    from convlens.spec import parse_spec

    if in_shape is not None:
        try:
            parse_spec(text)
            return False
        except SpecError:
            pass
    from convlens.models.registry import list_models

    return text.strip().lower().replace("-", "_") in list_models()


def _is_module(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module``, without importing torch to find out: a module
    cannot exist before torch is imported."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _spec_title(spec: Any) -> str:
    from convlens.spec import format_spec

    text = format_spec(spec)
    return text if len(text) <= 60 else text[:57] + "..."
