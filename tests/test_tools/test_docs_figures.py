"""The figures README.md and docs/ quote from a tool are that tool's.

* Parameters and GFLOPs (``tools/analysis/complexity.py CONFIG``): every
  markdown table row and every prose figure that names a config is read
  back and compared, at the printed precision, with the metafile entry of
  that config (which ``tools/zoo.py`` fills from the same counter and
  ``tests/test_configs/test_zoo.py`` / ``tests/test_analysis`` hold to the
  models) or, for configs outside the zoo, with the counter itself; the
  e2e test runs the counter on every quoted config but the detectors.
* CPU timings (``tools/analysis/benchmark.py``): docs/benchmarks.md quotes
  the times recorded in docs/benchmarks/*.json, and its ratios are those
  times' ratios.
"""
import glob
import json
import os.path as osp
import re
import sys

import pytest
import yaml

from e2e_utils import ROOT

DOCS = ['README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))
ZOO_BLOCK = re.compile(r'<!-- zoo:([\w-]+):start -->.*?<!-- zoo:\1:end -->',
                       re.S)
# rows that name a model instead of a config (docs/classification.md)
MODEL_NAMES = {
    'HRT-T': 'configs/cls/hrformer_t_imagenet.py',
    'HRT-S': 'configs/cls/hrformer_s_imagenet.py',
    'HRT-B': 'configs/cls/hrformer_b_imagenet.py',
    'HRViT-b1': 'configs/cls/hrvit_b1_imagenet.py',
    'HRViT-b2': 'configs/cls/hrvit_b2_imagenet.py',
    'HRViT-b3': 'configs/cls/hrvit_b3_imagenet.py',
    'HRNet-W18': 'configs/cls/hrnet_w18_imagenet.py',
    'HRNet-W32': 'configs/cls/hrnet_w32_imagenet.py',
    'HRNet-W48': 'configs/cls/hrnet_w48_imagenet.py',
}
NUMBER = re.compile(r'\d+(?:\.\d+)?')


def _read(rel):
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        return f.read()


def _metafile_entries():
    entries = {}
    for path in glob.glob(osp.join(ROOT, 'metafiles', '*.yml')):
        with open(path, encoding='utf-8') as f:
            for m in yaml.safe_load(f)['Models']:
                md = m['Metadata']
                entries[m['Config']] = dict(
                    params=md['Parameters'] / 1e6, paper=md['FLOPs'] / 1e9,
                    complete=md['FLOPs (complete)'] / 1e9,
                    traced=md.get('FLOPs (traced)', 0) / 1e9 or None)
    return entries


def _config_path(cell):
    """configs/... named in a table cell, as `configs/x/y.py`, `x/y.py`,
    `y.py` or a model name."""
    for name in re.findall(r'`([\w/]+\.py)`', cell):
        for cand in (name, 'configs/' + name):
            if osp.isfile(osp.join(ROOT, cand)):
                return cand
        found = glob.glob(osp.join(ROOT, 'configs', '*', name))
        if len(found) == 1:
            return osp.relpath(found[0], ROOT)
    return MODEL_NAMES.get(cell.strip())


def _cells(line):
    return [c.strip() for c in line.strip().strip('|').split('|')]


def _numbers(cell):
    return NUMBER.findall(cell.replace('*', ''))


def quoted_complexity():
    """[(doc, config, key, quoted text)] for every params / GFLOPs figure
    the docs quote for a config, key in params / paper / complete /
    traced."""
    quotes = []
    for rel in DOCS:
        text = ZOO_BLOCK.sub('', _read(rel))
        lines = text.splitlines()
        for i, line in enumerate(lines):
            # tables: a header row, then |---| and the rows
            if not (line.startswith('|') and i + 1 < len(lines)
                    and re.match(r'^\|\s*:?-', lines[i + 1])):
                continue
            head = [h.lower() for h in _cells(line)]
            cols = {}
            for k, h in enumerate(head):
                if h.startswith('params') and 'params' not in cols:
                    cols['params'] = k
                elif h.startswith('gflops') and 'complete' in h:
                    cols['complete'] = k
                elif h.startswith('gflops') and 'traced' in h:
                    cols['traced'] = k
                elif h.startswith('gflops') and 'paper' not in cols:
                    cols['paper'] = k
            if 'params' not in cols or 'paper' not in cols:
                continue
            for row in lines[i + 2:]:
                if not row.startswith('|'):
                    break
                cells = _cells(row)
                config = next(filter(None, map(_config_path, cells)), None)
                if config is None:
                    continue
                for key, k in cols.items():
                    nums = _numbers(cells[k])
                    if not nums:
                        continue
                    quotes.append((rel, config, key, nums[0]))
                    # "paper / complete" in one GFLOPs cell
                    if key == 'paper' and 'complete' not in cols and \
                            re.match(r'^\s*[\d.]+ / [\d.]+', cells[k]):
                        quotes.append((rel, config, 'complete', nums[1]))
        # prose: `configs/x.py` (HxW) 5.60M params, 1.31 / 1.51 GFLOPs
        for m in re.finditer(
                r'`(configs/[\w/]+\.py)`\s*\(\d+x\d+\)\s*(\d+\.\d+)M'
                r'(?: params)?,\s*(\d+\.\d+) / (\d+\.\d+)', text):
            quotes += [(rel, m.group(1), 'params', m.group(2)),
                       (rel, m.group(1), 'paper', m.group(3)),
                       (rel, m.group(1), 'complete', m.group(4))]
    return quotes


QUOTES = quoted_complexity()
ENTRIES = _metafile_entries()


def _decimals(text):
    return len(text.split('.')[1]) if '.' in text else 0


def _same(value, text):
    return f'{value:.{_decimals(text)}f}' == text


def test_the_docs_quote_complexity_figures():
    """The parser finds the tables it is meant to check (a change of their
    layout would otherwise silently check nothing)."""
    docs = {q[0] for q in QUOTES}
    assert {'docs/hrnet.md', 'docs/hrvit.md', 'docs/hrpvt.md',
            'docs/classification.md'} <= docs
    keys = {(q[0], q[2]) for q in QUOTES}
    assert ('docs/classification.md', 'traced') in keys
    assert ('docs/hrvit.md', 'complete') in keys
    assert len(QUOTES) >= 60


def test_quoted_zoo_figures_are_the_metafiles():
    wrong = []
    for rel, config, key, text in QUOTES:
        if config in ENTRIES:
            value = ENTRIES[config][key]
            if value is None or not _same(value, text):
                wrong.append(f'{rel}: {config} {key} {text}, metafile '
                             f'{value}')
    assert not wrong, '\n'.join(wrong)


def _counter(config):
    from hrformer_mm.analysis.complexity import config_complexity
    r = config_complexity(osp.join(ROOT, config))
    return dict(params=r['params_m'], paper=r['gflops_paper'],
                complete=r['gflops_complete'], traced=r.get('gflops_traced'))


def _check_against_counter(config):
    counted = _counter(config)
    wrong = [f'{rel}: {key} {text}, complexity.py {counted[key]}'
             for rel, c, key, text in QUOTES
             if c == config and not _same(counted[key], text)]
    assert not wrong, '\n'.join(wrong)


#: the quick loop runs the counter on the smallest quoted config; the e2e
#: test on every other one but the detectors: counting a detector at
#: 800x1333 on the CPU takes minutes each (mmdet's RoI heads run on every
#: proposal), and their quoted figures are the metafiles' (checked above),
#: which tools/zoo.py writes from this counter
QUICK = 'configs/pose/hrnetv2_demo_wflw.py'
COUNTED = sorted({q[1] for q in QUOTES} - {QUICK}
                 - {q[1] for q in QUOTES if q[1].startswith('configs/det/')})


def test_quoted_figures_of_the_smallest_config_are_the_counters():
    assert any(q[1] == QUICK for q in QUOTES)
    _check_against_counter(QUICK)


@pytest.mark.e2e
@pytest.mark.parametrize('config', COUNTED)
def test_every_quoted_figure_is_the_counters(config):
    _check_against_counter(config)


def test_the_parser_reads_a_table_and_a_prose_figure(tmp_path, monkeypatch):
    doc = ('| config | params (M) | GFLOPs | paper GFLOPs |\n'
           '|---|---|---|---|\n'
           '| `pose/hrnet_w32_coco.py` | 28.54 | 7.65 / 7.66 | 7.1 |\n\n'
           '`configs/pose/hrnet_w48_coco.py` (256x192) 63.60M params, '
           '15.69 / 15.69 GFLOPs\n')
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'x.md').write_text(doc)
    (tmp_path / 'README.md').write_text('')
    monkeypatch.setattr(sys.modules[__name__], 'DOCS',
                        ['README.md', 'docs/x.md'])
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', str(tmp_path))
    for sub in ('pose', ):
        (tmp_path / 'configs' / sub).mkdir(parents=True)
    (tmp_path / 'configs' / 'pose' / 'hrnet_w32_coco.py').write_text('')
    (tmp_path / 'configs' / 'pose' / 'hrnet_w48_coco.py').write_text('')
    got = quoted_complexity()
    assert ('docs/x.md', 'configs/pose/hrnet_w32_coco.py', 'params',
            '28.54') in got
    assert ('docs/x.md', 'configs/pose/hrnet_w32_coco.py', 'complete',
            '7.66') in got
    assert not any(q[3] == '7.1' for q in got)  # the paper's, not ours
    assert ('docs/x.md', 'configs/pose/hrnet_w48_coco.py', 'paper',
            '15.69') in got


