"""Errors raised by :mod:`grid_partition`.

The package imports nothing from the rest of gridwall, so it carries its own small error family::

    ValueError
     └── PartitionInputError     bad input: a missing column, duplicate unit ids, an adjacency row naming an
                                 unknown unit, a zone without a profile, ...

Callers higher up (the API, the command line) map it to their own error types.
"""
from __future__ import annotations

__all__ = ["PartitionInputError"]


class PartitionInputError(ValueError):
    """The units, adjacency or current assignment handed to the partitioner are not usable.

    The message always says what is wrong and where (column, row, unit id).
    """
