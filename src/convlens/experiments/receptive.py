"""How the receptive field grows with depth, stride, pooling and dilation.

Each family is a spec that stacks the same stage several times; the receptive field of every
stage comes from the summary rows (the rule of ``convlens.analysis.receptive_field``:
r_out = r_in + (k_eff - 1) * j_in, j_out = j_in * s; Araujo, Norris & Sim, Distill 2019).
Stacking stride-1 convolutions grows the field linearly (2L + 1 for 3-wide kernels); a stride or
a pooling layer multiplies the jump, so every later kernel covers more input, and dilations
1, 2, 4, 8 double it at every layer (3, 7, 15, 31) at the cost of no parameters at all.

With ``measure=True`` the field is also measured: a built network (linear, all weights 1) is
differentiated at its central output unit, and the field is the extent of the nonzero input
gradient. The families use average pooling so that the gradient reaches every input in the window.
"""

from __future__ import annotations

from dataclasses import dataclass

from convlens.experiments.result import ExperimentResult, FigureData, Series


@dataclass(frozen=True)
class Family:
    label: str
    stages: tuple[str, ...]  # spec tokens of one stage each; joined by "-"


# Input large enough that no family runs out of pixels at its deepest stage.
IN_SHAPE = (1, 128, 128)

FAMILIES: tuple[Family, ...] = (
    Family("3x3 conv, stride 1", ("conv3x3x8p1",) * 6),
    Family("5x5 conv, stride 1", ("conv5x5x8p2",) * 6),
    Family("3x3 conv + 2x2 avg pool", ("conv3x3x8p1-avgpool2",) * 6),
    Family("3x3 conv, stride 2", ("conv3x3x8s2p1",) * 6),
    Family(
        "3x3 conv, dilation 1,2,4,...", tuple(f"conv3x3x8p{d}d{d}" for d in (1, 2, 4, 8, 16, 32))
    ),
)


def stage_fields(family: Family, in_shape: tuple[int, ...] = IN_SHAPE) -> list[dict]:
    """Receptive field, jump and parameters after each stage of ``family``, from the summary."""
    from convlens.analysis.summary import summarize

    rows = []
    for depth in range(1, len(family.stages) + 1):
        spec = "-".join(family.stages[:depth])
        summary = summarize(spec, in_shape, activation=None)
        last = summary.rows[-1]
        rows.append(
            {
                "depth": depth,
                "spec": spec,
                "rf": last.rf[0],
                "jump": last.jump[0],
                "out": last.out_shape[-1],
                "params": summary.total_params,
                "visible": _visible_width(last, in_shape[-1]),
            }
        )
    return rows


def _visible_width(row, width: int) -> int:
    """Width of the central unit's analytic field that lies inside the image (not the padding)."""
    from convlens.analysis.receptive_field import field_box

    centre = tuple(n // 2 for n in row.out_shape[1:])
    return field_box(row, centre).visible((width,) * len(centre))[-1]


def measured_field(spec: str, in_shape: tuple[int, ...] = IN_SHAPE) -> int:
    """Width of the input region that moves the central output unit, found by autograd."""
    import torch

    from convlens.build import build_model

    model = build_model(spec, in_shape, activation=None)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    x = torch.ones((1, *in_shape), requires_grad=True)
    out = model(x)
    centre = tuple(s // 2 for s in out.shape[2:])
    unit = (0, 0, *centre)
    out[unit].backward()
    assert x.grad is not None
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()  # input columns that matter
    return int(cols.max() - cols.min() + 1) if len(cols) else 0


def receptive_field_growth(*, measure: bool = True, quick: bool = False) -> ExperimentResult:
    """Receptive field against depth for each family; a table, a plot and the measured check."""
    families = FAMILIES[:3] if quick else FAMILIES  # quick: the cheap families only
    table, series, data = [], [], {}
    for fam in families:
        stages = stage_fields(fam)
        if measure:
            for s in stages:
                s["measured_rf"] = measured_field(s["spec"])
        data[fam.label] = stages
        series.append(
            Series(fam.label, tuple(s["depth"] for s in stages), tuple(s["rf"] for s in stages))
        )
        last = stages[-1]
        table.append(
            (
                fam.label,
                " ".join(str(s["rf"]) for s in stages),
                last["jump"],
                last["params"],
                " ".join(str(s["measured_rf"]) for s in stages) if measure else "-",
            )
        )
    findings = _findings(data)
    fig = FigureData(
        name="receptive_field",
        title="Receptive field against depth",
        xlabel="stages stacked",
        ylabel="receptive field (input pixels, one side)",
        series=tuple(series),
        logy=True,
    )
    return ExperimentResult(
        name="receptive-field",
        title="Receptive-field growth with depth, stride, pooling and dilation",
        claim="Hierarchy: stacked local layers see ever larger parts of the input; strides, "
        "pooling and dilation make the field grow exponentially instead of linearly.",
        columns=(
            "family",
            "RF after each stage",
            "final jump",
            "params",
            "measured RF (inside the image)",
        ),
        rows=tuple(table),
        findings=findings,
        figures=(fig,),
        data={"in_shape": list(IN_SHAPE), "families": data},
        options={"measure": measure, "quick": quick},
        command="convlens experiment receptive-field" + (" --quick" if quick else ""),
    )


def _findings(data: dict[str, list[dict]]) -> tuple[str, ...]:
    out = []
    for label, stages in data.items():
        rfs = [s["rf"] for s in stages]
        out.append(f"{label}: the field grows {' → '.join(map(str, rfs))} over {len(rfs)} stages.")
        if "measured_rf" in stages[0]:
            same = all(s["visible"] == s["measured_rf"] for s in stages)
            out.append(
                f"{label}: the gradient-measured field "
                + (
                    "equals the arithmetic (clipped to the image) at every stage."
                    if same
                    else "differs from the arithmetic."
                )
            )
    return tuple(out)
