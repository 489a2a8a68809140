"""Helpers for tests of mmbackdoor and of projects built on it (tiny
configs, datasets and models), as ``mmseg.testing`` / ``mmaction.testing``
offer:

- ``video``: tiny rawframe datasets, mmaction recognizers and configs, the
  attacker's setup on them (needs mmaction).
"""
