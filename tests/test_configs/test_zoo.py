"""The model zoo: metafiles / model-index.yml cover every zoo config, their
numbers are the models', and the tables made from them (README.md's summary,
docs/model_zoo.md's full tables) are the metafiles'.

FLOPs are held to the models where the complexity tests compute them anyway
(tests/test_analysis/test_complexity*.py compare their counts with the
metafiles too); parameters are checked here for every entry (building a
model is cheap, its forward pass at full size is not)."""
import os.path as osp
import re

import pytest
import yaml

from e2e_utils import ROOT, load_tool

zoo = load_tool('zoo.py')

MODELS = zoo.all_models(ROOT)
BY_CONFIG = {m['Config']: m for m in MODELS}


def test_every_zoo_config_has_one_entry():
    configs = zoo.zoo_configs(ROOT)
    # the glob covers every family folder (cls included), bases and demos
    # aside
    assert {c.split('/')[1] for c in configs} >= {'pose', 'seg', 'det'}
    assert not any('demo' in c or '_base_' in c for c in configs)
    missing = [c for c in configs if c not in BY_CONFIG]
    assert not missing, f'no metafile entry (python tools/zoo.py): {missing}'
    assert len(BY_CONFIG) == len(MODELS)
    names = [m['Name'] for m in MODELS]
    assert len(set(names)) == len(names)
    for m in MODELS:
        assert osp.exists(osp.join(ROOT, m['Config'])), m['Config']


def test_metafiles_follow_the_openmmlab_scheme():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert sorted(index['Import']) == sorted(
        f'metafiles/{c.lower()}.yml' for c in zoo.load_metafiles(ROOT))
    for coll, data in zoo.load_metafiles(ROOT).items():
        (c, ) = data['Collections']
        assert c['Name'] == coll and c['Paper']['Title'] and c['README']
        assert osp.exists(osp.join(ROOT, c['README']))
    for m in MODELS:
        md = m['Metadata']
        for key in ('Architecture', 'Training Data', 'Input Size',
                    'Parameters', 'FLOPs'):
            assert md.get(key), (m['Name'], key)
        assert m['In Collection'] in zoo.COLLECTIONS
        for r in m.get('Results') or []:
            assert set(r) >= {'Task', 'Dataset', 'Metrics', 'Source'}, m
        if 'Weights' in m:
            assert m['Weights'].startswith('https://download.openmmlab.com/')
            assert m['Weights'].endswith('.pth')
    # mim reads the index with the modelindex package
    from modelindex.load_model_index import load
    mi = load(osp.join(ROOT, 'model-index.yml'))
    assert len(mi.models) == len(MODELS)


def test_published_numbers_and_weights_where_they_exist():
    def metric(config, source_start, key):
        for r in BY_CONFIG[config]['Results']:
            if r['Source'].startswith(source_start) and key in r['Metrics']:
                return r['Metrics'][key]
    assert metric('configs/pose/hrformer_b_coco.py', 'mmpose', 'AP') == 75.4
    assert metric('configs/pose/hrformer_b_coco.py', 'HRFormer', 'AP') == 75.6
    assert metric('configs/seg/hrformer_b_ocr_w13_ade20k.py', 'HRFormer',
                  'mIoU') == 48.7
    assert metric('configs/det/hrnetv2p_w32_mask_rcnn_coco.py', 'mmdet',
                  'mask AP') == 37.1
    if 'configs/cls/hrformer_t_imagenet.py' in BY_CONFIG:
        for name, top1 in [('hrformer_t', 78.6), ('hrformer_s', 81.2),
                           ('hrformer_b', 82.8), ('hrvit_b1', 80.5),
                           ('hrvit_b2', 82.3), ('hrvit_b3', 82.8),
                           ('hrnet_w18', 76.75)]:
            assert metric(f'configs/cls/{name}_imagenet.py', '',
                          'Top 1 Accuracy') == top1
    weights = {c: m.get('Weights') for c, m in BY_CONFIG.items()}
    assert weights['configs/pose/hrformer_s_coco.py'].endswith(
        'hrformer_small_coco_256x192-5310d898_20220316.pth')
    assert weights['configs/seg/hrnetv2_w48_ocr_ade20k.py'].endswith(
        'ocrnet_hr48_512x512_160k_ade20k_20200615_184705-a073726d.pth')
    assert not weights['configs/pose/hrformer_t_coco.py']  # none published
    assert BY_CONFIG['configs/seg/hrformer_s_ocr_cityscapes.py'][
        'Published Checkpoint'].startswith('hrt_small_ocr_v2')


@pytest.mark.parametrize('config', sorted(BY_CONFIG))
@pytest.mark.slow
def test_metafile_parameters_are_the_models(config):
    md = BY_CONFIG[config]['Metadata']
    assert zoo.count_parameters(osp.join(ROOT, config)) == md['Parameters']
    assert md['FLOPs (complete)'] >= md['FLOPs'] > 0


def _doc(rel):
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        return f.read()


def _tables(text):
    return {m.group(2): m.group(3) for m in zoo.MARK.finditer(text)}


def test_zoo_tables_are_the_metafiles():
    """README.md's summary and docs/model_zoo.md's full tables are what
    `python tools/zoo.py --readme` writes from the metafiles."""
    assert zoo.ZOO_DOCS == ('README.md', 'docs/model_zoo.md')
    for rel in zoo.ZOO_DOCS:
        text = _doc(rel)
        assert zoo.render_readme(text, ROOT) == text, \
            f'{rel}: zoo tables out of date: python tools/zoo.py --readme'
        for name in _tables(text):
            assert name in zoo.TABLES or name == zoo.SUMMARY, (rel, name)
    assert not zoo.stale_docs(ROOT)
    # the full tables live in docs/model_zoo.md, every entry in one
    full = _tables(_doc('docs/model_zoo.md'))
    assert set(full) == set(zoo.TABLES)
    listed = ''.join(full.values())
    for m in MODELS:
        assert f"`{m['Config'][len('configs/'):]}`" in listed, m['Config']


