"""Model zoo: metafiles/*.yml + model-index.yml, and the tables made from
them (README.md: the summary; docs/model_zoo.md: the full tables).

    python tools/zoo.py                    # add entries for new zoo configs,
                                           # recompute every entry's Metadata
                                           # (params, FLOPs: minutes), then
                                           # rewrite the tables
    python tools/zoo.py configs/cls/*.py   # only these configs (new ones get
                                           # an entry), then the tables
    python tools/zoo.py --readme           # the tables only (seconds)
    python tools/zoo.py --check            # exit 1 if a table differs from
                                           # the metafiles or a zoo config
                                           # has no entry

The metafiles follow OpenMMLab's model-index scheme.  Layout (what
``mim search`` / ``mim download`` read)::

    model-index.yml             Import: the metafiles below
    metafiles/<family>.yml      Collections (Paper, README) + Models

Each model entry: ``Name`` (the config's stem), ``In Collection``, ``Config``,
``Metadata`` (Architecture, Training Data, Input Size 'HxW', Parameters,
FLOPs, ...), ``Results`` (Task, Dataset, Metrics, Source: the published
numbers and where they come from) and ``Weights`` where a published
checkpoint loads into the config.

Hand-written in the metafiles (kept by every update): ``Results``,
``Weights``, ``Published Checkpoint`` and any extra key.  Computed by
:func:`update` (``python tools/zoo.py``): ``Metadata`` from the config and
:func:`hrformer_mm.analysis.complexity.config_complexity` (what
``tools/analysis/complexity.py`` prints); ``Parameters`` is the exact count,
``FLOPs`` the multiply-accumulates in the papers' convention (convs and
linears on unpadded tokens; ``FLOPs (complete)`` adds window padding and the
attention products), both at ``Input Size`` with batch 1; ImageNet
classifiers also get ``FLOPs (traced)``, the HRFormer release's ImageNet
counter (the convention of the HRFormer paper's ImageNet table).  A zoo config
without an entry gets one, with the fields of :data:`NEW_ENTRIES` where
that table knows its model (mmpretrain's metafile for HRNet classifiers).

A checkout's tool (it reads and writes the checkout's configs, metafiles
and docs), not a part of the installed package.
"""
import argparse
import glob
import os
import os.path as osp
import re
import runpy
import sys
from collections import OrderedDict
from typing import Dict, List, Optional

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

import yaml  # noqa: E402

#: the checkout this script belongs to (its metafiles, configs and docs)
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ZOO_GLOB = 'configs/*/*.py'
METAFILE_DIR = 'metafiles'
INDEX = 'model-index.yml'

COLLECTIONS = OrderedDict([
    ('HRFormer', dict(
        Paper=dict(Title='HRFormer: High-Resolution Transformer for Dense '
                   'Prediction', URL='https://arxiv.org/abs/2110.09408'),
        README='README.md')),
    ('HRViT', dict(
        Paper=dict(Title='Multi-Scale High-Resolution Vision Transformer for '
                   'Semantic Segmentation',
                   URL='https://arxiv.org/abs/2111.01236'),
        README='docs/hrvit.md')),
    ('HRNet', dict(
        Paper=dict(Title='Deep High-Resolution Representation Learning for '
                   'Visual Recognition',
                   URL='https://arxiv.org/abs/1908.07919'),
        README='docs/hrnet.md')),
    ('HRPVT', dict(
        Paper=dict(Title='HRPVT: High-Resolution Pyramid Vision Transformer '
                   'for medium and small-scale human pose estimation'),
        README='docs/hrpvt.md')),
])

# Hand-written fields for configs that do not have an entry yet, by
# (collection, default scope, arch): copied in when `update` adds the entry.
def _top1(value, source, **extra):
    return dict(Results=[dict(
        Task='Image Classification', Dataset='ImageNet-1k',
        Metrics={'Top 1 Accuracy': value}, Source=source)], **extra)