# --- benchmark timings -----------------------------------------------------

RECORD = osp.join('docs', 'benchmarks', 'cpu_2026-11-23.json')


def _record():
    with open(osp.join(ROOT, RECORD), encoding='utf-8') as f:
        return json.load(f)['runs']


def _ratio(run, variant, base='mmpose'):
    ms = _record()[run]['ms_per_image']
    return ms[variant] / ms[base]


def _section(text, heading):
    start = text.index(heading)
    end = text.find('\n## ', start + len(heading))
    return text[start:end if end > 0 else None]


def test_benchmark_page_names_its_record():
    text = _read('docs/benchmarks.md')
    assert RECORD.replace('docs/', '') in text
    for run in _record().values():
        args = run['command'].split('benchmark.py ', 1)[1]
        assert f'`{args}`' in text, args


def test_benchmark_table_is_the_record():
    """Each row of the CPU table: the run it names (its arguments), the
    variant's ms per image, and the ratio to eager mmpose of that run."""
    runs = {r['command'].split('benchmark.py ', 1)[1]: r
            for r in _record().values()}
    section = _section(_read('docs/benchmarks.md'), '## CPU, 2 threads')
    table = section[section.index('| run |'):].split('\n\n')[0]
    rows = [_cells(r) for r in table.splitlines()[2:]]
    assert len(rows) >= 15
    run = None
    for cells in rows:
        named = re.search(r'`(--[^`]+)`', cells[0])
        if named:
            run = runs[named.group(1)]
        ms = run['ms_per_image']
        names = [v.split(' (')[0] for v in cells[1].split(' / ')]
        times = [float(t) for t in cells[2].split(' / ')]
        assert times == [ms[n] for n in names], cells
        ratio = float(cells[3].strip('*'))
        last = names[-1]
        assert f'{ms[last] / ms["mmpose"]:.3f}' == f'{ratio:.3f}', cells


