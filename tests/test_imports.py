"""The package's modules import each other without a circle.

A circle makes a module's import order matter (the half-initialised module
an import finds when the circle closes) and hides which module is the leaf:
each module here is either a leaf of helpers or builds on leaves.  The
imports are read with ``ast`` (nothing is imported), each resolved to the
module of this package it loads; imports inside function bodies count too
(a function-level import that goes back up the graph is the same circle,
deferred to call time), in a graph of their own and in the union.
"""
import ast
import os.path as osp
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = 'hrformer_mm'
ROOT = Path(__file__).resolve().parents[1]


def package_modules(root: Path = ROOT, package: str = PACKAGE
                    ) -> Dict[str, Path]:
    """``{dotted module name: file}`` of every module of ``package``."""
    modules = {}
    for path in sorted((root / package).rglob('*.py')):
        name = '.'.join(path.relative_to(root).with_suffix('').parts)
        modules[name[:-len('.__init__')] if name.endswith('.__init__')
                else name] = path
    return modules


def _targets(node, module: str, is_package: bool, modules: set) -> List[str]:
    """The package's modules an import statement loads: the deepest
    existing module of each name and the packages above it."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            parts = module.split('.') if is_package else \
                module.split('.')[:-1]
            parts = parts[:len(parts) - node.level + 1]
            base = '.'.join(parts + ([node.module] if node.module else []))
        else:
            base = node.module or ''
        # ``from pkg import name``: the submodule if ``name`` is one
        names = [f'{base}.{a.name}' if f'{base}.{a.name}' in modules
                 else base for a in node.names]
    # importing ``a.b.c`` runs ``a`` and ``a.b`` first, except those that
    # are the importing module's own packages (already run before it)
    own = {module.rsplit('.', i)[0] for i in range(module.count('.') + 1)}
    found = []
    for name in names:
        while name not in modules and '.' in name:
            name = name.rsplit('.', 1)[0]
        if name not in modules:
            continue
        parts = name.split('.')
        found.extend(p for p in ('.'.join(parts[:i])
                                 for i in range(1, len(parts) + 1))
                     if p in modules and p not in own)
    return found


def import_graph(modules: Dict[str, Path], in_functions: bool
                 ) -> Dict[str, Set[str]]:
    """Edges ``module -> imported module``: the imports run when the module
    is imported (module level, class bodies, ``if`` / ``try`` blocks) or,
    with ``in_functions``, those inside function bodies."""
    graph = {name: set() for name in modules}
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def visit(node, module, is_package, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, functions)
            if isinstance(child, (ast.Import, ast.ImportFrom)) and \
                    inside == in_functions:
                graph[module].update(
                    _targets(child, module, is_package, graph.keys()))
            visit(child, module, is_package, inside)

    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        visit(tree, name, path.name == '__init__.py', False)
    return graph


def find_cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """One circle per strongly connected component of more than one module,
    as the path ``a -> b -> ... -> a``."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_shortest_circle(graph, c) for c in components]


def _shortest_circle(graph: Dict[str, Set[str]], component: Set[str]
                     ) -> List[str]:
    """``start -> ... -> start`` through the component, breadth first."""
    start = min(component)
    parents, frontier = {start: None}, [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return path[::-1] + [start]
                if w not in parents:
                    parents[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f'{sorted(component)} is not strongly connected')


def _graphs():
    modules = package_modules()
    module_level = import_graph(modules, in_functions=False)
    function_level = import_graph(modules, in_functions=True)
    union = {k: module_level[k] | function_level[k] for k in modules}
    return module_level, function_level, union


@pytest.mark.parametrize('which', ['module level', 'function level',
                                   'module and function level'])
def test_no_import_cycle(which):
    graph = dict(zip(['module level', 'function level',
                      'module and function level'], _graphs()))[which]
    assert len(graph) > 50  # the walk found the package
    cycles = find_cycles(graph)
    assert not cycles, f'import circles ({which}):\n' + '\n'.join(
        ' -> '.join(c) for c in cycles)


def test_cycle_finder_names_a_circle(tmp_path):
    """The walk sees relative, absolute and function-level imports and
    reports a circle as its path."""
    pkg = tmp_path / 'pkg'
    (pkg / 'sub').mkdir(parents=True)
    (pkg / '__init__.py').write_text('from . import a\n')
    (pkg / 'a.py').write_text('from .sub import b\n')
    (pkg / 'sub' / '__init__.py').write_text('')
    (pkg / 'sub' / 'b.py').write_text(
        'import os\n\ndef f():\n    from pkg.a import x\n')
    (pkg / 'c.py').write_text('class C:\n    from pkg.sub.b import f\n')
    modules = package_modules(tmp_path, 'pkg')
    assert set(modules) == {'pkg', 'pkg.a', 'pkg.sub', 'pkg.sub.b', 'pkg.c'}
    module_level = import_graph(modules, in_functions=False)
    function_level = import_graph(modules, in_functions=True)
    assert module_level['pkg'] == {'pkg.a'}
    # pkg.sub's __init__ runs before pkg.sub.b; pkg's already ran
    assert module_level['pkg.a'] == {'pkg.sub', 'pkg.sub.b'}
    assert module_level['pkg.c'] == {'pkg.sub', 'pkg.sub.b'}  # class bodies
    assert module_level['pkg.sub.b'] == set()
    assert function_level['pkg.sub.b'] == {'pkg.a'}
    assert find_cycles(module_level) == []
    union = {k: module_level[k] | function_level[k] for k in modules}
    assert find_cycles(union) == [['pkg.a', 'pkg.sub.b', 'pkg.a']]


def test_cycle_finder_sees_a_circle_through_a_package_init(tmp_path):
    """``x`` imports ``sub.y``, which runs ``sub/__init__``, which imports
    ``x``: a circle although no module imports ``x``'s importer back."""
    pkg = tmp_path / 'pkg'
    (pkg / 'sub').mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'x.py').write_text('from pkg.sub.y import f\n')
    (pkg / 'sub' / '__init__.py').write_text('from .. import x\n')
    (pkg / 'sub' / 'y.py').write_text('def f():\n    pass\n')
    graph = import_graph(package_modules(tmp_path, 'pkg'), in_functions=False)
    assert graph['pkg.x'] == {'pkg.sub', 'pkg.sub.y'}
    assert graph['pkg.sub'] == {'pkg.x'}
    assert find_cycles(graph) == [['pkg.sub', 'pkg.x', 'pkg.sub']]


def test_package_walk_covers_every_file():
    files = {osp.normpath(str(p)) for p in (ROOT / PACKAGE).rglob('*.py')}
    assert {osp.normpath(str(p)) for p in package_modules().values()} == files
