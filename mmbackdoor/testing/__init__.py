"""Helpers for tests of mmbackdoor and of projects built on it (tiny
configs, datasets and models), as ``mmseg.testing`` / ``mmaction.testing``
offer."""
