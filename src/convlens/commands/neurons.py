"""`convlens neurons`: McCulloch-Pitts neurons, perceptrons and sigmoid neurons in NumPy.

convlens neurons                          a short tour of everything below
convlens neurons mp --threshold 2 --inputs 3
convlens neurons perceptron --function xor
convlens neurons perceptron --data iris
convlens neurons boolean --function xor   (or --table 0110; --table 01101001 has 3 inputs)
convlens neurons sigmoid --data movie     (or iris)
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

FUNCTIONS = ("and", "or", "nand", "nor", "xor", "xnor", "majority")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{tour,mp,perceptron,boolean,sigmoid}")
    sub.add_parser("tour", help="all of the below, briefly (the default)")
    mp = sub.add_parser("mp", help="truth table of a McCulloch-Pitts neuron")
    mp.add_argument("--threshold", "-t", type=int, default=2, help="theta (default 2)")
    mp.add_argument("--inputs", "-n", type=int, default=2, help="Boolean inputs (default 2)")
    perc = sub.add_parser("perceptron", help="the perceptron learning algorithm")
    perc.add_argument("--function", "-f", choices=FUNCTIONS, default="and",
                      help="Boolean function of two inputs to learn (default and)")  # fmt: skip
    perc.add_argument("--data", choices=("boolean", "iris"), default="boolean",
                      help="iris: setosa vs versicolor on the four measurements")  # fmt: skip
    perc.add_argument("--epochs", type=int, default=100, help="epoch budget (default 100)")
    perc.add_argument("--seed", type=int, default=0)
    boolean = sub.add_parser("boolean", help="a network of 2^n perceptrons for a Boolean function")
    boolean.add_argument("--function", "-f", choices=FUNCTIONS, default="xor")
    boolean.add_argument("--table", help="a truth table instead, e.g. 0110 or 01101001 (patterns "
                         "in order; its length 2^n gives the number of inputs n)")  # fmt: skip
    boolean.add_argument("--inputs", "-n", type=int, default=None,
                         help="number of inputs (default 2, or read from --table)")  # fmt: skip
    sig = sub.add_parser("sigmoid", help="a sigmoid neuron trained by gradient descent")
    sig.add_argument("--data", choices=("movie", "iris"), default="movie")
    sig.add_argument("--lr", type=float, default=1.0, help="step size eta (default 1.0)")
    sig.add_argument("--epsilon", type=float, default=1e-7, help="stop when the loss changes less")
    sig.add_argument("--max-steps", type=int, default=5_000, help="step budget (default 5000)")


def run(args: argparse.Namespace) -> int:
    action = args.action or "tour"
    if action == "tour":
        tour: list[tuple[str, dict[str, Any]]] = [
            ("mp", {"threshold": 2, "inputs": 2}),
            ("perceptron", {"function": "and", "data": "boolean", "epochs": 100, "seed": 0}),
            ("perceptron", {"function": "xor", "data": "boolean", "epochs": 100, "seed": 0}),
            ("perceptron", {"function": "and", "data": "iris", "epochs": 100, "seed": 0}),
            ("boolean", {"function": "xor", "table": None, "inputs": 2}),
            ("sigmoid", {"data": "movie", "lr": 1.0, "epsilon": 1e-7, "max_steps": 5_000}),
        ]
        for name, extra in tour:
            ACTIONS[name](argparse.Namespace(**extra))
            print()
        return 0
    return ACTIONS[action](args)


def _mp(args) -> int:
    import numpy as np

    from convlens.errors import ConfigError
    from convlens.scratch.neurons import McCullochPitts

    if not 1 <= args.inputs <= 8:
        raise ConfigError(f"--inputs must be between 1 and 8, not {args.inputs}")
    neuron = McCullochPitts(args.threshold)
    x = np.array(list(itertools.product((0, 1), repeat=args.inputs)))
    print(f"McCulloch-Pitts neuron, {args.inputs} inputs, threshold theta = {args.threshold}:"
          " y = 1 iff sum x_i >= theta")  # fmt: skip
    for row, out in zip(x, neuron(x)):
        print(f"  x = {' '.join(map(str, row))}   g(x) = {row.sum()}   y = {out}")
    return 0


def _iris_two_classes():
    """Setosa (0) vs versicolor (1), the four measurements, train and test splits."""
    try:
        from convlens.data.catalog import load_splits  # NumPy arrays: no torch to import

        splits, _ = load_splits("iris")
        parts = [
            (x.astype("float32"), y.astype("int64")) for x, y in (splits["train"], splits["test"])
        ]
    except ImportError:  # the data package is optional here; scikit-learn ships the same table
        from sklearn.datasets import load_iris

        iris = load_iris()
        parts = [(iris.data[0::2], iris.target[0::2]), (iris.data[1::2], iris.target[1::2])]
    return [(x[y < 2], y[y < 2]) for x, y in parts]


def _perceptron(args) -> int:
    import numpy as np

    from convlens.scratch.neurons import BOOLEAN_FUNCTIONS, train_perceptron

    if args.data == "iris":
        (x, y), (x_test, y_test) = _iris_two_classes()
        title = "Iris, setosa (0) vs versicolor (1), sepal and petal length and width"
    else:
        x = np.array(list(itertools.product((0, 1), repeat=2)))
        y = np.array([int(BOOLEAN_FUNCTIONS[args.function](tuple(r > 0))) for r in x])
        x_test, y_test = x, y
        title = f"{args.function.upper()} of two inputs, labels {' '.join(map(str, y))}"
    result = train_perceptron(x, y, max_epochs=args.epochs, seed=args.seed)
    print(f"Perceptron learning algorithm on {title}")
    mistakes = " ".join(map(str, result.mistakes[:20])) + (" ..." if result.epochs > 20 else "")
    print(f"  mistakes per epoch: {mistakes}")
    if result.converged:
        print(f"  converged after {result.epochs} epochs")
    else:
        print(f"  did not converge within {args.epochs} epochs: the classes are not linearly "
              "separable (no line splits them)")  # fmt: skip
    w = result.perceptron.weights
    print(f"  weights w_0 (= -theta) .. w_n: {np.array2string(w, precision=3)}")
    acc = (result.perceptron(x_test) == y_test).mean()
    print(
        f"  accuracy on {'the test split' if args.data == 'iris' else 'the truth table'}: {acc:.1%}"
    )
    return 0


def table_inputs(table: str, inputs: int | None = None) -> int:
    """The number of inputs n of a truth table of 0s and 1s: its length must be 2^n, n >= 1."""
    from convlens.errors import ConfigError

    if not table or not set(table) <= {"0", "1"}:
        raise ConfigError(f"--table takes 0s and 1s such as 0110, not {table!r}")
    n = len(table).bit_length() - 1
    if len(table) < 2 or len(table) != 2**n:
        raise ConfigError(f"a truth table has 2^n entries (2, 4, 8, 16, ...), one per input "
                          f"pattern; {table!r} has {len(table)}")  # fmt: skip
    if inputs is not None and inputs != n:
        raise ConfigError(f"a truth table of {inputs} inputs has {2**inputs} entries; "
                          f"{table!r} has {len(table)}, so drop --inputs or give {2**inputs} entries")  # fmt: skip
    return n


def _boolean(args) -> int:
    from convlens.scratch.neurons import boolean_network, patterns

    if args.table:
        inputs = table_inputs(args.table, args.inputs)
        function: str | list[int] = [int(c) for c in args.table]
    else:
        inputs, function = (2 if args.inputs is None else args.inputs), args.function
    net = boolean_network(function, inputs)
    x = patterns(inputs)
    name = f"truth table {args.table}" if args.table else args.function.upper()
    print(f"Network of perceptrons for {name} of {inputs} inputs in {{-1, 1}}: "
          f"{len(x)} hidden units (one per input pattern), one output")  # fmt: skip
    print("  hidden unit k: weights = pattern k, bias = -n, fires only on its own pattern")
    print(f"  output: weight 1 on the units whose pattern is true, bias {net.output_bias:g}")
    for k, (row, out) in enumerate(zip(x, net(x))):
        fired = int(net.hidden(row[None])[0].argmax())
        print(f"  x = {' '.join(f'{v:+d}' for v in row)}   hidden unit fired: h{fired + 1}   "
              f"w_out = {net.output_weights[k]}   y = {out}")  # fmt: skip
    return 0


def _sigmoid(args) -> int:
    import numpy as np

    from convlens.scratch.neurons import Perceptron, train_sigmoid_neuron

    if args.data == "movie":
        # The lectures' example: watch a movie iff its average rating is at least 4.
        x = np.linspace(1, 5, 41)[:, None]
        y = (x[:, 0] >= 4).astype(float)
        x_test, y_test = x, y
    else:
        (x, y), (x_test, y_test) = _iris_two_classes()
    neuron, result = train_sigmoid_neuron(x, y, lr=args.lr, epsilon=args.epsilon,
                                          max_steps=args.max_steps)  # fmt: skip
    state = "converged" if result.converged else "stopped at the step budget"
    print(f"Sigmoid neuron y = 1 / (1 + exp(-(w.x + b))) by gradient descent (eta {args.lr}, "
          f"epsilon {args.epsilon:g}): {state} after {result.steps} steps")  # fmt: skip
    print(f"  cross-entropy {result.losses[0]:.4f} -> {result.losses[-1]:.4f}; "
          f"w = {np.array2string(neuron.weights, precision=3)}, b = {neuron.bias:.3f}")  # fmt: skip
    acc = ((neuron(x_test) >= 0.5) == y_test).mean()
    print(f"  accuracy (y >= 0.5 means class 1): {acc:.1%}")
    if args.data == "movie":
        threshold = Perceptron(np.array([-4.0, 1.0]))  # fires iff rating - 4 >= 0
        for rating in (3.9, 4.1):
            hard = threshold(np.array([[rating]]))[0]
            soft = neuron(np.array([[rating]]))[0]
            print(
                f"  rating {rating}: perceptron (theta = 4) says {hard}, sigmoid neuron {soft:.3f}"
            )
    return 0


ACTIONS = {"mp": _mp, "perceptron": _perceptron, "boolean": _boolean, "sigmoid": _sigmoid}
