"""Every ```python block of README.md and docs/*.md runs, so a snippet that stops working fails
here. Each page's blocks run in order in one namespace, like a notebook: a later block may use
what an earlier one defined. A block that must not run (a sketch with ``...`` in it) says so
in its fence, ```python no-run, and only a handful may. A page whose blocks import SciPy (or
Dask) is skipped where it is not installed.

A result written after an expression is checked too:

    wg.gradient(lambda x, n: x ** n, 2.0, 3)      # (12.0, None)

A comment is such a claim when it (or its part before two spaces or ", ") is a Python value
made of numbers, None, True, False, nan, inf, tuples, lists, dicts and ``array(...)`` /
``np.float64(...)`` as NumPy prints them; any other comment is prose and is not checked.
And a ``try`` with ``except`` (and no ``else``) claims that its body raises: a snippet that
shows an error fails here when the error is gone. Links between the pages must resolve, and
the examples in the docstrings of the public names run as doctests.
"""
import ast
import dataclasses
import doctest
import importlib
import io
import pathlib
import re
import sys
import tokenize
import types

import numpy as np
import pytest

import wengert as wg
from wengert import optim, testing

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN, NO_RUN = "python", "python no-run"
MOST_NOT_RUN = 4          # sketches allowed across all pages; prefer runnable snippets
# An opening or closing fence, possibly indented (a block inside a list item).
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
SCIPY_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+((?:scipy|dask)(?:\.\w+)*)",
                          re.MULTILINE)


@dataclasses.dataclass
class Block:
    page: pathlib.Path
    line: int            # the line of the opening fence, counted from 1
    info: str
    source: str

    def __repr__(self):
        return f"{self.page.name}:{self.line}"


