"""`convlens lecture [NAME ...]`: the decks' worked examples, step by step, slide mistakes flagged.

convlens lecture                 list the examples
convlens lecture bottleneck      run one (several names, or --all, run several)
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="worked examples to run (without a name: list them)")  # fmt: skip
    parser.add_argument("--all", action="store_true", help="run every worked example")
    parser.add_argument("--json", action="store_true", help="print the examples' data as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from convlens.lectures import list_examples, run_example

    if not args.names and not args.all:
        examples = list_examples()
        if args.json:
            print(json.dumps([{"name": n, "title": t} for n, t in examples], indent=2))
            return 0
        width = max(len(n) for n, _ in examples)
        for name, title in examples:
            print(f"{name:<{width}}  {title}")
        print("\nRun one with `convlens lecture NAME`, or all with `convlens lecture --all`.")
        return 0
    names = [n for n, _ in list_examples()] if args.all else args.names
    worked = [run_example(n) for n in names]
    if args.json:
        print(json.dumps([_as_dict(w) for w in worked], indent=2))
        return 0
    print("\n\n".join("\n".join(_lines(w)) for w in worked))
    return 0


def _lines(worked) -> list[str]:
    lines = [f"{worked.name}: {worked.title}  ({worked.source})", *worked.steps]
    lines += [f"result: {r}" for r in worked.results]
    lines += [f"the slide is wrong: {e}" for e in worked.slide_errors]
    return lines


def _as_dict(worked) -> dict:
    import dataclasses

    return {**dataclasses.asdict(worked), "values": dict(worked.values)}
