"""Run the hosts' own HRNet / HRFormer backbone test files against
hrformer_mm's classes: ``python tools/run_host_backbone_tests.py [--hosts
mmpose mmseg mmpretrain] [--cache DIR] [--json FILE]``.

Each file is taken at the installed host's version (its PyPI source
distribution, else its GitHub release tag; cached, by default under
``~/.cache/hrformer_mm/host_tests``) and run by pytest under the host's
default scope with the host's class replaced by ours
(``hrformer_mm/host_tests.py``).  Tests of host-internal modules are
deselected, each with its reason (listed by ``--list-deselected``).
Prints passed / failed / deselected per file; exits with 1 when a test
failed or a test module still holds the host's class (not substituted).
"""
import argparse
import json
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

from hrformer_mm.host_tests import (HOST_INTERNAL,  # noqa: E402
                                    HOST_TEST_FILES, run_host_tests)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--hosts', nargs='+', choices=sorted(HOST_TEST_FILES),
                   default=list(HOST_TEST_FILES))
    p.add_argument('--cache', help='where the fetched test files are kept '
                   '(default ~/.cache/hrformer_mm/host_tests)')
    p.add_argument('--json', help='also write the counts to this file')
    p.add_argument('--list-deselected', action='store_true',
                   help='print the tests not run and why, run nothing')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list_deselected:
        for (host, path, test), why in HOST_INTERNAL.items():
            print(f'{host} {path}::{test}\n    {why}')
        return 0
    results = {host: run_host_tests(host, args.cache) for host in args.hosts}
    print(f"{'host':<11}{'file':<50}{'passed':>7}{'failed':>7}"
          f"{'deselected':>11}")
    failed = 0
    for host, files in results.items():
        for path, c in sorted(files.items()):
            print(f"{host:<11}{path:<50}{c['passed']:>7}{c['failed']:>7}"
                  f"{c['deselected']:>11}")
            for nodeid in c['failures']:
                print(f'    FAILED {nodeid}')
            failed += c['failed']
            # a test module that still holds the host's class tested the
            # host, not us: its passes count for nothing
            for name, ours in sorted(c.get('substituted', {}).items()):
                if not ours:
                    print(f'    NOT SUBSTITUTED {host} {path}: the test '
                          f'module holds the host\'s {name}, not '
                          "hrformer_mm's")
                    failed += 1
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return int(failed > 0)


if __name__ == '__main__':
    sys.exit(main())
