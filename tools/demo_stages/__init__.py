"""Stages of ``tools/demo.py``; each module has ``NAME``, ``REQUIRES`` and
``run(ctx)``."""