def test_readme_has_the_summary_only():
    tables = _tables(_doc('README.md'))
    assert list(tables) == [zoo.SUMMARY]
    rows = [r for r in tables[zoo.SUMMARY].splitlines()[2:] if r]
    # one row per collection, the configs counted add up to the zoo
    by_coll = {}
    for m in MODELS:
        by_coll[m['In Collection']] = by_coll.get(m['In Collection'], 0) + 1
    assert [r.split(' | ')[0].strip('| ') for r in rows] == [
        c for c in zoo.COLLECTIONS if c in by_coll]
    assert [int(r.split(' | ')[1]) for r in rows] == [
        by_coll[c] for c in zoo.COLLECTIONS if c in by_coll]
    # the published checkpoints counted are the entries with weights
    hosts = sum(1 for m in MODELS if m.get('Weights'))
    counted = sum(int(n) for r in rows
                  for n in re.findall(r'(\d+) OpenMMLab', r))
    assert counted == hosts
    # each row links to its family's section of docs/model_zoo.md (the
    # anchors are checked with every other link, tests/test_tools/
    # test_docs_links.py)
    for coll, link in zoo.SUMMARY_LINKS.items():
        assert f'[{coll}]({link})' in tables[zoo.SUMMARY], link


def test_readme_check_fails_on_a_stale_table(tmp_path):
    text = ('x\n<!-- zoo:hrpvt:start -->\n| stale |\n'
            '<!-- zoo:hrpvt:end -->\n')
    new = zoo.render_readme(text, ROOT)
    assert new != text and '`pose/hrpvt_b2_simcc_coco.py`' in new
    assert zoo.render_readme(new, ROOT) == new
    text = ('x\n<!-- zoo:summary:start -->\n| HRPVT | 99 |\n'
            '<!-- zoo:summary:end -->\n')
    new = zoo.render_readme(text, ROOT)
    assert new != text and '| HRPVT | 3 |' not in text
    count = sum(m['In Collection'] == 'HRPVT' for m in MODELS)
    assert f'| HRPVT | {count} |' in new


def test_stale_docs_names_the_stale_file(tmp_path):
    (tmp_path / 'docs').mkdir()
    fresh = zoo.render_readme(_doc('README.md'), ROOT)
    (tmp_path / 'README.md').write_text(fresh, encoding='utf-8')
    (tmp_path / 'docs' / 'model_zoo.md').write_text(
        '<!-- zoo:cls:start -->\n<!-- zoo:cls:end -->\n', encoding='utf-8')
    # the metafiles are the repository's; the files are tmp_path's
    import shutil
    shutil.copy(osp.join(ROOT, 'model-index.yml'), tmp_path)
    shutil.copytree(osp.join(ROOT, 'metafiles'), tmp_path / 'metafiles')
    stale = zoo.stale_docs(str(tmp_path))
    assert list(stale) == ['docs/model_zoo.md']
    assert '`cls/hrformer_t_imagenet.py`' in stale['docs/model_zoo.md']


@pytest.mark.parametrize('config', ['configs/pose/hrvit_b1_coco.py',
                                    'configs/pose/hrpvt_b2_heatmap_coco.py'])
def test_meta_device_count_is_the_cpu_count(config):
    """The generator counts on the meta device (shapes only); on the CPU
    tools/analysis/complexity.py gives the same numbers, which are the
    metafile's (two small models with stripe attention / PVT here; the
    HRFormer and HRNet pose entries in
    tests/test_analysis/test_complexity*.py)."""
    cx = zoo._complexity_module(ROOT)
    r = cx.config_complexity(osp.join(ROOT, config))
    meta = zoo.computed_metadata(config, ROOT)
    for md in (meta, BY_CONFIG[config]['Metadata']):
        assert md['Parameters'] == round(r['params_m'] * 1e6)
        assert md['FLOPs'] == round(r['gflops_paper'] * 1e9)
        assert md['FLOPs (complete)'] == round(r['gflops_complete'] * 1e9)


def test_help_and_check_hint_name_the_real_paths(tmp_path, monkeypatch,
                                                 capsys):
    with pytest.raises(SystemExit):
        zoo.main(['--help'])
    assert 'docs/model_zoo.md' in capsys.readouterr().out
    # a tree whose docs are stale and which has no zoo config
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'README.md').write_text(
        '<!-- zoo:summary:start -->\n<!-- zoo:summary:end -->\n',
        encoding='utf-8')
    (tmp_path / 'docs' / 'model_zoo.md').write_text('', encoding='utf-8')
    import shutil
    shutil.copy(osp.join(ROOT, 'model-index.yml'), tmp_path)
    shutil.copytree(osp.join(ROOT, 'metafiles'), tmp_path / 'metafiles')
    monkeypatch.setattr(zoo, 'ROOT', str(tmp_path))
    assert zoo.main(['--check']) == 1
    out = capsys.readouterr().out
    assert 'README.md: tables differ' in out
    assert 'python tools/zoo.py --readme' in out


def test_training_data_names_lip():
    assert zoo.DATASETS['LIPDataset'] == 'LIP'
    lip = BY_CONFIG['configs/seg/hrnetv2_w48_fcn_lip.py']
    assert lip['Metadata']['Training Data'] == 'LIP'
