"""The one exception type that reaches the user as a one-line message."""

from __future__ import annotations


class PgradError(Exception):
    """Bad input from the user: a config value, an environment id or a file.

    The message says what is wrong and how to fix it, on one line. The CLI prints it as
    ``error: <message>`` and exits with status 2; the Python API lets it propagate. It is not a
    ``ValueError`` on purpose: the CLI parser (tyro) reports ValueErrors raised while building a
    config in a multi-line box, and pgrad's errors must stay on one line.
    """


class NonFiniteError(PgradError):
    """A NaN or an infinity reached a batch, a loss, a gradient or an evaluation.

    Raised before the value reaches the weights; the trainer adds the update, where the last good
    policy and checkpoint are, and ends the run with every output written.
    """