def test_benchmark_summary_ratios_are_the_records():
    text = _read('docs/benchmarks.md')
    glance = _section(text, '## At a glance')
    rows = {_cells(r)[0]: _cells(r)[1:] for r in glance.splitlines()
            if r.startswith('| ')}

    def q(x):
        return f'{x:.2f}'

    expected = {
        'inference (batch 8 / 4), ours deployed vs mmpose eager':
            [q(_ratio('S infer', 'ours+deploy')),
             q(_ratio('B infer', 'ours+deploy'))],
        'inference, ours eager vs mmpose eager':
            [q(_ratio('S infer', 'ours')), q(_ratio('B infer', 'ours'))],
        'inference, both compiled (inductor), ours deployed':
            [q(_ratio('S infer compiled', 'ours+deploy+compile',
                      'mmpose+compile')),
             q(_ratio('S infer compiled', 'ours+deploy+compile')),
             q(_ratio('S infer compiled', 'mmpose+compile'))],
        'inference, both exported to onnxruntime':
            [q(_ratio('S infer', 'ours+onnx', 'mmpose+onnx')),
             q(_ratio('S infer', 'ours+onnx')),
             q(_ratio('S infer', 'mmpose+onnx')),
             q(_ratio('B infer', 'ours+onnx', 'mmpose+onnx')),
             q(_ratio('B infer', 'ours+onnx')),
             q(_ratio('B infer', 'mmpose+onnx'))],
        'training step, forward + backward + AdamW (batch 8 / 4)':
            [q(_ratio('S train', 'ours')), q(_ratio('B train', 'ours'))],
    }
    for label, numbers in expected.items():
        got = [n for c in rows[label] for n in _numbers(c)]
        assert got == numbers, label


