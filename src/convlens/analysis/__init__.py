"""Measuring a network without training it: layer arithmetic, receptive fields, the summary."""
