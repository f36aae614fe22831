"""README.md and docs/*.md point only at what exists inside the repository:
every relative link resolves to a file of the checkout (and, with
``#anchor``, to a heading of that file, by GitHub's anchor rule), no link
leaves the repository, and every repository path they name (`tests/...`,
`tools/...`, `configs/...`, `docs/...`, `hrformer_mm/...`, `metafiles/...`,
in backticks, in prose or in a command; pytest node ids down to the test
function) exists."""
import glob
import os.path as osp
import re

import pytest

from e2e_utils import ROOT

LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)\)')
CODE_PATH = re.compile(
    r'`((?:tests|tools|configs|docs|hrformer_mm|metafiles|requirements)/'
    r'[^`\s]*)`')
# the same paths written without backticks (commands in code blocks too)
BARE_PATH = re.compile(
    r'(?:^|(?<=[\s("\'=]))((?:tests|tools|configs|docs|hrformer_mm|metafiles|'
    r'requirements)/[\w./-]+\.(?:py|sh|md|yml|txt))', re.M)
FENCE = re.compile(r'^(```|~~~)')


def doc_files(root):
    return [osp.join(root, 'README.md')] + sorted(
        glob.glob(osp.join(root, 'docs', '*.md')))


def _prose(text):
    """The lines outside fenced code blocks."""
    out, fenced = [], False
    for line in text.split('\n'):
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        out.append('' if fenced else line)
    return out


def anchors(text):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to
    hyphens, a -N suffix for repeats."""
    seen, out = {}, set()
    for line in _prose(text):
        m = re.match(r'#{1,6}\s+(.*?)\s*#*\s*$', line)
        if not m:
            continue
        slug = re.sub(r'[^\w\- ]', '', m.group(1).lower()).replace(' ', '-')
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f'{slug}-{n}')
    return out


def _literal(path):
    """A concrete path, not a pattern or a placeholder."""
    return not re.search(r'[{}*<>\[\]|$]|\.\.\.|/X\b|_N\b|NAME', path)


def broken_links(root, files=None):
    """[(file, target, why)] for every link or backticked path of the docs
    that does not resolve inside ``root``."""
    root = osp.realpath(root)
    bad = []
    for path in files or doc_files(root):
        rel = osp.relpath(path, root)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        lines = _prose(text)
        prose = '\n'.join(lines)
        targets = LINK.findall(re.sub(r'`[^`\n]*`', '', prose))
        for target in targets:
            if re.match(r'[a-z][a-z0-9+.-]*:', target):  # http:, mailto:
                continue
            file_part, _, frag = target.partition('#')
            dest = osp.realpath(osp.join(osp.dirname(path), file_part)) \
                if file_part else osp.realpath(path)
            if not (dest == root or dest.startswith(root + osp.sep)):
                bad.append((rel, target, 'outside the repository'))
                continue
            if not osp.exists(dest):
                bad.append((rel, target, 'no such file'))
                continue
            if frag and dest.endswith('.md'):
                with open(dest, encoding='utf-8') as f:
                    if frag not in anchors(f.read()):
                        bad.append((rel, target, 'no such heading'))
        linked = {t.partition('#')[0] for t in targets}
        for name in sorted(set(BARE_PATH.findall(text)) - linked):
            if _literal(name) and not osp.exists(osp.join(root, name)):
                bad.append((rel, name, 'no such path'))
        for line in text.split('\n'):
            if '../shared' in line:
                bad.append((rel, line.strip(), 'outside the repository'))
        for name in CODE_PATH.findall(prose):
            name, _, test = name.rstrip('.,;:)').partition('::')
            if not _literal(name):
                continue
            if not osp.exists(osp.join(root, name)):
                bad.append((rel, name, 'no such path'))
            elif test and name.endswith('.py'):  # a pytest node id
                with open(osp.join(root, name), encoding='utf-8') as f:
                    if not re.search(rf'def {re.escape(test.split("[")[0])}\(',
                                     f.read()):
                        bad.append((rel, f'{name}::{test}', 'no such test'))
    return bad


def test_every_link_and_path_of_the_docs_resolves():
    bad = broken_links(ROOT)
    assert not bad, '\n'.join(f'{f}: {t} ({why})' for f, t, why in bad)


def test_the_check_finds_broken_links(tmp_path):
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'real.py').write_text('')
    (tmp_path / 'docs' / 'a.md').write_text(
        '# A page\n\n## Some: section\n')
    (tmp_path / 'README.md').write_text(
        '# R\n'
        '[ok](docs/a.md) [ok](docs/a.md#some-section) [ok](#r) '
        '[web](https://example.com/x) `tools/real.py` `tools/{a,b}.py`\n'
        '[gone](docs/missing.md) [anchor](docs/a.md#nowhere) '
        '[out](../elsewhere/x.md) `tools/gone.py` `x[i](y)`\n'
        '`tools/real.py::test_nothing`\n'
        '```\n[in code](ignored.md)\nbash tools/real.py\n'
        'python tools/absent.py configs/X.py\n```\n')
    bad = broken_links(str(tmp_path))
    assert sorted((t, why) for _, t, why in bad) == sorted([
        ('docs/missing.md', 'no such file'),
        ('docs/a.md#nowhere', 'no such heading'),
        ('../elsewhere/x.md', 'outside the repository'),
        ('tools/gone.py', 'no such path'),
        ('tools/real.py::test_nothing', 'no such test'),
        ('tools/absent.py', 'no such path')])


@pytest.mark.parametrize('heading,slug', [
    ("## Importing a host's API first", 'importing-a-hosts-api-first'),
    ('### Checkpoints: every published format loads directly',
     'checkpoints-every-published-format-loads-directly'),
    ('## `tools/test.py` output', 'toolstestpy-output')])
def test_anchor_rule(heading, slug):
    assert slug in anchors(heading + '\n')