NEW_ENTRIES: Dict[tuple, dict] = {
    ('HRFormer', 'mmpretrain', 'tiny'): _top1(
        78.6, 'HRFormer paper (ImageNet-1k val, HRT-T)', **{
            'Published Checkpoint': 'hrt_tiny.pth (HRNet/HRFormer ImageNet '
            'release)'}),
    ('HRFormer', 'mmpretrain', 'small'): _top1(
        81.2, 'HRFormer paper (ImageNet-1k val, HRT-S)', **{
            'Published Checkpoint': 'hrt_small.pth (HRNet/HRFormer ImageNet '
            'release)'}),
    ('HRFormer', 'mmpretrain', 'base'): _top1(
        82.8, 'HRFormer paper (ImageNet-1k val, HRT-B)', **{
            'Published Checkpoint': 'hrt_base.pth (HRNet/HRFormer ImageNet '
            'release)'}),
    ('HRViT', 'mmpretrain', 'b1'): _top1(
        80.5, 'HRViT paper (ImageNet-1k val, HRViT-b1)'),
    ('HRViT', 'mmpretrain', 'b2'): _top1(
        82.3, 'HRViT paper (ImageNet-1k val, HRViT-b2)'),
    ('HRViT', 'mmpretrain', 'b3'): _top1(
        82.8, 'HRViT paper (ImageNet-1k val, HRViT-b3)'),
}
# mmpretrain's HRNet classifiers (its hrnet/metafile.yml,
# hrnet-wXX_3rdparty_8xb32_in1k): read from the installed mmpretrain when
# an HRNet classifier entry is added, see `_mmpretrain_hrnet`.

# Metadata keys `update` writes (any other Metadata key is hand-written)
COMPUTED_KEYS = ('Architecture', 'Training Data', 'Input Size', 'Parameters',
                 'FLOPs', 'FLOPs (complete)', 'FLOPs (traced)',
                 'FLOPs Counted')

DATASETS = {
    'CocoDataset': 'COCO', 'ADE20KDataset': 'ADE20K',
    'CityscapesDataset': 'Cityscapes', 'PascalContextDataset59':
    'PASCAL Context 59', 'COCOStuffDataset': 'COCO-Stuff',
    'WFLWDataset': 'WFLW', 'ImageNet': 'ImageNet-1k',
    'AFLWDataset': 'AFLW', 'COFWDataset': 'COFW', 'Face300WDataset': '300W',
    'LIPDataset': 'LIP',
}


def zoo_configs(root: str = ROOT) -> List[str]:
    """Every zoo config, relative to ``root``: configs/*/*.py except the
    bases and the demo configs (trained on generated data)."""
    out = []
    for path in sorted(glob.glob(osp.join(root, ZOO_GLOB))):
        rel = osp.relpath(path, root).replace(os.sep, '/')
        if rel.startswith('configs/_base_/') or 'demo' in osp.basename(rel):
            continue
        out.append(rel)
    return out


def _short(t: str) -> str:
    return t.split('.')[-1]


def _types(node) -> List[str]:
    if isinstance(node, (list, tuple)):
        return [t for n in node for t in _types(n)]
    if isinstance(node, dict) and 'type' in node:
        return [_short(node['type'])]
    return []


def _load_cfg(path: str):
    from mmengine.config import Config
    import hrformer_mm  # noqa: F401  (registers, fixes the environment)
    return Config.fromfile(path)


def collection_of(cfg) -> str:
    backbone = _short(cfg.model.backbone.type)
    if backbone == 'PyramidVisionTransformerV2' or 'HRPMNeck' in _types(
            cfg.model.get('neck')):
        return 'HRPVT'
    if backbone in COLLECTIONS:
        return backbone
    raise ValueError(f'no collection for backbone {backbone!r}')


def architecture(cfg) -> List[str]:
    m = cfg.model
    arch = [_short(m.type)] if cfg.default_scope in ('mmdet',) else []
    arch += _types(m.backbone) + _types(m.get('neck'))
    for key in ('head', 'decode_head', 'auxiliary_head', 'rpn_head'):
        arch += _types(m.get(key))
    roi = m.get('roi_head')
    if roi:
        arch += [t for k in ('bbox_head', 'mask_head') for t in
                 _types(roi.get(k))]
    seen = []
    for a in arch:
        if a not in seen:
            seen.append(a)
    return seen


def training_data(cfg) -> str:
    t = _short(cfg.train_dataloader.dataset.type)
    return DATASETS.get(t, t)


def _arch_of(cfg) -> str:
    a = cfg.model.backbone.get('arch')
    return a if isinstance(a, str) else ''


def _complexity_module(root: Optional[str] = None):
    """:mod:`hrformer_mm.analysis.complexity`, the counts of
    ``tools/analysis/complexity.py`` (``root`` is not used: the counts are
    the installed package's)."""
    from hrformer_mm.analysis import complexity
    return complexity


