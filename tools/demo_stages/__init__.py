"""Stages of ``tools/demo.py``; each module has ``NAME``, ``REQUIRES``,
``COST`` (the seconds it takes on one worker of a full run, measured with
data generation included; ``demo_scheduler`` plans the order of the stages
from them) and ``run(ctx)``."""
