"""hrformer_mm: high-resolution vision transformers for mmpose and mmseg.

``pip install -e .`` into an existing OpenMMLab environment installs the
runtime requirements below.  For a fresh machine use
``bash tools/setup_env.sh``, which installs the whole stack in the order that
works (mmpose's own dependency list is broken on numpy 2, see README).
"""
from setuptools import find_packages, setup

setup(
    name='hrformer_mm',
    version='0.1.0',
    description='HRFormer and other high-resolution vision transformers as '
    'an OpenMMLab (mmpose / mmsegmentation) plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['hrformer_mm', 'hrformer_mm.*']),
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
