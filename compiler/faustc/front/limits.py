"""The size limits a module must meet before libcst reads it, checked on CPython's own tree.

libcst's native parser overflows its stack (a segmentation fault) on very deep or very long
expressions, its visitors and ours recurse once or more per syntax level (a RecursionError
past about 300 levels), and it spends about half a millisecond per syntax node. So the
reader first parses the text with CPython (``ast.parse``: iterative here, and its errors
carry a position), then measures it here, and only a module within every limit goes on to
libcst. A module past a limit gets one diagnostic at the node that crossed it. Example::

    tree = ast.parse(text)
    too_big = module_limits(tree, text, "app.py")    # None, or a Diagnostic:
    # app.py:12:9: error: code nested too deeply for faustc: more than 150 levels ... [FC002]

The depth is measured in libcst's levels, not in ``ast``'s: an element of a list, an
argument of a call or a statement of a block is two levels deep in libcst (the element,
then its value), the index of a subscript three, and ``a and b and c`` (one node in
``ast``) nests once per operand, as do adjacent string literals (``"a" "b" "c"``, which
``ast`` merges into one constant). The thresholds were measured with the default recursion
limit: an attribute chain (one libcst level per ``.a``) breaks at about 310 levels, nested
lists at about 160 (320 libcst levels), mypy refuses sources nested 200 deep.
"""

from __future__ import annotations

import ast
import io
import tokenize

from faustc.diagnostics import Diagnostic
from faustc.front.ir import Span

#: bytes in one module (the largest module of CPython's standard library is 0.75 MB, most of
#: it one string; a Faust app module is a few kilobytes)
MAX_BYTES = 1_000_000
#: libcst levels from the module down to the deepest node (about half of where the reader
#: breaks; CPython's standard library stays under 70)
MAX_DEPTH = 150
#: syntax nodes in one module (libcst reads about 2,000 a second here, mypy about 1,000 in a
#: module full of errors; the standard library's largest module has 15,000)
MAX_NODES = 20_000
#: syntax nodes in one expression (the standard library's largest is 4,500: a data table)
MAX_EXPRESSION_NODES = 10_000

#: ast fields whose child is one libcst level below its parent (a chain of ``.a``, ``+``)
_ONE_LEVEL = {
    (ast.Attribute, "value"),
    (ast.BinOp, "left"),
    (ast.BinOp, "right"),
    (ast.UnaryOp, "operand"),
    (ast.IfExp, "body"),
    (ast.IfExp, "orelse"),
    (ast.IfExp, "test"),
    (ast.Await, "value"),
    (ast.Yield, "value"),
    (ast.YieldFrom, "value"),
    (ast.Starred, "value"),
    (ast.Subscript, "value"),
    (ast.NamedExpr, "value"),
    (ast.Lambda, "body"),
}
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def module_limits(tree: ast.Module, text: str, file: str) -> Diagnostic | None:
    """The first limit ``tree`` (parsed from ``text``) passes, as a diagnostic; else None."""
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > MAX_BYTES:
        return _at(
            file,
            None,
            f"the module is {size:,} bytes; faustc reads modules of up to {MAX_BYTES:,} "
            "bytes (split it into modules the app imports)",
        )
    strings = _string_runs(text)
    nodes = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return _at(
                file,
                node,
                f"the module has more than {MAX_NODES:,} syntax nodes, more than faustc "
                "reads in one module (split it into modules the app imports)",
            )
        if isinstance(node, ast.expr | ast.stmt):
            depth += strings.get((node.lineno, node.col_offset), 1) - 1
        if depth > MAX_DEPTH:
            return _at(
                file,
                node,
                f"code nested too deeply for faustc: more than {MAX_DEPTH} levels (write "
                "the inner part as a function or a module constant)",
            )
        if isinstance(node, ast.stmt | ast.Module):
            for _, part in ast.iter_fields(node):
                if isinstance(part, ast.expr):
                    too_big = _expression_size(part, file)
                    if too_big is not None:
                        return too_big
        for field, value in ast.iter_fields(node):
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST) and not isinstance(child, _LEAVES):
                    stack.append((child, depth + _weight(node, field, child)))
    return None


