"""What a preemption costs: the time from SIGTERM to the process exit of a
``tools/train.py`` run, split into finishing the iteration, writing the
preemption checkpoint and the exit after it, and the checkpoint's size.

:func:`measure` trains a config on the built-in synthetic COCO keypoints
(``hrformer_mm.datasets.generate_coco_keypoints``) in one process, waits
for ``iters`` logged iterations, sends SIGTERM half an iteration later
(a signal lands anywhere in an iteration) and timestamps, as they arrive,
the log lines that the resumable loop writes (``hrformer_mm/engine/
cluster.py``):

* ``finish_s``: SIGTERM to ``stopping at iteration N`` (the rest of the
  iteration and its hooks, plus the ranks' agreement);
* ``write_s``: from there to ``preempted: resume with --resume``
  (gathering the RNG state, ``runner.save_checkpoint``, ``last_checkpoint``);
* ``teardown_s``: from there to the exit of the process, itself split
  into ``unwind_s`` (the ``TrainingPreempted`` exception leaving
  ``runner.train()``), ``threads_s`` (the interpreter waiting for
  non-daemon threads), ``atexit_s`` (its exit handlers) and ``finalize_s``
  (what follows them until the process is gone); ``all_exited_s``:
  SIGTERM to the exit of the last process holding the run's output (its
  dataloader workers too).
"""
import os
import os.path as osp
import signal
import statistics
import subprocess
import sys
import threading
import time

#: the package's directory and the configs / tools it ships in ``.mim``
#: (copies in a wheel, links into the source tree in an editable install)
PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN_SCRIPT = osp.join(PACKAGE_DIR, '.mim', 'tools', 'train.py')

# Runs tools/train.py as ``python tools/train.py ...`` would, and prints
# when main() is left and when the atexit handlers start and end (the
# first-registered atexit handler runs last).
_WRAPPER = r'''
import atexit, runpy, sys
def _mark(what):
    sys.stdout.write(f'@@preemption_cost {what}\n')
    sys.stdout.flush()
atexit.register(_mark, 'atexit_end')
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name='__main__')
finally:
    _mark('main_left')
    atexit.register(_mark, 'atexit_start')
'''

MARKS = {
    'received': 'received: finishing this iteration',
    'stopping': 'stopping at iteration',
    'saved': 'preempted: resume with --resume',
}


def write_config(work_dir: str, config: str, data_root: str,
                 batch_size: int = 2, num_workers=None) -> str:
    """A config that trains ``config`` on ``data_root`` (the synthetic
    COCO layout) without pretrained weights, logging every iteration and
    saving no checkpoint of its own."""
    loader = f'batch_size={batch_size}'
    if num_workers is not None:
        loader += f', num_workers={num_workers}'
        if not num_workers:
            loader += ', persistent_workers=False'
    path = osp.join(work_dir, 'preemption_cost.py')
    root = data_root.rstrip('/') + '/'
    with open(path, 'w') as f:
        f.write(f"""
_base_ = ['{osp.abspath(config)}']
data_root = '{root}'
model = dict(backbone=dict(init_cfg=None))
train_dataloader = dict({loader}, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(
    data_root=data_root, bbox_file=data_root + 'person_detection_results/'
    'COCO_val2017_detections_AP_H_56_person.json'))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root +
                     'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1000, save_best=None))
""")
    return path


def _reader(proc, lines, eof):
    for line in proc.stdout:
        lines.append((time.time(), line))
    eof.append(time.time())


def _first(lines, text, after=0.0):
    return next((t for t, line in lines if text in line and t >= after),
                None)


def _iteration_times(lines):
    return [t for t, line in lines
            if 'Epoch(train)' in line or 'Iter(train)' in line]


def measure(config: str, work_dir: str, iters: int = 2,
            batch_size: int = 2, num_workers=None, num_train: int = 16,
            timeout: float = 1800, python: str = sys.executable) -> dict:
    """Train ``config`` in ``work_dir`` (one CPU process), SIGTERM it
    after ``iters`` iterations, and return the timings (seconds) and the
    preemption checkpoint's size (bytes)."""
    from hrformer_mm.datasets import generate_coco_keypoints
    # the training runs in work_dir: every path handed to it is absolute
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root = osp.join(work_dir, 'coco')
    generate_coco_keypoints(data_root, num_train=num_train, num_val=2,
                            seed=0)
    cfg = write_config(work_dir, config, data_root, batch_size, num_workers)
    env = dict(os.environ, PYTHONUNBUFFERED='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join(
                   p for p in (osp.dirname(PACKAGE_DIR),
                               os.environ.get('PYTHONPATH')) if p))
    cmd = [python, '-c', _WRAPPER, TRAIN_SCRIPT, cfg, '--work-dir',
           osp.join(work_dir, 'work')]
    proc = subprocess.Popen(cmd, cwd=work_dir, env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines, eof = [], []
    reader = threading.Thread(target=_reader, args=(proc, lines, eof),
                              daemon=True)
    reader.start()
    deadline = time.time() + timeout
    try:
        while len(_iteration_times(lines)) < iters:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('training ended or timed out before '
                                   f'{iters} iterations:\n' + ''.join(
                                       line for _, line in lines[-40:]))
            time.sleep(0.05)
        logged = _iteration_times(lines)
        gaps = [b - a for a, b in zip(logged, logged[1:])]
        # the first logged iteration includes the start-up: a guess for it
        iteration_s = statistics.median(gaps) if gaps else None
        time.sleep(0.5 * (iteration_s or 0))
        t_signal = time.time()
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=max(1.0, deadline - time.time()))
        t_exit = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
    # the output pipe closes when its last holder is gone (the dataloader
    # workers included)
    reader.join(timeout=60)
    t_eof = eof[0] if eof else None
    marks = {k: _first(lines, text, t_signal) for k, text in MARKS.items()}
    for what in ('main_left', 'atexit_start', 'atexit_end'):
        marks[what] = _first(lines, f'@@preemption_cost {what}\n', t_signal)
    missing = [k for k, v in marks.items() if v is None]
    if missing or returncode != 75:
        raise RuntimeError(f'exit status {returncode}, no {missing} in the '
                           'log:\n' + ''.join(line for _, line in lines[-60:]))
    work = osp.join(work_dir, 'work')
    ckpt = open(osp.join(work, 'last_checkpoint')).read().strip()
    return dict(
        config=config, batch_size=batch_size, iteration_s=iteration_s,
        signal_to_exit_s=t_exit - t_signal,
        finish_s=marks['stopping'] - t_signal,
        write_s=marks['saved'] - marks['stopping'],
        teardown_s=t_exit - marks['saved'],
        unwind_s=marks['main_left'] - marks['saved'],
        threads_s=marks['atexit_start'] - marks['main_left'],
        atexit_s=marks['atexit_end'] - marks['atexit_start'],
        finalize_s=t_exit - marks['atexit_end'],
        all_exited_s=None if t_eof is None else t_eof - t_signal,
        exit_status=returncode, checkpoint=osp.basename(ckpt),
        checkpoint_bytes=osp.getsize(ckpt),
        command=' '.join(cmd[:1] + cmd[3:]))
