"""The version of xlcheck (one place; the package, the CLI and every JSON document read it)."""

__version__ = "0.1.0"
