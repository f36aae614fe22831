from setuptools import find_packages, setup
setup(name='hrformer_mm', version='0.1.0', packages=find_packages(include=['hrformer_mm', 'hrformer_mm.*']))
