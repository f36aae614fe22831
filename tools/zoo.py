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

See hrformer_mm/zoo.py for the scheme and what is hand-written.
"""
import argparse
import os.path as osp
import runpy
import sys

if __name__ == '__main__':  # before anything imports the hosts
    runpy.run_path(osp.join(osp.dirname(__file__), '_preamble.py'))

from hrformer_mm import zoo  # noqa: E402

#: the checkout this script belongs to (its metafiles, configs and docs)
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


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
        listed = {m['Config'] for m in zoo.all_models(ROOT)}
        missing = [c for c in zoo.zoo_configs(ROOT) if c not in listed]
        stale = zoo.stale_docs(ROOT)
        for c in missing:
            print(f'no metafile entry: {c}')
        for rel in stale:
            print(f'{rel}: tables differ from the metafiles: '
                  'python tools/zoo.py --readme')
        return 1 if missing or stale else 0
    if not args.readme:
        zoo_set = set(zoo.zoo_configs(ROOT))
        configs = [osp.relpath(osp.abspath(c), ROOT).replace('\\', '/')
                   for c in args.configs]
        for c in configs:
            if c not in zoo_set:
                print(f'skipped (not a zoo config: {zoo.ZOO_GLOB}, bases '
                      f'and demos aside): {c}')
        configs = [c for c in configs if c in zoo_set] or None
        if args.configs and not configs:
            return 1
        added = zoo.update(ROOT, configs)
        print('added:', ', '.join(added) if added else 'none')
    for rel, new in zoo.stale_docs(ROOT).items():
        with open(osp.join(ROOT, rel), 'w', encoding='utf-8') as f:
            f.write(new)
        print(f'{rel}: tables rewritten')
    return 0


if __name__ == '__main__':
    sys.exit(main())
