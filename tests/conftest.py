import os

# Keep the suite's own torch work on one thread: the machine has two cores and the tests are
# small; oversubscription only adds noise.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_addoption(parser):
    # golden files (tests/golden/) change only when asked: `pytest --update-golden` rewrites them
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected outputs in tests/golden/ instead of comparing with them",
    )
