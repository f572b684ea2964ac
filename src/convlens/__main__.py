"""`python -m convlens`: the same command line as `convlens`."""

from convlens.cli import entry

if __name__ == "__main__":  # importing convlens.__main__ (pydoc, test collectors) runs nothing
    raise SystemExit(entry())