def computed_metadata(config: str, root: str = ROOT,
                      flops: bool = True) -> dict:
    """The computed part of an entry's Metadata.  ``flops=False``: build the
    model only (parameters), no forward pass."""
    path = osp.join(root, config)
    cfg = _load_cfg(path)
    cx = _complexity_module(root)
    md = OrderedDict()
    md['Architecture'] = architecture(cfg)
    md['Training Data'] = training_data(cfg)
    h, w = cx.default_shape(cfg)
    md['Input Size'] = f'{int(h)}x{int(w)}'  # H x W (mim wants strings)
    if flops:
        r = _complexity(cx, path, cfg)
        md['Parameters'] = r['params']
        md['FLOPs'] = r['paper']
        md['FLOPs (complete)'] = r['complete']
        if 'traced' in r:
            md['FLOPs (traced)'] = r['traced']
        if r['counted'] != 'whole model':
            md['FLOPs Counted'] = r['counted']
    else:
        md['Parameters'] = count_parameters(path)
    return md


def _complexity(cx, path: str, cfg) -> dict:
    """hrformer_mm.analysis.complexity's count (its input size, its
    forward, count_complexity), with the built model moved to
    PyTorch's meta device: the counters only read shapes, so the numbers
    are the CPU run's (tests/test_analysis/test_complexity.py compares the
    metafiles with CPU runs) at a fraction of the time.  Where a forward
    cannot run on meta tensors, the CPU run itself."""
    import torch
    from hrformer_mm.analysis import count_complexity
    from hrformer_mm.engine.launch import build_model_from_config
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        if cfg.model.backbone.get('compile_cfg') is not None:
            # compiling would only cost time: the blocks compute the eager
            # model's outputs
            eager = osp.join(tmp, osp.basename(path))
            with open(eager, 'w') as f:
                f.write(f'_base_ = [{osp.abspath(path)!r}]\n'
                        'model = dict(backbone=dict(compile_cfg=None))\n')
            path = eager
        try:
            cfg, model = build_model_from_config(path)
            model.eval().to('meta')
            h, w = cx.default_shape(cfg)
            x = torch.zeros(1, 3, h, w, device='meta')
            forward, counted = cx.counted_forward(cfg, model, x)
            with torch.no_grad():
                r = count_complexity(model, forward)
            out = dict(params=r.params, paper=r.paper_macs,
                       complete=r.complete_macs, counted=counted)
            if cfg.default_scope == 'mmpretrain':
                # a torch.jit trace cannot run on meta tensors: the CPU's
                r = cx.config_complexity(path)
                out['traced'] = int(round(r['gflops_traced'] * 1e9))
            return out
        except Exception:  # noqa: BLE001 (data-dependent op: count on CPU)
            r = cx.config_complexity(path)
            out = dict(params=int(round(r['params_m'] * 1e6)),
                       paper=int(round(r['gflops_paper'] * 1e9)),
                       complete=int(round(r['gflops_complete'] * 1e9)),
                       counted=r['counted'])
            if 'gflops_traced' in r:
                out['traced'] = int(round(r['gflops_traced'] * 1e9))
            return out


def count_parameters(path: str) -> int:
    from hrformer_mm.engine.launch import build_model_from_config
    _, model = build_model_from_config(path)
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- files

def _ordered_dump(data) -> str:
    class Dumper(yaml.SafeDumper):
        pass

    def rep(dumper, d):
        return dumper.represent_mapping('tag:yaml.org,2002:map', d.items())

    Dumper.add_representer(OrderedDict, rep)
    Dumper.add_representer(dict, rep)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, width=79,
                     allow_unicode=True, default_flow_style=False)


def metafile_path(collection: str, root: str = ROOT) -> str:
    return osp.join(root, METAFILE_DIR, collection.lower() + '.yml')


def load_metafiles(root: str = ROOT) -> Dict[str, dict]:
    """{collection: metafile dict} for every metafile model-index.yml
    imports."""
    with open(osp.join(root, INDEX)) as f:
        index = yaml.safe_load(f)
    out = OrderedDict()
    for rel in index['Import']:
        with open(osp.join(root, rel)) as f:
            data = yaml.safe_load(f)
        out[data['Collections'][0]['Name']] = data
    return out


def all_models(root: str = ROOT) -> List[dict]:
    return [m for data in load_metafiles(root).values()
            for m in data.get('Models', [])]


