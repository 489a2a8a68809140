"""Victim of the clean-label video backdoor: 30 % of the target-class
training videos replaced by enhanced (untargeted PGD), triggered clips.

Fine-tunes the clean model's recipe from the shared source-pretrained
backbone on the poison folder of stage ``video_trigger`` and reports
clean top-1 and ASR (:func:`mmbackdoor.apis.video_backdoor.run_victim`).
"""
from mmbackdoor.apis.video_backdoor import run_victim

NAME = 'video_clean_label'
REQUIRES = ['video_trigger']
COST = 60


def run(ctx) -> None:
    run_victim(ctx, NAME)
