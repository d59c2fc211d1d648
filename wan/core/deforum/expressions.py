"""numexpr evaluation of a user's expression (schedules, prompt keys, prompt backticks).

numexpr fails in many ways on text it cannot compile or run: SyntaxError, KeyError (unknown name),
TypeError (unknown function), NotImplementedError (a function given arguments it has no opcode
for, such as ``round(x, 2)``), ValueError, ZeroDivisionError, OverflowError, RuntimeError,
RecursionError and MemoryError (absurdly long input). `evaluate` is the one place that catches
them: it turns every failure into the caller's project error, built from a one-line reason that
says what is wrong and, where it is obvious, how to fix it. Values of valid expressions are
exactly what numexpr returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numexpr
import numpy as np
from numexpr.expressions import functions as _NUMEXPR_FUNCTIONS

from wan.errors import WanError

# Every way numexpr is seen to fail on a bad expression (RuntimeError covers NotImplementedError,
# RecursionError and "invalid program"; ArithmeticError covers ZeroDivision and Overflow).
EXPRESSION_FAILURES: tuple[type[BaseException], ...] = (
    ArithmeticError,
    LookupError,
    SyntaxError,
    TypeError,
    ValueError,
    AttributeError,
    RuntimeError,
    MemoryError,
)

_OPCODE = re.compile(r"matching opcode for '([a-z0-9]+)_[a-z]+'")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
_COMMON = "sin, cos, tan, sqrt, exp, log, abs, floor, ceil, where"
_ROUND_FIX = "write floor(x*100+0.5)/100 to keep 2 decimals, floor(x+0.5) for a whole number"


def evaluate(
    expression: str, variables: Mapping[str, object], error: Callable[[str], WanError]
) -> np.ndarray:
    """numexpr.evaluate(expression) with `variables`; numeric (bool, int, float) results only.

    Any failure raises ``error(reason)``: the caller adds where the expression is (setting,
    key, frame), the reason says what is wrong in one line.
    """
    try:
        with np.errstate(all="ignore"):
            result = numexpr.evaluate(expression, local_dict=dict(variables), global_dict={})
    except EXPRESSION_FAILURES as exc:
        raise error(failure_reason(exc, expression, sorted(variables))) from None
    result = np.asarray(result)
    if result.dtype.kind not in "biuf":
        raise error(f"the expression gives {result.dtype} values, not numbers")
    return result


def failure_reason(exc: BaseException, expression: str, names: list[str]) -> str:
    """One line: why numexpr could not evaluate `expression`, with a fix where it is obvious."""
    message = _first_line(exc)
    unknown = [f for f in _CALL.findall(expression) if f not in _NUMEXPR_FUNCTIONS]
    opcode = _OPCODE.search(message) if isinstance(exc, NotImplementedError) else None
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    opened, closed = expression.count("("), expression.count(")")
    if isinstance(exc, SyntaxError) and opened != closed:
        fix = "close each '(' with a ')'" if opened > closed else "remove the extra ')'"
        return f"the parentheses do not balance: {opened} '(' and {closed} ')'; {fix}"
    if isinstance(exc, KeyError):
        return f"unknown name {exc.args[0]!r} (expressions here can use {', '.join(names)})"
    if isinstance(exc, TypeError) and "not callable" in message and unknown:
        if unknown[0] == "round":
            return f"this numexpr has no round(); {_ROUND_FIX}"
        return f"unknown function {unknown[0]}() (numexpr has {_COMMON}, ...)"
    if opcode:
        function = opcode.group(1)
        if function == "round":
            return f"numexpr's round() takes no digits ({message}); {_ROUND_FIX}"
        reason = f"numexpr's {function}() does not take these arguments ({message})"
        return f"{reason}; check their number and kind"
    if isinstance(exc, OverflowError):
        return f"a number is too large for numexpr ({message})"
    if isinstance(exc, RecursionError | MemoryError) or "must be in range(0, 256)" in message:
        return "the expression is too long or too deeply nested for numexpr; simplify it"
    return f"not a valid expression ({message})"


def shown(expression: str, limit: int = 120) -> str:
    """The expression on one line (whitespace collapsed) and cut to `limit` characters."""
    text = " ".join(expression.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 200 else line[:197] + "..."
