"""hrformer_mm: high-resolution vision transformers for mmpose and mmseg.

``pip install -e .`` into an existing OpenMMLab environment installs the
runtime requirements below.  For a fresh machine use
``bash tools/setup_env.sh``, which installs the whole stack in the order that
works (mmpose's own dependency list is broken on numpy 2, see README).

Besides the package, the install puts two things at the top of
site-packages: the module ``_hrformer_mm_ext_finder`` and
``hrformer_mm_mmcv_ext.pth``, which installs its finder at interpreter
start-up so that a host's API imported before hrformer_mm finds the
``mmcv._ext`` placeholder on mmcv-lite (a real compiled mmcv still wins).
"""
import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# sorts after setuptools' "__editable__.*.pth", whose finder must be in place
# before this line imports the (editable-mapped) finder module
PTH_NAME = 'hrformer_mm_mmcv_ext.pth'
PTH_LINE = 'import _hrformer_mm_ext_finder; _hrformer_mm_ext_finder.install()\n'


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
    install_requires=[
        'torch>=2.1',  # F.scaled_dot_product_attention(scale=...)
        'numpy',
        'opencv-python',
        'matplotlib',
        'mmengine>=0.10,<0.11',
        'mmcv>=2.0.0,<2.2.0',  # or mmcv-lite; mmseg 1.2 / mmdet 3.3 cap
        'mmpose>=1.3,<1.4',
        'mmsegmentation>=1.2,<1.3',
    ],
    license='Apache-2.0',
)
