"""Helpers for tests of mmbackdoor and of projects built on it (tiny
configs, datasets and models), as ``mmseg.testing`` / ``mmaction.testing``
offer:

- ``seg``: a small embedded segmentation dataset and the shipped embedded
  configs shrunk to a few iterations on it;
- ``crash``: run a tool that hangs mid-write, to kill it there (tests of
  crash-safe writers);
- ``isolation``: run a module where some packages cannot be imported;
- ``real_layouts``: minimal Cityscapes, ADE20K, VOC 2012 + aug, UCF101 and
  HMDB51 copies in the exact layouts and file names the codebases
  document, with the classes the backdoor configs attack;
- ``tiny_segmentor``: a tiny real mmseg segmentor and synthetic batches
  (needs mmseg);
- ``video``: tiny rawframe datasets, mmaction recognizers and configs, the
  attacker's setup on them (needs mmaction);
- ``video_files``: tiny real ``.avi`` files and split lists in UCF101's /
  HMDB51's layout, and the shipped video-file configs pointed at them
  (needs mmaction and decord).
- ``zoo_checkpoints``: checkpoints laid out as the mmseg / mmaction model
  zoos publish them (0.x and 1.x), with the weights of a model built here.
"""
