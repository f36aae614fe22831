"""The launch scripts under tools/ on the bash a cluster has.

They run under ``set -u``, and bash older than 4.4 (the system bash of
RHEL / CentOS 7 and other long-lived cluster images) treats the expansion
of an empty array, ``"${A[@]}"``, as an unbound variable and exits.  A
possibly-empty array must be expanded as ``${A[@]+"${A[@]}"}``, which
every bash accepts.

The static check covers every script; the runs put stub ``srun`` and
``python`` commands on PATH and record the command line each script builds,
with the system bash and, where ``HRFORMER_OLD_BASH`` names one (e.g. a
bash 4.3 built from source), with an old bash too."""
import glob
import os
import os.path as osp
import re
import stat
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = sorted(glob.glob(osp.join(ROOT, 'tools', '*.sh')))

OLD_BASH = os.environ.get('HRFORMER_OLD_BASH')
BASHES = [
    pytest.param('bash', id='system-bash'),
    pytest.param(OLD_BASH, id='old-bash', marks=pytest.mark.skipif(
        not OLD_BASH, reason='HRFORMER_OLD_BASH names no bash < 4.4')),
]

# NAME=() or an array declared without elements
EMPTY_ARRAY = re.compile(r'(?:^|[\s;(])(\w+)=\(\s*\)|'
                         r'\b(?:declare|local|typeset)\s+-a\s+(\w+)\s*$',
                         re.M)
GUARDED = r'\$\{{{0}\[([@*])\]\+"\$\{{{0}\[\1\]\}}"\}}'


def possibly_empty_arrays(text):
    return {a or b for a, b in EMPTY_ARRAY.findall(text)}


def unguarded_expansions(text):
    """``(line, expansion)`` of each element expansion of a possibly-empty
    array not written in the guarded form (``${#A[@]}``, the element
    count, is safe on every bash)."""
    found = []
    text = re.sub(r'^\s*#.*$', '', text, flags=re.M)  # comment lines
    for name in possibly_empty_arrays(text):
        unguarded = re.sub(GUARDED.format(name), '', text)
        for m in re.finditer(r'\$\{' + name + r'\[[@*]\]\}', unguarded):
            line = unguarded.count('\n', 0, m.start()) + 1
            found.append((line, m.group()))
    return found


def test_the_check_finds_what_old_bash_rejects():
    text = ('A=()\nB=(x)\nlocal -a C\nrun "${A[@]}" "${B[@]}"\n'
            'run ${A[@]+"${A[@]}"} ${#A[@]}\necho ${C[*]}\n'
            '  # "${A[@]}" in a comment\n')
    assert possibly_empty_arrays(text) == {'A', 'C'}
    assert sorted(unguarded_expansions(text)) == [(4, '${A[@]}'),
                                                  (6, '${C[*]}')]


@pytest.mark.parametrize('script', SCRIPTS, ids=osp.basename)
def test_no_script_expands_a_possibly_empty_array_unguarded(script):
    with open(script) as f:
        assert unguarded_expansions(f.read()) == []


STUB = r"""#!/usr/bin/env bash
printf '%s\n' "$@" > "$STUB_LOG/{name}.args"
"""


@pytest.fixture
def stubs(tmp_path):
    bin_dir, log = tmp_path / 'bin', tmp_path / 'log'
    bin_dir.mkdir()
    log.mkdir()
    for name in ('srun', 'python', 'scontrol'):
        path = bin_dir / name
        path.write_text(STUB.replace('{name}', name))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('SLURM_')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               STUB_LOG=str(log), PYTHON=str(bin_dir / 'python'))

    def run(bash, script, *args, **extra):
        proc = subprocess.run([bash, osp.join('tools', script), *args],
                              cwd=ROOT, env=dict(env, **extra), text=True,
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        called = 'srun' if script.startswith('slurm') else 'python'
        argv = (log / f'{called}.args').read_text().splitlines()
        tool = next(i for i, a in enumerate(argv)
                    if a.endswith(('train.py', 'test.py')))
        return argv[tool:]
    return run


@pytest.mark.parametrize('bash', BASHES)
def test_slurm_train_adds_resume_only_on_a_restart(stubs, bash):
    train = osp.join(ROOT, 'tools', 'train.py')
    assert stubs(bash, 'slurm_train.sh', 'gpu', 'job', 'cfg.py') == [
        train, 'cfg.py', '--launcher', 'slurm']
    assert stubs(bash, 'slurm_train.sh', 'gpu', 'job', 'cfg.py', '--amp',
                 SLURM_RESTART_COUNT='2') == [
        train, 'cfg.py', '--launcher', 'slurm', '--amp', '--resume']


@pytest.mark.parametrize('bash', BASHES)
def test_the_other_launch_scripts_pass_the_options(stubs, bash):
    tools = osp.join(ROOT, 'tools')
    assert stubs(bash, 'slurm_test.sh', 'gpu', 'job', 'cfg.py', 'w.pth') == [
        osp.join(tools, 'test.py'), 'cfg.py', 'w.pth', '--launcher', 'slurm']
    for extra in ([], ['--amp']):
        assert stubs(bash, 'dist_train.sh', 'cfg.py', '2', *extra) == [
            osp.join(tools, 'train.py'), 'cfg.py', '--launcher', 'pytorch',
            *extra]
        assert stubs(bash, 'dist_test.sh', 'cfg.py', 'w.pth', '2',
                     *extra) == [osp.join(tools, 'test.py'), 'cfg.py',
                                 'w.pth', '--launcher', 'pytorch', *extra]
