"""`python -m convlens`: the same command line as `convlens`."""

from convlens.cli import main

if __name__ == "__main__":  # importing convlens.__main__ (pydoc, test collectors) runs nothing
    raise SystemExit(main())
