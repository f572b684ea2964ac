"""The errors a user can cause. Each carries one sentence that says what was wrong and how to fix it.

The CLI turns any ``ConvlensError`` into that sentence on stderr and exit code 2, without a
traceback; library users catch the specific subclass.
"""


class ConvlensError(Exception):
    """Base class for every error caused by bad input (spec, shape, file, flag, data)."""


class SpecError(ConvlensError, ValueError):
    """A network spec that cannot be parsed or does not make sense."""


class LayerFitError(ConvlensError, ValueError):
    """A layer that does not fit the shape that reaches it."""


class DataError(ConvlensError):
    """A data set that is missing, corrupt, truncated or unknown."""


class CheckpointError(ConvlensError):
    """A checkpoint that is missing, corrupt or does not match the model."""


class ConfigError(ConvlensError, ValueError):
    """A configuration value or command-line flag that is not valid."""


class TrainingError(ConvlensError):
    """Training that cannot go on (for example a NaN loss)."""
