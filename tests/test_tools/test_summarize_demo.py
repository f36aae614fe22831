"""tools/analysis/summarize_demo.py: the numbers every demo family ends
with, read from the metrics.json files tools/test.py writes."""
import json
import os
import os.path as osp
import re

import pytest

from e2e_utils import ROOT, load_tool

sd = load_tool('analysis/summarize_demo.py')

#: a metrics.json of each kind, as the hosts' metrics name their values
METRICS = {
    sd.coco_ap: {'coco/AP': 0.5114, 'coco/AP .5': 0.8993, 'coco/AR': 0.57},
    sd.coco_ap_by_size: {'coco/AP': 0.25, 'coco/AP (M)': 0.125,
                         'coco/AP (L)': 0.375, 'coco/AR': 0.3},
    sd.miou: {'mIoU': 65.97, 'aAcc': 80.12},
    sd.nme: {'NME': 0.04321},
    sd.box_mask_ap: {'coco/bbox_mAP': 0.4, 'coco/bbox_mAP_50': 0.7,
                     'coco/segm_mAP': 0.35, 'coco/segm_mAP_50': 0.65},
    sd.top1: {'accuracy/top1': 42.0},
}
SHOWN = {sd.coco_ap: ['0.511', '0.899', '0.570'],
         sd.coco_ap_by_size: ['0.250', '0.125', '0.375', '0.300'],
         sd.miou: ['0.660', '0.801'], sd.nme: ['0.0432'],
         sd.box_mask_ap: ['0.400', '0.700', '0.350', '0.650'],
         sd.top1: ['0.420']}


def write(out, run, metrics):
    path = osp.join(out, run, 'metrics.json')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(metrics, f)


def test_every_family_of_demo_sh_is_summarised():
    with open(osp.join(ROOT, 'tools', 'demo.sh')) as f:
        text = f.read()
    families = re.search(r'^  (hrformer\|[a-z|]+)\) ;;$', text, re.M)
    assert set(families.group(1).split('|')) == set(sd.FAMILIES)
    # each family's run folders are written by demo.sh (other_family NAME
    # writes NAME_test and NAME_untrained)
    for runs in sd.FAMILIES.values():
        for _, run, _, baseline in runs:
            for folder in filter(None, (run, baseline)):
                stem = re.sub(r'_(test|untrained)$', '', folder)
                written = (f'$OUT/{folder}' in text
                           or f'{stem} "$@"' in text
                           or 'hrpvt_$head' in text and
                           stem in ('hrpvt_simcc', 'hrpvt_heatmap')
                           or 'cls_pose_${init}_test' in text and
                           stem.startswith('cls_pose_'))
                assert written, folder


@pytest.mark.parametrize('family', sorted(sd.FAMILIES))
def test_each_run_and_its_untrained_baseline(tmp_path, family):
    out = str(tmp_path)
    for _, run, fmt, baseline in sd.FAMILIES[family]:
        write(out, run, METRICS[fmt])
    lines = sd.summary(out, family).splitlines()
    # without the baselines: one line per run, its values formatted
    runs = sd.FAMILIES[family]
    for (label, _, fmt, _), line in zip(runs, lines):
        assert line.startswith(label)
        for value in SHOWN[fmt]:
            assert value in line, (line, value)
    assert not any('untrained' in line for line in lines)
    # with them: the baseline follows its run
    for _, _, fmt, baseline in runs:
        if baseline:
            write(out, baseline, METRICS[fmt])
    lines = sd.summary(out, family).splitlines()
    with_baseline = sum(1 for r in runs if r[3])
    assert sum('untrained:' in line for line in lines) == with_baseline
    for i, line in enumerate(lines):
        if 'untrained:' in line:
            assert not lines[i - 1].strip().startswith('untrained')


def test_a_missing_run_names_its_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='hrvit_seg_test'):
        sd.summary(str(tmp_path), 'hrvit')


def test_classification_page_quotes_what_the_tool_prints(tmp_path):
    """docs/classification.md's sample lines are this tool's output for
    the metrics its numbers come from."""
    with open(osp.join(ROOT, 'docs', 'classification.md')) as f:
        page = f.read()
    block = page.split('Demo finished in', 1)[1].split('```', 1)[0]
    quoted = block.split('\n', 1)[1].rstrip('\n')
    nums = [float(x) for x in re.findall(r'\d+\.\d{3}', quoted)]
    top1, top1_0, ap1, ap50_1, ar1, ap2, ap50_2, ar2 = nums
    out = str(tmp_path)
    write(out, 'cls_test', {'accuracy/top1': top1 * 100})
    write(out, 'cls_untrained', {'accuracy/top1': top1_0 * 100})
    write(out, 'cls_pose_pretrained_test',
          {'coco/AP': ap1, 'coco/AP .5': ap50_1, 'coco/AR': ar1})
    write(out, 'cls_pose_scratch_test',
          {'coco/AP': ap2, 'coco/AP .5': ap50_2, 'coco/AR': ar2})
    assert sd.summary(out, 'cls') == quoted
