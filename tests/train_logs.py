"""tools/train.py in a subprocess and the scalars it logs, for the
end-to-end tests."""
import json

from e2e_utils import PYTHON, run


def scalar_records(work_dir):
    """Every record of the one run in ``work_dir`` (its
    ``<timestamp>/vis_data/scalars.json``), in order."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    assert len(logs) == 1, logs
    return [json.loads(line) for line in logs[0].read_text().splitlines()]


def train_and_read_log(config, work_dir, **run_kwargs):
    """``tools/train.py CONFIG --work-dir WORK_DIR``; the records it
    logged."""
    run([PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir)],
        **run_kwargs)
    return scalar_records(work_dir)
