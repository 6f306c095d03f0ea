"""Values as Ordoro reads and writes them: numbers, quantities, amounts."""

from __future__ import annotations

import math
from typing import Any


def is_number(value: Any) -> bool:
    """True for ints and floats, not for booleans (``True`` is an int to Python, not to Ordoro)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def whole(value: Any) -> Any:
    """Integral floats as ints (Ordoro's integer fields reject 12.0); anything else unchanged.

    >>> whole(12.0), whole(12.5), whole(7), whole("x")
    (12, 12.5, 7, 'x')
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same_number(left: Any, right: Any) -> bool:
    """Equal as amounts (to half a cent) when both are numbers, else plain equality."""
    if not (is_number(left) and is_number(right)):
        return left == right
    return math.isclose(left, right, abs_tol=0.005)