def blocks_of(page):
    """The fenced code blocks of a Markdown page, each dedented by its fence's indent."""
    blocks, lines = [], page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, ticks = len(opening["indent"]), opening["ticks"]
        body, j = [], i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (closing and not closing["info"] and closing["ticks"][0] == ticks[0]
                    and len(closing["ticks"]) >= len(ticks)):
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        else:
            raise AssertionError(f"{page.name}:{i + 1}: a code fence is never closed")
        blocks.append(Block(page, i + 1, opening["info"], "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def python_blocks(page):
    return [b for b in blocks_of(page) if b.info.split(" ")[0].lower().startswith("py")]


def scipy_modules(page):
    return sorted({m for b in python_blocks(page) if b.info == RUN
                   for m in SCIPY_IMPORT.findall(b.source)})


def _import_now(names):
    """Import the SciPy modules a page uses at collection: wengert's support for one registers
    its rules then, and rules registered inside a test are removed after it (conftest.py)."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


MISSING = {page.name: _import_now(scipy_modules(page)) for page in PAGES}


# ---------------------------------------------------------------------------------------------
# Results claimed in comments
# ---------------------------------------------------------------------------------------------

VALUE_NAMES = {"nan": np.nan, "inf": np.inf, "array": np.array, "float32": np.float32,
               "float64": np.float64, "complex64": np.complex64, "complex128": np.complex128,
               "int64": np.int64, "np": np}
NUMPY_SCALARS = {"float32", "float64", "complex64", "complex128", "int64"}
CUTS = re.compile(r" {2,}|, (?=[A-Za-z])")


def _is_value(node):
    """Whether an expression only spells a value, the way Python and NumPy print one."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(map(_is_value, node.elts))
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_value(k) for k in node.keys) and all(
            map(_is_value, node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_value(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _is_value(node.left) and _is_value(node.right)      # 1+2j
    if isinstance(node, ast.Name):
        return node.id in NUMPY_SCALARS | {"nan", "inf"}
    if isinstance(node, ast.Attribute):
        return (isinstance(node.value, ast.Name) and node.value.id == "np"
                and node.attr in NUMPY_SCALARS)
    if isinstance(node, ast.Call):
        named = (isinstance(node.func, ast.Name) and node.func.id == "array") or (
            isinstance(node.func, ast.Attribute) and _is_value(node.func))
        return named and all(map(_is_value, node.args)) and all(
            k.arg == "dtype" and _is_value(k.value) for k in node.keywords)
    return False


def claimed_value(comment):
    """``(True, value)`` if the comment states a value (see the module docstring)."""
    text = comment.lstrip("#").strip()
    for candidate in [text] + [text[:m.start()] for m in CUTS.finditer(text)]:
        try:
            tree = ast.parse(candidate.strip(), mode="eval")
        except SyntaxError:
            continue
        if _is_value(tree.body):
            return True, eval(compile(tree, "<claim>", "eval"), dict(VALUE_NAMES))
    return False, None


def agrees(got, expected):
    """Whether ``got`` is the claimed value, up to the digits a printout shows."""
    if expected is None or isinstance(expected, bool):
        return got is expected or (isinstance(got, np.bool_) and got == expected)
    if isinstance(expected, str):
        return got == expected
    if isinstance(expected, (tuple, list)):
        return (type(got) is type(expected) and len(got) == len(expected)
                and all(map(agrees, got, expected)))
    if isinstance(expected, dict):
        return (isinstance(got, dict) and list(got) == list(expected)
                and all(agrees(got[k], expected[k]) for k in expected))
    if isinstance(got, (tuple, list, dict)) or got is None:
        return False
    got_array, expected_array = np.asarray(got), np.asarray(expected)
    if got_array.shape != expected_array.shape:
        return False
    if isinstance(expected, (np.ndarray, np.generic)) and got_array.dtype != expected_array.dtype:
        # array([...], dtype=float32) claims the dtype; array([1., 2.]) claims float64
        return False
    if np.iscomplexobj(got_array) != np.iscomplexobj(expected_array):
        return False
    return bool(np.allclose(got_array, expected_array, rtol=1e-3, atol=1e-8, equal_nan=True))


def _comments_by_line(source):
    return {token.start[0]: token.string
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT}


class _TryMustRaise(ast.NodeTransformer):
    """``try: ... except E: ...`` gets ``else: raise AssertionError(...)``."""

    def visit_Try(self, node):
        self.generic_visit(node)
        if node.handlers and not node.orelse:
            message = f"the try block at line {node.lineno} was shown raising, but it did not"
            node.orelse = [ast.copy_location(ast.Raise(ast.Call(
                ast.Name("AssertionError", ast.Load()), [ast.Constant(message)], []), None),
                node)]
        return node


def with_checked_claims(source, first_line):
    """The module AST of a block (numbered from ``first_line``) in which every expression
    statement followed by a claimed value passes its value through ``__claim__``."""
    padded = "\n" * first_line + source
    tree = ast.parse(padded)
    comments = _comments_by_line(padded)
    for i, statement in enumerate(tree.body):
        if not isinstance(statement, ast.Expr) or statement.end_lineno not in comments:
            continue
        is_claim, _ = claimed_value(comments[statement.end_lineno])
        if not is_claim:
            continue
        call = ast.Call(ast.Name("__claim__", ast.Load()),
                        [statement.value, ast.Constant(comments[statement.end_lineno]),
                         ast.Constant(statement.end_lineno)], [])
        tree.body[i] = ast.copy_location(ast.Expr(ast.copy_location(call, statement)),
                                         statement)
    return ast.fix_missing_locations(_TryMustRaise().visit(tree))


def _claim_checker(page):
    def __claim__(got, comment, line):
        expected = claimed_value(comment)[1]
        assert agrees(got, expected), (
            f"{page.name}:{line} claims {comment.lstrip('#').strip()!r}, but the expression "
            f"gives {got!r}")
        return got
    return __claim__


def test_claims_are_read_like_printouts():
    assert claimed_value("# (12.0, None)") == (True, (12.0, None))
    assert claimed_value("# None, as the gradient says") == (True, None)
    assert claimed_value("# (0.0,)  entropy")[1] == (0.0,)
    assert claimed_value("# (2.0, array([0., 0.], dtype=float32))")[1][1].dtype == np.float32
    assert claimed_value("# np.float64(14.0)")[1] == 14.0
    assert claimed_value("# (2, 2), that is (n, n)")[1] == (2, 2)
    for prose in ("# a float", "# by identity: the very array", "# p -= 0.1 * g, in place",
                  "# 10 steps of it", "# Quadratic(A=dA, c=dc), dx", "# (gx, grads)"):
        assert claimed_value(prose) == (False, None), prose
    assert agrees((12.0, None), (12.0, None))
    assert not agrees((12.0, 0.0), (12.0, None))
    assert not agrees((np.array([1.0, 2.0]),), (np.array([1.0, 2.5]),))
    assert not agrees(np.ones(2, np.float32), np.ones(2))          # a claimed dtype
    assert agrees(0.28712, 0.2871)                                   # printed to 4 digits
    assert agrees((np.array([np.nan, 1.0]),), (np.array([np.nan, 1.0]),))
    assert agrees((1.0, "layer"), (1.0, "layer")) and not agrees("layer", "Layer")


def test_a_wrong_claim_fails(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nimport numpy as np\nnp.sum([1.0, 2.0])   # 3.0\n"
                    "np.sum([1.0, 2.0])   # 4.0\n```\n")
    namespace = {"__claim__": _claim_checker(page)}
    (block,) = python_blocks(page)
    with pytest.raises(AssertionError, match=r"page.md:4 claims '4.0'"):
        exec(compile(with_checked_claims(block.source, block.line), str(page), "exec"),
             namespace)


def test_a_try_block_that_does_not_raise_fails():
    source = "try:\n    1 / 1\nexcept ZeroDivisionError:\n    pass\n"
    with pytest.raises(AssertionError, match="line 2 was shown raising"):
        exec(compile(with_checked_claims(source, 1), "<page>", "exec"), {})
    exec(compile(with_checked_claims(source.replace("1 / 1", "1 / 0"), 1), "<page>", "exec"),
         {})


def test_every_python_fence_is_marked_run_or_no_run():
    odd = [f"{b!r}: ```{b.info}" for page in PAGES for b in python_blocks(page)
           if b.info not in (RUN, NO_RUN)]
    assert not odd, ("python blocks must open with ```python (run) or ```python no-run "
                     "(a sketch): " + ", ".join(odd))


def test_only_a_handful_of_blocks_are_not_run():
    skipped = [b for page in PAGES for b in python_blocks(page) if b.info == NO_RUN]
    assert len(skipped) <= MOST_NOT_RUN, (
        f"{len(skipped)} python blocks are marked no-run (at most {MOST_NOT_RUN}): "
        f"{skipped}; make them runnable")


def test_the_pages_have_snippets():
    # The new-user pages must exist and run something, or this file would test nothing.
    counts = {page.name: sum(b.info == RUN for b in python_blocks(page)) for page in PAGES}
    for name in ("README.md", "api.md", "coming-from.md", "sharp-bits.md", "rules.md",
                 "params.md", "conventions.md"):
        assert counts.get(name, 0) >= 1, f"{name} has no runnable python block: {counts}"
    assert sum(counts.values()) >= 60, counts


def test_fences_are_parsed_like_markdown(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\na = 1\n```\n- item\n  ```python no-run\n  b = ...\n"
                    "  ```\n````python\nc = '```'\n````\n```bash\nls\n```\n")
    blocks = blocks_of(page)
    assert [(b.line, b.info, b.source) for b in blocks] == [
        (2, RUN, "a = 1\n"), (6, NO_RUN, "b = ...\n"), (9, RUN, "c = '```'\n"),
        (12, "bash", "ls\n")]


LINK = re.compile(r"\]\((?!https?:|mailto:)(?P<file>[^)#\s]*)(?:#(?P<anchor>[^)\s]+))?\)")


def _anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _prose_lines(page):
    """The lines of a page outside its code blocks."""
    inside = {b.line + i for b in blocks_of(page) for i in range(b.source.count("\n") + 2)}
    return [line for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
            if number not in inside]


def _anchors(page):
    return {_anchor(line.lstrip("#")) for line in _prose_lines(page) if line.startswith("#")}


def test_links_between_pages_resolve():
    assert _anchor("`wg.jacobian(f, *args, mode=\"reverse\")`") == "wgjacobianf-args-modereverse"
    broken = []
    for page in PAGES:
        prose = re.sub(r"`[^`\n]*`", "", "\n".join(_prose_lines(page)))
        for match in LINK.finditer(prose):
            target = (page.parent / match["file"]).resolve() if match["file"] else page
            if not target.exists():
                broken.append(f"{page.name}: {match.group(0)} (no such file)")
            elif match["anchor"] and target.suffix == ".md" and (
                    match["anchor"] not in _anchors(target)):
                broken.append(f"{page.name}: {match.group(0)} (no such heading)")
    assert not broken, broken



def test_a_page_needing_a_missing_module_is_skipped():
    assert _import_now(["json", "json.no_such_module"]) == ["json.no_such_module"]


PAGES_WITH_CODE = [page for page in PAGES if any(b.info == RUN for b in python_blocks(page))]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[p.name for p in PAGES_WITH_CODE])
def test_page_runs(page):
    blocks = [b for b in python_blocks(page) if b.info == RUN]
    if MISSING[page.name]:
        pytest.skip(f"{page.name} needs {', '.join(MISSING[page.name])}")
    # A module of its own, so that classes the page defines belong to code wengert treats
    # as the user's (implicit parameters follow their attributes).
    name = "docs_" + re.sub(r"\W", "_", page.stem)
    module = types.ModuleType(name)
    module.__claim__ = _claim_checker(page)
    sys.modules[name] = module
    try:
        for block in blocks:
            # Numbered from the fence, so that a traceback shows the page's own lines.
            code = compile(with_checked_claims(block.source, block.line), str(page), "exec")
            try:
                exec(code, module.__dict__)
            except AssertionError:
                raise
            except Exception as error:
                raise AssertionError(
                    f"the block at {block!r} raised {type(error).__name__}: {error}") from error
    finally:
        del sys.modules[name]


# ---------------------------------------------------------------------------------------------
# Examples in the docstrings of the public names
# ---------------------------------------------------------------------------------------------

PUBLIC = {**{f"wg.{name}": getattr(wg, name) for name in wg.__all__ if name != "testing"},
          **{f"wg.testing.{name}": getattr(testing, name) for name in testing.__all__},
          **{f"wengert.optim.{name}": getattr(optim, name) for name in optim.__all__}}
FINDER = doctest.DocTestFinder(recurse=True, exclude_empty=True)


def _examples_of(name):
    return [t for t in FINDER.find(PUBLIC[name], name, module=False, globs={}) if t.examples]


WITH_EXAMPLES = sorted(name for name in PUBLIC if _examples_of(name))


def test_docstring_examples_exist():
    assert len(WITH_EXAMPLES) >= 15, WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    tests = _examples_of(name)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} of {attempted} examples in the docstring of {name} failed"