def _entry_order(entry: dict) -> OrderedDict:
    keys = ['Name', 'In Collection', 'Config', 'Metadata', 'Results',
            'Weights', 'Published Checkpoint']
    out = OrderedDict((k, entry[k]) for k in keys if k in entry)
    out.update((k, v) for k, v in entry.items() if k not in out)
    return out


def write_metafiles(metafiles: Dict[str, dict], root: str = ROOT) -> None:
    os.makedirs(osp.join(root, METAFILE_DIR), exist_ok=True)
    imports = []
    for coll, data in metafiles.items():
        path = metafile_path(coll, root)
        order = {c: i for i, c in enumerate(zoo_configs(root))}
        models = sorted(data.get('Models', []),
                        key=lambda m: order.get(m['Config'], 1e9))
        out = OrderedDict(Collections=data['Collections'],
                          Models=[_entry_order(m) for m in models])
        text = ('# Generated and checked by tools/zoo.py: edit Results / '
                'Weights by hand, run the tool for the rest.\n'
                + _ordered_dump(out))
        with open(path, 'w') as f:
            f.write(text)
        imports.append(osp.relpath(path, root).replace(os.sep, '/'))
    with open(osp.join(root, INDEX), 'w') as f:
        f.write(_ordered_dump(OrderedDict(Import=imports)))


def _mmpretrain_hrnet(arch: str) -> Optional[tuple]:
    """(results, weights) of mmpretrain's hrnet-<arch>_3rdparty_8xb32_in1k
    from its installed metafile."""
    try:
        import mmpretrain
    except ImportError:
        return None
    base = osp.dirname(mmpretrain.__file__)
    for path in (osp.join(base, '.mim', 'configs', 'hrnet', 'metafile.yml'),
                 osp.join(base, 'configs', 'hrnet', 'metafile.yml')):
        if osp.exists(path):
            break
    else:
        return None
    with open(path) as f:
        data = yaml.safe_load(f)
    name = f'hrnet-{arch}_3rdparty_8xb32_in1k'
    for m in data['Models']:
        if m['Name'] == name:
            results = []
            for r in m['Results']:
                results.append(OrderedDict(
                    Task=r['Task'], Dataset=r['Dataset'],
                    Metrics=r['Metrics'],
                    Source=f'mmpretrain metafile ({name})'))
            return results, m.get('Weights')
    return None


def new_entry(config: str, root: str = ROOT) -> dict:
    cfg = _load_cfg(osp.join(root, config))
    coll = collection_of(cfg)
    entry = OrderedDict(Name=osp.splitext(osp.basename(config))[0])
    entry['In Collection'] = coll
    entry['Config'] = config
    key = (coll, cfg.default_scope, _arch_of(cfg))
    if key in NEW_ENTRIES:
        for k, v in NEW_ENTRIES[key].items():
            entry[k] = [dict(r) for r in v] if k == 'Results' else v
    elif coll == 'HRNet' and cfg.default_scope == 'mmpretrain':
        found = _mmpretrain_hrnet(_arch_of(cfg))
        if found:
            entry['Results'], weights = found
            if weights:
                entry['Weights'] = weights
    return entry


def update(root: str = ROOT, configs: Optional[List[str]] = None,
           flops: bool = True, log=print) -> List[str]:
    """Add missing entries and recompute the Metadata of ``configs`` (all
    zoo configs by default); write the metafiles and model-index.yml.
    Returns the names of the entries added."""
    if osp.exists(osp.join(root, INDEX)):
        metafiles = load_metafiles(root)
    else:
        metafiles = OrderedDict()
    for coll, spec in COLLECTIONS.items():
        metafiles.setdefault(coll, OrderedDict(
            Collections=[OrderedDict(Name=coll, **spec)], Models=[]))
    by_config = {m['Config']: m for d in metafiles.values()
                 for m in d['Models']}
    added = []
    for config in configs or zoo_configs(root):
        entry = by_config.get(config)
        if entry is None:
            entry = new_entry(config, root)
            metafiles[entry['In Collection']]['Models'].append(entry)
            added.append(entry['Name'])
        log(f'{config}: computing')
        md = computed_metadata(config, root, flops=flops)
        md.update((k, v) for k, v in (entry.get('Metadata') or {}).items()
                  if k not in COMPUTED_KEYS)
        entry['Metadata'] = md
    write_metafiles(OrderedDict((k, v) for k, v in metafiles.items()
                                if v['Models']), root)
    return added


# ------------------------------------------------- README and docs tables