def _weight(parent: ast.AST, field: str, child: ast.AST) -> int:
    """How many libcst levels ``child`` (in ``parent.field``) sits below ``parent``."""
    if (type(parent), field) in _ONE_LEVEL:
        return 1
    if isinstance(parent, ast.BoolOp):  # libcst nests `a and b and c` once per operand
        return len(parent.values)
    if isinstance(parent, ast.Subscript):  # SubscriptElement, Index, then the value
        return 3
    if isinstance(child, ast.stmt) and not isinstance(child, _COMPOUND):
        return 3  # IndentedBlock, SimpleStatementLine, then the statement
    return 2


_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)


def _expression_size(expression: ast.expr, file: str) -> Diagnostic | None:
    for count, _ in enumerate(ast.walk(expression), start=1):
        if count > MAX_EXPRESSION_NODES:
            return _at(
                file,
                expression,
                f"expression too large for faustc: more than {MAX_EXPRESSION_NODES:,} "
                "syntax nodes (build large data at run time, or load it from a file)",
            )
    return None


def _string_runs(text: str) -> dict[tuple[int, int], int]:
    """Where adjacent string literals start (line, 0-based column), and how many there are
    (``ast`` merges ``"a" "b"`` into one constant; libcst nests them once per literal)."""
    runs: dict[tuple[int, int], int] = {}
    start: tuple[int, int] | None = None
    count = 0
    skipped = (tokenize.NL, tokenize.COMMENT)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in skipped:
                continue
            if token.type == tokenize.STRING:
                if start is None:
                    start, count = token.start, 0
                count += 1
                continue
            if start is not None and count > 1:
                runs[start] = count
            start = None
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse read it: what tokenize cannot read adds no string runs
    return runs


def _at(file: str, node: ast.AST | None, message: str) -> Diagnostic:
    line = getattr(node, "lineno", 1)
    column = getattr(node, "col_offset", 0) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_column = (getattr(node, "end_col_offset", None) or column) + 1
    if end_line != line or end_column <= column:
        end_line, end_column = line, column + 1
    return Diagnostic("FC002", message, Span(file, line, column, end_line, end_column))


def longest_statement(text: str) -> tuple[int, int]:
    """Line and 1-based column of the logical line with the most tokens (where a module too
    deep for Python's own parser is deepest); (1, 1) when tokenize cannot tell."""
    best, best_count = (1, 0), 0
    start: tuple[int, int] | None = None
    count = 0
    ends = (tokenize.NEWLINE, tokenize.ENDMARKER)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                continue
            if start is None:
                start, count = token.start, 0
            count += 1
            if token.type in ends:
                if count > best_count:
                    best, best_count = start, count
                start = None
    except (tokenize.TokenError, SyntaxError):
        if start is not None and count > best_count:
            best = start
    return best[0], best[1] + 1


def deepest_nested_call(text: str) -> tuple[int, int]:
    """Line and 1-based column of the call or subscript nested deepest in the arguments of
    others (``f(g(h(x)))``, ``x[x[x[0]]]``): where mypy's time explodes. (1, 1) if none."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return 1, 1
    best, best_depth = (1, 1), 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, outer = stack.pop()
        inner = outer
        if isinstance(node, ast.Call | ast.Subscript):
            inner = outer + 1
            if inner > best_depth:
                best, best_depth = (node.lineno, node.col_offset + 1), inner
        for field, value in ast.iter_fields(node):
            called = field == "func" if isinstance(node, ast.Call) else field == "value"
            depth = outer if called and isinstance(node, ast.Call | ast.Subscript) else inner
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    stack.append((child, depth))
    return best
