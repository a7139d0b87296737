"""faustc: the Faust compiler."""

__version__ = "0.1.0"