MARK = re.compile(r'(<!-- zoo:([\w-]+):start -->\n)(.*?)(<!-- zoo:\2:end -->)',
                  re.S)

# The files whose marked tables are generated: the README holds the
# summary (one row per collection), docs/model_zoo.md the full tables.
ZOO_DOCS = ('README.md', 'docs/model_zoo.md')
SUMMARY = 'summary'
# summary row -> where that family's full table is (from the README)
SUMMARY_LINKS = OrderedDict([
    ('HRFormer', 'docs/model_zoo.md#hrformer'),
    ('HRViT', 'docs/model_zoo.md#hrvit'),
    ('HRNet', 'docs/model_zoo.md#hrnet-and-the-hrnetv2-representations'),
    ('HRPVT', 'docs/model_zoo.md#hrpvt'),
])
TASKS = OrderedDict([('pose', 'pose'), ('seg', 'segmentation'),
                     ('det', 'detection'), ('cls', 'classification')])

# table name -> the entries it lists (a regular expression on Config)
TABLES = OrderedDict([
    ('hrformer-pose', r'configs/pose/hrformer_'),
    ('hrformer-ocr', r'configs/seg/hrformer_.*_ocr_'),
    ('hrformer-upernet', r'configs/seg/hrformer_.*_upernet_'),
    ('hrvit', r'configs/(pose|seg)/hrvit_'),
    ('hrnet', r'configs/(pose|seg|det)/(hrnet|hrformer_b_v2_)'),
    ('hrpvt', r'configs/pose/(hrpvt_|hrnet_w48_coco\.py)'),
    ('cls', r'configs/cls/'),
])
HOSTS = (('/mmpose/', 'mmpose'), ('/mmsegmentation/', 'mmseg'),
         ('/mmdetection/', 'mmdet'), ('/mmclassification/', 'mmpretrain'),
         ('/mmpretrain/', 'mmpretrain'))


def _published(m: dict) -> str:
    parts = []
    for r in m.get('Results') or []:
        metrics = ', '.join(f'{k} {v}' for k, v in r['Metrics'].items())
        if r['Dataset'] != m['Metadata'].get('Training Data'):
            metrics = f"{r['Dataset']} {metrics}"
        src = r.get('Source', '').split(' (')[0]
        parts.append(metrics + (f' ({src})' if src else ''))
    return '; '.join(parts) if parts else 'none'


def _weights(m: dict) -> str:
    url = m.get('Weights')
    if url:
        host = next((h for k, h in HOSTS if k in url), 'download')
        return f'[{host}]({url})'
    ck = m.get('Published Checkpoint')
    return f"reference: {ck.split(',')[0]}" if ck else '-'


def render_table(models: List[dict]) -> str:
    traced = any('FLOPs (traced)' in m['Metadata'] for m in models)
    conventions = 'paper / complete' + (' / traced' if traced else '')
    lines = [f'| config | input | params | GFLOPs {conventions} | '
             'published | published size | weights |',
             '|---|---|---|---|---|---|---|']
    for m in models:
        md = m['Metadata']
        g, gc = md['FLOPs'] / 1e9, md['FLOPs (complete)'] / 1e9
        gf = f'{g:.2f}' if abs(g - gc) < 5e-3 and not traced \
            else f'{g:.2f} / {gc:.2f}'
        if traced:  # the HRFormer release's ImageNet counter
            gf += f" / {md['FLOPs (traced)'] / 1e9:.2f}" \
                if 'FLOPs (traced)' in md else ' / -'
        cfg = m['Config'][len('configs/'):]
        lines.append(
            f"| `{cfg}` | {md['Input Size']} | "
            f"{md['Parameters'] / 1e6:.2f}M | {gf} | {_published(m)} | "
            f"{md.get('Published Size', '-')} | {_weights(m)} |")
    return '\n'.join(lines) + '\n'


def table_models(name: str, models: List[dict]) -> List[dict]:
    if name not in TABLES:
        raise KeyError(f'unknown zoo table {name!r}')
    return [m for m in models if re.match(TABLES[name], m['Config'])]


def table_order(m: dict) -> tuple:
    """Rows: by task folder, dataset, detector / backbone / head, then
    size."""
    md = m['Metadata']
    arch = md['Architecture']
    # detectors by detector, classifiers by backbone, the rest by head
    kind = arch[0] if m['Config'].split('/')[1] in ('det', 'cls') \
        else arch[-1]
    return (m['Config'].split('/')[1], md['Training Data'], kind,
            md['Parameters'], md['FLOPs'], m['Name'])


