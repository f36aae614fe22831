"""The repository's docs, code and tests speak of the product as it is.

Issue numbers of the project's tracker, and words that tell the project's
history ("no longer", "previously"), belong in CHANGELOG.md; a reader of
README.md, docs/, the package, the tools, the tests or the configs needs
what is true now.  And the docs give one quick test loop."""
import glob
import os.path as osp
import re

import pytest

from e2e_utils import ROOT

TREES = ('README.md', 'docs', 'hrformer_mm', 'tools', 'tests', 'configs')
SUFFIXES = ('.py', '.md', '.sh', '.yml', '.yaml', '.json', '.txt', '.cfg',
            '.ini', '.toml')
#: (pattern, why): each names history or the tracker, not a product fact
PATTERNS = [
    (r'\bissues? ?#?\d+', 'an issue number of the tracker'),
    (r'\bitem \d+\b', 'an item of an issue'),
    (r'\b(?:this|other|another) sessions?\b', 'the development process'),
    (r'\bno longer\b', 'history'),
    (r'\bused to (?:be|fail|give|stop|run|pass|crash|hang)\b', 'history'),
    (r'\bpreviously\b', 'history'),
    (r'\bformerly\b', 'history'),
    (r'\bwas filed\b', 'the tracker'),
    (r'\bearlier (?:measurement|version|table|run|budget)s?\b', 'history'),
    (r'\bthis revision\b', 'history'),
    # "today" alone also states what holds now ("the order that works
    # today", "today's tracer"): only the project's own day is history
    (r'\b(?:added|changed|fixed|removed|rewritten|measured) today\b',
     'history'),
    (r"\btoday's (?:changes?|commits?|fix(?:es)?|review|session|work|"
     r'tests?)\b', 'history'),
]
WORDS = re.compile('|'.join(f'(?:{p})' for p, _ in PATTERNS), re.I)


def repository_files(root=ROOT):
    for tree in TREES:
        path = osp.join(root, tree)
        if osp.isfile(path):
            yield tree
            continue
        for f in sorted(glob.glob(osp.join(path, '**', '*'), recursive=True)):
            if f.endswith(SUFFIXES) and osp.isfile(f) and \
                    osp.abspath(f) != osp.abspath(__file__):
                yield osp.relpath(f, root)


def process_words(root=ROOT):
    """['path:line: the words'] for every hit of :data:`PATTERNS`."""
    hits = []
    for rel in repository_files(root):
        try:
            with open(osp.join(root, rel), encoding='utf-8') as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(lines, 1):
            for m in WORDS.finditer(line):
                hits.append(f'{rel}:{n}: {m.group(0)!r}')
    return hits


def test_no_issue_numbers_or_history_words():
    hits = process_words()
    assert not hits, ('history belongs in CHANGELOG.md, a product fact in '
                      'the present tense:\n' + '\n'.join(hits))


@pytest.mark.parametrize('text', [
    'as issue 12 asks', 'see Issue #8', 'item 3 of the brief',
    'while other sessions loaded the machine', 'it no longer fails',
    'the probe used to be 3-channel', 'previously the mask was',
    'measured when the bug was filed', 'An earlier measurement gave 21 s',
    'not measured by this revision', 'the loader changed today',
    "as today's tests show"])
def test_the_check_finds_each_kind(tmp_path, text):
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'page.md').write_text(f'Text.\n{text}.\n')
    (tmp_path / 'README.md').write_text('# Title\n')
    assert process_words(str(tmp_path)) == [
        f'docs/page.md:2: {WORDS.search(text).group(0)!r}']


@pytest.mark.parametrize('text', [
    'the seed used to draw the weights', 'an InferenceSession runs it',
    'the issue of padding', 'a fixed factor of 2', 'keypoint 3',
    "today's tracer records one node", 'the one order that works today'])
def test_ordinary_english_passes(tmp_path, text):
    (tmp_path / 'README.md').write_text(text + '\n')
    assert process_words(str(tmp_path)) == []


#: where the quick test loop is written out: the docs, and the GPU check
#: script, which runs the same loop with a GPU present
LOOP_FILES = ('README.md', 'docs/*.md', 'tools/gpu_check.sh')


def quick_loops(root=ROOT):
    """{expression: [files]} for every ``pytest ... -m "EXPR"`` of
    :data:`LOOP_FILES`."""
    found = {}
    for pattern in LOOP_FILES:
        for path in sorted(glob.glob(osp.join(root, pattern))):
            with open(path, encoding='utf-8') as f:
                for expr in re.findall(r'pytest\b[^\n`]*?-m "([^"]+)"',
                                       f.read()):
                    found.setdefault(expr, []).append(
                        osp.relpath(path, root))
    return found


def test_the_docs_give_one_quick_test_loop():
    """Every `pytest -m "..."` in README.md, docs/ and tools/gpu_check.sh
    selects the same tests, the loop pytest.ini's ``slow`` marker names."""
    found = quick_loops()
    assert 'README.md' in sum(found.values(), [])
    assert 'tools/gpu_check.sh' in sum(found.values(), [])
    assert len(found) == 1, found
    with open(osp.join(ROOT, 'pytest.ini'), encoding='utf-8') as f:
        slow = re.search(r'^ +slow:(.*)$', f.read(), re.M).group(1)
    assert f'-m "{next(iter(found))}"' in slow


def test_the_loop_check_sees_each_file(tmp_path):
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'README.md').write_text(
        '```bash\n.venv/bin/python -m pytest -m "not slow"\n```\n')
    (tmp_path / 'docs' / 'page.md').write_text(
        'a loop (`pytest -m "not e2e"`)\n')
    (tmp_path / 'tools' / 'gpu_check.sh').write_text(
        'step suite 100 "$PYTHON" -m pytest -q -m "not cluster" \\\n'
        '    -p no:cacheprovider\n')
    assert quick_loops(str(tmp_path)) == {
        'not slow': ['README.md'], 'not e2e': ['docs/page.md'],
        'not cluster': ['tools/gpu_check.sh']}
