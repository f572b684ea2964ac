"""MACs of work that no conv or linear module does: functional calls on a model's own parameters,
recurrent layers, and a weight that two modules share. Every expected count is worked by hand
in the comments (1 MAC = one multiply and one add; biases are not counted)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convlens.analysis.summary import summarize


class Functional(nn.Module):
    """A conv, a linear and a matmul written as function calls on the model's own parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_weight = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.conv_bias = nn.Parameter(torch.zeros(8))
        self.fc_weight = nn.Parameter(torch.randn(10, 8 * 30 * 30))
        self.proj = nn.Parameter(torch.randn(10, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.conv_weight, self.conv_bias)  # (1, 8, 30, 30)
        x = F.linear(x.flatten(1), self.fc_weight)  # (1, 10)
        return torch.matmul(x, self.proj)  # (1, 4)


# conv: 8 filters x 30 x 30 positions x (3 channels x 3 x 3) = 8 * 900 * 27 = 194,400
# linear: 7,200 inputs x 10 outputs = 72,000
# matmul: (1 x 10) @ (10 x 4) = 40
FUNCTIONAL_MACS = 194_400 + 72_000 + 40


def test_functional_conv_linear_and_matmul_are_counted_on_the_row_that_calls_them():
    s = summarize(Functional(), (3, 32, 32))
    root = s.row("")
    assert root.macs == FUNCTIONAL_MACS
    assert s.total_macs == FUNCTIONAL_MACS
    # parameters: 216 + 8 + 72,000 + 40
    assert root.params == s.total_params == 216 + 8 + 72_000 + 40


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True)
        self.gru = nn.GRU(20, 16, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x)
        z, _ = self.gru(y)
        return self.head(z[:, -1])


# Input: T = 7 steps of 10 features. Each gate is an affine map of the step's input and of the
# previous hidden state; the gate non-linearities and the elementwise products are not MACs.
# LSTM, 4 gates (input, forget, cell, output) per step:
#   layer 1: 7 steps x 4 x (10 * 20 + 20 * 20) = 7 * 4 * 600 = 16,800
#   layer 2 (its input is layer 1's 20 hidden units): 7 x 4 x (20 * 20 + 20 * 20) = 22,400
LSTM_MACS = 16_800 + 22_400
# GRU, 3 gates (reset, update, new) per step: 7 x 3 x (20 * 16 + 16 * 16) = 7 * 3 * 576 = 12,096
GRU_MACS = 12_096
HEAD_MACS = 16 * 3  # the last step only


def test_lstm_and_gru_count_their_gates():
    s = summarize(Recurrent(), (7, 10))
    assert s.row("lstm").macs == LSTM_MACS
    assert s.row("gru").macs == GRU_MACS
    assert s.row("head").macs == HEAD_MACS
    assert s.total_macs == LSTM_MACS + GRU_MACS + HEAD_MACS
    # parameters, by torch's layout: 4 gates x hidden x (inputs + hidden) weights, and two
    # bias vectors of 4 x hidden per layer (b_ih and b_hh); the GRU likewise with 3 gates
    lstm = 4 * 20 * (10 + 20) + 2 * 4 * 20 + 4 * 20 * (20 + 20) + 2 * 4 * 20
    gru = 3 * 16 * (20 + 16) + 2 * 3 * 16
    assert s.row("lstm").params == lstm
    assert s.row("gru").params == gru


class Shared(nn.Module):
    """Two linear modules hold the same weight tensor; the first one is also called twice."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 6)
        self.b.weight = self.a.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(self.a(x)))


def test_a_shared_weight_counts_its_parameters_once_and_its_macs_per_call():
    s = summarize(Shared(), (6,))
    # parameters: one 6 x 6 weight (36) and two biases of 6
    assert s.total_params == 36 + 6 + 6
    assert sum(r.params for r in s.rows) == 36 + 6 + 6
    # three calls of a 6 -> 6 map, 36 MACs each
    assert s.total_macs == 3 * 36
    assert [r.macs for r in s.rows] == [36, 36, 36]


def test_the_trace_without_the_flop_counter_keeps_the_per_layer_rule_of_conv_and_fc():
    from convlens.analysis.trace import trace_rows
    from convlens.build import build_model

    model = build_model("conv3x3x4p1-pool2-fc10", (2, 8, 8))
    with_counter, _ = trace_rows(model, (2, 8, 8))
    without, _ = trace_rows(model, (2, 8, 8), meta=False, flop_counter=False)
    # conv: 4 x 8 x 8 outputs x (2 x 3 x 3) = 4,608; fc: 4 x 4 x 4 = 64 inputs x 10 = 640
    assert [r.macs for r in without] == [r.macs for r in with_counter] == [4_608, 0, 0, 0, 640]
    # without the counter, a functional call counts nothing: that is what the counter is for
    rows, _ = trace_rows(Functional(), (3, 32, 32), flop_counter=False)
    assert [r.macs for r in rows] == [0]
