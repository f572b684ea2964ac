import os

# Keep the suite's own torch work on one thread: the machine has two cores and the tests are
# small; oversubscription only adds noise.
os.environ.setdefault("OMP_NUM_THREADS", "1")
