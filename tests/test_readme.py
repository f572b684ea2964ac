"""The README as a new user reads it: every example in the token table is a valid spec, every
`convlens` command parses with the options that exist, and (slow) every Python block runs as
written, in a fresh interpreter, in a folder holding the files it names (``readme_check``)."""

from __future__ import annotations

import importlib
import re
import shlex

import pytest

from convlens import format_spec, parse_spec
from convlens.cli import COMMANDS, _Parser
from readme_check import README, blocks, commands, placeholders, run_python, why_not_here

TEXT = README.read_text(encoding="utf-8")
PYTHON = [b for b in blocks() if b.lang == "python"]
SHELL = [(line, command) for b in blocks() if b.lang == "bash" for line, command in commands(b)]


def _token_table_examples() -> list[str]:
    start = TEXT.index("| token | layer | example |")
    rows = TEXT[start:].split("\n\n")[0].splitlines()[2:]
    examples = []
    for row in rows:
        cell = row.strip("|").split("|")[-1]
        examples += re.findall(r"`([^`]+)`", cell)
    return examples


def test_the_token_table_has_examples():
    assert len(_token_table_examples()) >= 15


@pytest.mark.parametrize("example", _token_table_examples())
def test_every_token_table_example_is_a_valid_spec(example):
    assert format_spec(parse_spec(example)) == example


def _convlens_commands() -> list[tuple[int, list[str]]]:
    found = []
    for line, command in SHELL:
        for part in re.split(r"\s*(?:;|&&)\s*", command.split("  #")[0]):
            words = shlex.split(part, comments=True)
            if words[:1] == ["convlens"]:
                found.append((line, words[1:]))
            elif words[:1] == ["torchrun"] and "convlens" in words:
                found.append((line, words[words.index("convlens") + 1 :]))
    return found


def test_the_readme_shows_many_commands():
    assert len(_convlens_commands()) >= 60


@pytest.mark.parametrize("line, argv", _convlens_commands(), ids=lambda v: str(v)[:60])
def test_every_command_parses_with_options_that_exist(line, argv):
    """argparse reads each command as written (an unknown flag or a wrong choice exits 2)."""
    name, rest = argv[0], argv[1:]
    assert name in COMMANDS, f"README:{line}: no command {name!r}"
    module = importlib.import_module(f"convlens.commands.{COMMANDS[name][0]}")
    parser = _Parser(prog=f"convlens {name}")
    module.add_arguments(parser)
    try:
        parser.parse_args(rest)
    except SystemExit as stop:
        pytest.fail(f"README:{line}: `convlens {' '.join(argv)}` does not parse (exit {stop.code})")


def test_commands_are_left_out_only_for_a_stated_reason():
    """What the shell check leaves out says why in its own comment (or is CI's own block)."""
    left_out = {}
    for block in blocks():
        if block.lang == "bash":
            for line, command in commands(block):
                reason = why_not_here(block, command)
                if reason:
                    left_out[line] = reason
    reasons = set(left_out.values())
    assert "needs the internet" in reasons and "opens a server" in reasons
    assert len(left_out) <= 16, left_out  # a few: downloads, GPUs, servers, CI's own


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    placeholders(root)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("block", PYTHON, ids=[f"README:{b.line}" for b in PYTHON])
def test_every_python_block_runs_as_written(block, scratch):
    done = run_python(scratch, block)
    assert done.returncode == 0, f"README:{block.line}\n{done.stderr[-3000:]}"
