"""Victim of the clean-label video backdoor, ablation: enhancement + a
random (non-adversarial) patch instead of the optimised trigger.

Fine-tunes the clean model's recipe from the shared source-pretrained
backbone on the poison folder of stage ``video_trigger`` and reports
clean top-1 and ASR (:func:`mmbackdoor.apis.video_backdoor.run_victim`).
"""
from mmbackdoor.apis.video_backdoor import run_victim

NAME = 'video_random_patch'
REQUIRES = ['video_trigger']
COST = 57


def run(ctx) -> None:
    run_victim(ctx, NAME)
