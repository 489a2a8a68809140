"""Procedural rendering of the embedded synthetic datasets (numpy, Pillow
and scikit-image only, no OpenMMLab code):

- ``seg_scenes``: textured scenes and their label maps, for
  :mod:`~mmbackdoor.datasets.embedded_seg`;
- ``motion_clips``: clips of textured objects whose class is their motion,
  for :mod:`~mmbackdoor.datasets.embedded_video`.
"""
