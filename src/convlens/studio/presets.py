"""The kernels and matrices the convolution panel offers, as the lectures give them.

Plain lists so that ``/api/info`` answers without importing torch or matplotlib (the page must be
ready within a second of the server starting). The tests hold the kernels to
``convlens.viz.kernels.KERNELS``, where the same lecture kernels live as arrays.
"""

from __future__ import annotations

# edge: the lecture's [-1, 1]; vertical/horizontal: Prewitt; laplacian: the lecture's 8-centred one
KERNELS: dict[str, list[list[float]]] = {
    "edge": [[-1, 1]],
    "vertical": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "horizontal": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "laplacian": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "blur": [[1 / 9] * 3 for _ in range(3)],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}

# the names the same kernels have in convlens.viz.kernels.KERNELS (where they exist)
VIZ_NAMES = {"edge": "diff", "vertical": "vertical", "horizontal": "horizontal",
             "laplacian": "laplacian"}  # fmt: skip

EXAMPLES: dict[str, object] = {
    # a 7x7 grid for the output-size series (3x3 kernel at stride 1, 2 and 3): the numbers 1-49,
    # so every window's sum can be checked by eye
    "grid7": [[7 * r + c + 1 for c in range(7)] for r in range(7)],
    # LECTURES.md §3: gives [[12,12,17],[10,17,19],[9,6,14]]
    "xcorr5": {
        "input": [
            [3, 3, 2, 1, 0],
            [0, 0, 1, 3, 1],
            [3, 1, 2, 2, 3],
            [2, 0, 0, 2, 2],
            [2, 0, 0, 0, 1],
        ],
        "kernel": [[0, 1, 2], [2, 2, 0], [0, 1, 2]],
    },
    # LECTURES.md §8: max pooling 2x2 stride 2 gives [[6,8],[3,4]] and [[9,8],[8,5]]
    "pool4a": [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]],
    "pool4b": [[0, 4, 7, 8], [9, 2, 4, 5], [6, 7, 3, 4], [8, 2, 1, 5]],
}