# --- the training step across commits --------------------------------------

ACROSS = osp.join('docs', 'benchmarks',
                  'cpu_training_across_commits_2026-12-06.json')


def _across():
    with open(osp.join(ROOT, ACROSS), encoding='utf-8') as f:
        return json.load(f)


def _rows_after(text, heading):
    section = _section(text, heading)
    return [_cells(r) for r in section.splitlines() if r.startswith('| ')
            and not r.startswith('|---')]


def test_training_across_commits_tables_are_the_record():
    """The counted table quotes the record's counts; the timed table its
    medians and ranges of the paired runs."""
    rec = _across()
    text = _read('docs/benchmarks.md')
    assert ACROSS.replace('docs/', '') in text
    rows = {r[0]: r[1:] for r in _rows_after(
        text, '### The training step across commits')}
    for arch, label in (('small', 'S'), ('base', 'B')):
        for commit, name in (('869f7c9', '869f7c9'), ('HEAD', 'current')):
            c = rec['counted'][arch][commit]
            assert rows[f'{label}, {name}'] == [
                str(c['mmpose']['aten_ops']), str(c['ours']['aten_ops']),
                c['ours']['ops_digest'], str(c['ours']['python_calls'])]
    runs = rec['timed']['runs']
    for arch, label in (('small', 'S training step, batch 8'),
                        ('base', 'B training step, batch 4')):
        cells = []
        for commit in ('aee9fc6', '0382207'):
            r = sorted(x['time_ratio_ours_over_mmpose'] for x in runs
                       if x['arch'] == arch and x['commit'] == commit)
            med = r[len(r) // 2] if len(r) % 2 else \
                (r[len(r) // 2 - 1] + r[len(r) // 2]) / 2
            cells.append(f'{med:.3f} ({r[0]:.3f}-{r[-1]:.3f})')
        assert rows[label][:2] == cells, label
        assert rows[label][2] == str(len(r))


@pytest.mark.e2e
def test_count_ops_still_prints_the_recorded_step():
    """benchmark.py --count-ops on the current code gives the recorded
    counts of HRFormer-S's training step: a changed step (another operator,
    shape or stride) fails here until the page and its record are
    measured again."""
    import torch

    from e2e_utils import load_tool
    recorded = _across()['counted']['torch']
    if torch.__version__ != recorded:
        pytest.skip(f'the counts were recorded with torch {recorded}, this '
                    f'is {torch.__version__}: operator decompositions differ '
                    'between releases; record them again with this torch')
    bench = load_tool('analysis/benchmark.py')
    out = bench.main(['--arch', 'small', '--mode', 'train', '--batch', '1',
                      '--iters', '1', '--warmup', '1', '--count-ops'])
    rec = _across()['counted']['small']['HEAD']
    for impl in ('mmpose', 'ours'):
        got = out['ops_per_step'][impl]
        for key in ('aten_ops', 'distinct_ops', 'ops_digest'):
            assert got[key] == rec[impl][key], (impl, key)
