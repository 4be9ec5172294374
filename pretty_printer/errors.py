"""One exception hierarchy for the tool.

Every error a user can cause subclasses :class:`PrettyPrinterError` *and* a builtin, so
library callers can catch ``ValueError`` as usual while the CLI turns any of them into one
clear line and exit code 2.  Messages name the parameter, what was expected and what was got.
"""


class PrettyPrinterError(Exception):
    """Base class of all errors the tool raises on purpose."""


class ConfigError(PrettyPrinterError, ValueError):
    """A preset, option or parameter is invalid."""


class UnknownNameError(ConfigError, KeyError):
    """A registered name (task, cell model, scanner, preset, method) does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetError(PrettyPrinterError, ValueError):
    """A dataset directory is missing, incomplete or inconsistent."""


class SubmissionError(PrettyPrinterError, ValueError):
    """A submission is malformed."""


class GrowthError(PrettyPrinterError, RuntimeError):
    """The phantom could not realize the circuit (block too small or too crowded)."""


class SimulationError(PrettyPrinterError, RuntimeError):
    """NEURON failed or a mechanism could not be compiled/loaded."""
