"""Figures drawn with mmseg's / mmaction's visualizers and matplotlib:
``prediction_grid`` (image | ground truth | prediction rows, clip strips),
``seg_backdoor_grid`` (poisoned samples, backdoored predictions) and
``curves`` (the poison-rate and trigger-budget study figures)."""
