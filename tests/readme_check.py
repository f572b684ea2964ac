"""The README's code blocks, run as written, in a scratch folder with the files they name.

    python tests/readme_check.py --shell            # every shell command, in README order
    python tests/readme_check.py --python           # every Python block, each in a new process
    python tests/readme_check.py --list             # what would run and what is left out, and why

The scratch folder gets the user's own files the README refers to (``placeholders``): a folder of
photos in class folders, ``cat.jpg``, ``iris.csv``, ``sine.csv``, ``signals.npz``, an IDX folder,
``model.py`` with a small ``Net`` and ``resnet18-f37072fd.pth``, a state dict under torchvision's
key names. A command is left out only when its own comment says it cannot run here: "needs the
internet", "needs N GPUs", "needs two machines", "needs torchvision's weights file" (hundreds of
MB), or "opens a server"; the first block (installing, which `.ci/run` does) and the Development
block (the test suite itself) are left out too. ``tests/test_readme.py`` runs the Python blocks.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

NOT_HERE = re.compile(
    r"#.*\b(needs the internet|needs \d+ GPUs|needs a GPU|needs two machines|"
    r"needs torchvision's weights file|opens a server)"
)
CI_SECTIONS = ("Development",)  # blocks that .ci/run itself runs


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int  # README line of the opening fence
    section: str  # the ## heading it is under


def blocks(text: str | None = None) -> list[Block]:
    """The fenced code blocks of the README, in order."""
    text = README.read_text(encoding="utf-8") if text is None else text
    found, section, lang, start, body = [], "", None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        if lang is None and line.startswith("## "):
            section = line[3:].strip()
        elif lang is None and line.startswith("```"):
            lang, start, body = line[3:].strip() or "text", number, []
        elif lang is not None and line.startswith("```"):
            found.append(Block(lang, "\n".join(body) + "\n", start, section))
            lang = None
        elif lang is not None:
            body.append(line)
    return found


def commands(block: Block) -> list[tuple[int, str]]:
    """(README line, command) for each command of a shell block, continuation lines joined."""
    out: list[tuple[int, str]] = []
    pending, first = "", 0
    for offset, line in enumerate(block.code.splitlines(), 1):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        first = first if pending else block.line + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((first, pending + line))
        pending = ""
    return out


def why_not_here(block: Block, command: str | None = None) -> str | None:
    """Why a block or command is left out here, or None when it runs."""
    if block.line == blocks()[0].line:
        return "installs convlens in a new virtual environment, as .ci/run does"
    if block.section in CI_SECTIONS:
        return "the test suite, lint and types, which .ci/run runs"
    match = NOT_HERE.search(command or "")
    return match.group(1) if match else None


def placeholders(root: Path) -> None:
    """Write the user's own files that the README's commands name into ``root``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(("cat", "dog")):
        folder = root / "my_photos" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(12):
            picture = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            picture[8:24, 8:24, k] = 255  # a bright square, red for cats and green for dogs
            Image.fromarray(picture).save(folder / f"{i:02d}.png")
    for name in ("cat.jpg", "dog.jpg"):
        picture = rng.integers(0, 256, size=(48, 40, 3), dtype=np.uint8)
        Image.fromarray(picture).save(root / name)
    _tables(root, rng)
    _idx_folder(root / "mnist_files", rng)
    (root / "model.py").write_text(MODEL_PY, encoding="utf-8")
    _torchvision_state_dict(root / "resnet18-f37072fd.pth")


MODEL_PY = '''import torch
from torch import nn


class Net(nn.Module):
    """A small CNN of the user's own: 3x32x32 photos to num_classes scores."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
        )
        self.head = nn.Linear(16 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.features(x), 1))
'''