def render_summary(models: List[dict]) -> str:
    """One row per collection: configs, tasks with their training data,
    the parameter range and how many entries a published checkpoint
    loads into."""
    lines = ['| family | zoo configs | tasks (training data) | params | '
             'published checkpoints that load | full table |',
             '|---|---|---|---|---|---|']
    for coll in COLLECTIONS:
        mine = [m for m in models if m['In Collection'] == coll]
        if not mine:
            continue
        tasks = OrderedDict()
        for m in mine:
            task = TASKS.get(m['Config'].split('/')[1],
                             m['Config'].split('/')[1])
            data = m['Metadata']['Training Data']
            tasks.setdefault(task, [])
            if data not in tasks[task]:
                tasks[task].append(data)
        order = list(TASKS.values())
        tasks_s = ', '.join(
            f"{t} ({', '.join(d)})" for t, d in sorted(
                tasks.items(), key=lambda kv: order.index(kv[0])
                if kv[0] in order else len(order)))
        params = [m['Metadata']['Parameters'] / 1e6 for m in mine]
        hosts = sum(1 for m in mine if m.get('Weights'))
        ref = sum(1 for m in mine if not m.get('Weights')
                  and m.get('Published Checkpoint'))
        ck = [f'{hosts} OpenMMLab'] if hosts else []
        ck += [f'{ref} reference'] if ref else []
        link = SUMMARY_LINKS.get(coll, 'docs/model_zoo.md')
        lines.append(
            f'| {coll} | {len(mine)} | {tasks_s} | '
            f'{min(params):.2f}M - {max(params):.2f}M | '
            f"{' + '.join(ck) if ck else 'none'} | [{coll}]({link}) |")
    return '\n'.join(lines) + '\n'


def render_readme(text: str, root: str = ROOT) -> str:
    """``text`` (README.md, docs/model_zoo.md or any other) with every
    marked table rewritten from the metafiles: ``summary`` by
    :func:`render_summary`, the others (:data:`TABLES`) by
    :func:`render_table`."""
    models = sorted(all_models(root), key=table_order)

    def sub(match):
        if match.group(2) == SUMMARY:
            body = render_summary(models)
        else:
            body = render_table(table_models(match.group(2), models))
        return match.group(1) + body + match.group(4)

    return MARK.sub(sub, text)


def stale_docs(root: str = ROOT) -> Dict[str, str]:
    """{path in :data:`ZOO_DOCS`: its text with the tables regenerated},
    for the files whose tables differ from the metafiles."""
    out = OrderedDict()
    for rel in ZOO_DOCS:
        path = osp.join(root, rel)
        if not osp.exists(path):
            continue
        with open(path, encoding='utf-8') as f:
            text = f.read()
        new = render_readme(text, root)
        if new != text:
            out[rel] = new
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('configs', nargs='*', help='configs/... paths (default: '
                   'every zoo config)')
    p.add_argument('--readme', action='store_true',
                   help='only rewrite the tables (README.md, '
                   'docs/model_zoo.md)')
    p.add_argument('--check', action='store_true')
    args = p.parse_args(argv)
    if args.check:
        listed = {m['Config'] for m in all_models(ROOT)}
        missing = [c for c in zoo_configs(ROOT) if c not in listed]
        stale = stale_docs(ROOT)
        for c in missing:
            print(f'no metafile entry: {c}')
        for rel in stale:
            print(f'{rel}: tables differ from the metafiles: '
                  'python tools/zoo.py --readme')
        return 1 if missing or stale else 0
    if not args.readme:
        zoo_set = set(zoo_configs(ROOT))
        configs = [osp.relpath(osp.abspath(c), ROOT).replace('\\', '/')
                   for c in args.configs]
        for c in configs:
            if c not in zoo_set:
                print(f'skipped (not a zoo config: {ZOO_GLOB}, bases '
                      f'and demos aside): {c}')
        configs = [c for c in configs if c in zoo_set] or None
        if args.configs and not configs:
            return 1
        added = update(ROOT, configs)
        print('added:', ', '.join(added) if added else 'none')
    for rel, new in stale_docs(ROOT).items():
        with open(osp.join(ROOT, rel), 'w', encoding='utf-8') as f:
            f.write(new)
        print(f'{rel}: tables rewritten')
    return 0


if __name__ == '__main__':
    sys.exit(main())
