"""hrformer_mm: high-resolution vision transformers for mmpose and mmseg.

For a fresh machine use ``bash tools/setup_env.sh``, which installs the whole
stack in the order that works (mmpose's own dependency list is broken on
numpy 2, see README).  ``pip install .`` (or the wheel) into an existing
OpenMMLab environment adds only this package there: the requirements below
leave torch, mmcv / mmcv-lite and the hosts that declare broken pins (mmpose:
chumpy; mmdet, mmpretrain: full mmcv) to the environment, which must hold
torch, torchvision, mmcv or mmcv-lite 2.0-2.1, mmpose 1.3 and mmpretrain 1.2
(mmdet 3.3 for the detectors).

Like mmpose's and mmseg's, the package carries ``configs``, ``tools``, the
metafiles and ``model-index.yml`` in ``hrformer_mm/.mim`` for ``mim search /
train / test``: copies in a wheel, symbolic links into the source tree for an
editable install.

Besides the package, the install puts two things at the top of
site-packages: the module ``_hrformer_mm_ext_finder`` and
``hrformer_mm_mmcv_ext.pth``, which installs its finder at interpreter
start-up so that a host's API imported before hrformer_mm finds the
``mmcv._ext`` placeholder on mmcv-lite (a real compiled mmcv still wins).
"""
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# sorts after setuptools' "__editable__.*.pth", whose finder must be in place
# before this line imports the (editable-mapped) finder module
PTH_NAME = 'hrformer_mm_mmcv_ext.pth'
PTH_LINE = 'import _hrformer_mm_ext_finder; _hrformer_mm_ext_finder.install()\n'
# what hrformer_mm/.mim holds (what mim looks for)
MIM_ITEMS = ('configs', 'tools', 'metafiles', 'model-index.yml')
HERE = os.path.dirname(os.path.abspath(__file__))


def add_mim_files(pkg_dir, link):
    """Fill ``pkg_dir/.mim`` with MIM_ITEMS: relative symbolic links to the
    source tree (editable installs) or copies (wheels)."""
    mim_dir = os.path.join(pkg_dir, '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        src = os.path.join(HERE, item)
        dst = os.path.join(mim_dir, item)
        if os.path.islink(dst) or os.path.isfile(dst):
            os.remove(dst)
        elif os.path.isdir(dst):
            shutil.rmtree(dst)
        if link:  # (a link to an item made later works once it exists)
            os.symlink(os.path.relpath(src, mim_dir), dst)
        elif not os.path.exists(src):
            continue
        elif os.path.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithStartupHook(build_py):
    """build_py that also writes the start-up ``.pth`` file.

    A wheel takes it from ``build_lib``.  An editable wheel (pip install -e,
    setuptools' default "lenient" mode) takes nothing from ``build_lib``: its
    files are mapped back to the source tree by a finder, and a ``.pth`` has
    to sit in site-packages itself, so it goes straight into the editable
    wheel's contents, where setuptools also puts data and scripts.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            target = self.get_finalized_command('install').install_lib
        else:
            target = self.build_lib
        self.mkpath(target)
        with open(os.path.join(target, PTH_NAME), 'w') as f:
            f.write(PTH_LINE)
        if getattr(self, 'editable_mode', False):
            add_mim_files(os.path.join(HERE, 'hrformer_mm'), link=True)
        else:
            add_mim_files(os.path.join(self.build_lib, 'hrformer_mm'),
                          link=False)


setup(
    name='hrformer_mm',
    version='0.1.0',
    description='HRFormer and other high-resolution vision transformers as '
    'an OpenMMLab (mmpose / mmsegmentation) plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['hrformer_mm', 'hrformer_mm.*']),
    py_modules=['_hrformer_mm_ext_finder'],
    cmdclass={'build_py': BuildPyWithStartupHook},
    # Nothing that an existing OpenMMLab environment would see replaced:
    # no torch pin, neither mmcv nor mmcv-lite (either serves, see the
    # extras), no mmpose / mmdet / mmpretrain (their own requirements pull
    # chumpy and a source build of full mmcv; the setup script installs them
    # with --no-deps).
    install_requires=[
        'numpy',
        'mmengine>=0.10,<0.11',
        'mmsegmentation>=1.2,<1.3',
    ],
    extras_require={
        'mmcv': ['mmcv>=2.0.0,<2.2.0'],  # mmseg 1.2 / mmdet 3.3 cap
        'mmcv-lite': ['mmcv-lite>=2.0.0,<2.2.0'],
        'mim': ['openmim'],
    },
    license='Apache-2.0',
)