def _tables(root: Path, rng) -> None:
    import numpy as np
    from sklearn.datasets import load_iris

    iris = load_iris()
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    rows += [",".join(f"{v:g}" for v in x) + f",{iris.target_names[y]}"
             for x, y in zip(iris.data, iris.target)]  # fmt: skip
    (root / "iris.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    x = np.linspace(-3, 3, 200)
    sine = ["x,y"] + [f"{v:.4f},{np.sin(v):.4f}" for v in x]
    (root / "sine.csv").write_text("\n".join(sine) + "\n", encoding="utf-8")
    signals = rng.normal(size=(240, 1, 40)).astype(np.float32)
    labels = np.arange(240) % 3
    signals[np.arange(240), 0, 5 + 10 * labels] += 4.0  # a peak whose place is the class
    np.savez(root / "signals.npz", x_train=signals[:200], y_train=labels[:200],
             x_test=signals[200:], y_test=labels[200:], class_names=np.array(["a", "b", "c"]))  # fmt: skip


def _idx_folder(folder: Path, rng) -> None:
    import gzip
    import struct

    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", 60), ("t10k", 20)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(
                gzip.compress(header + array.tobytes())
            )


def _torchvision_state_dict(path: Path) -> None:
    """Random ResNet-18 weights saved as torchvision saves its own (a plain state dict)."""
    import torch

    from convlens import create_model

    torch.manual_seed(0)
    torch.save(create_model("resnet18").state_dict(), path)


def run_shell(root: Path, timeout: int = 900) -> list[tuple[int, str, str, float]]:
    """Run every shell command in README order in ``root``; (line, command, outcome, seconds)."""
    results = []
    for block in blocks():
        if block.lang not in ("bash", "sh", "shell"):
            continue
        for line, command in commands(block):
            reason = why_not_here(block, command)
            if reason:
                results.append((line, command, f"left out: {reason}", 0.0))
                continue
            start = time.perf_counter()
            done = subprocess.run(["bash", "-c", command], cwd=root, capture_output=True,
                                  text=True, timeout=timeout)  # fmt: skip
            seconds = time.perf_counter() - start
            outcome = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
                outcome += ": " + " | ".join(tail)
            results.append((line, command, outcome, seconds))
            print(f"README:{line}  {outcome}  {seconds:.1f} s  {command[:90]}", flush=True)
    return results


def run_python(root: Path, block: Block, timeout: int = 900) -> subprocess.CompletedProcess:
    """One Python block in a new interpreter, in ``root``, exactly as written."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", block.code], cwd=root, capture_output=True,
                          text=True, timeout=timeout, env=env)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="run every shell command")
    parser.add_argument("--python", action="store_true", help="run every Python block")
    parser.add_argument("--list", action="store_true", help="say what would run")
    parser.add_argument(
        "--dir", default="readme-check", help="scratch folder (default: ./readme-check)"
    )
    args = parser.parse_args(argv)
    root = Path(args.dir).resolve()
    if args.list:
        for block in blocks():
            if block.lang == "python":
                print(f"README:{block.line}  python block  {why_not_here(block) or 'runs'}")
            elif block.lang in ("bash", "sh", "shell"):
                for line, command in commands(block):
                    print(
                        f"README:{line}  {why_not_here(block, command) or 'runs'}  {command[:80]}"
                    )
        return 0
    root.mkdir(parents=True, exist_ok=True)
    placeholders(root)
    failed = 0
    if args.shell:
        results = run_shell(root)
        failed += sum(1 for r in results if r[2].startswith("FAILED"))
        ran = [r for r in results if not r[2].startswith("left out")]
        print(f"shell: {len(ran)} commands run, {failed} failed, "
              f"{len(results) - len(ran)} left out, {sum(r[3] for r in ran):.0f} s")  # fmt: skip
    if args.python:
        for block in (b for b in blocks() if b.lang == "python"):
            start = time.perf_counter()
            done = run_python(root, block)
            ok = done.returncode == 0
            failed += not ok
            tail = "" if ok else ": " + " | ".join(done.stderr.strip().splitlines()[-3:])
            print(f"README:{block.line}  python  {'ok' if ok else 'FAILED'}  "
                  f"{time.perf_counter() - start:.1f} s{tail}", flush=True)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
