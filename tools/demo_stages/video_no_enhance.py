"""Victim of the clean-label video backdoor, ablation: the same poisoning
without enhancement (the trigger alone on the selected clips).

Fine-tunes the clean model's recipe from the shared source-pretrained
backbone on the poison folder of stage ``video_trigger`` and reports
clean top-1 and ASR (:func:`mmbackdoor.apis.video_backdoor.run_victim`).
"""
from mmbackdoor.apis.video_backdoor import run_victim

NAME = 'video_no_enhance'
REQUIRES = ['video_trigger']
COST = 61


def run(ctx) -> None:
    run_victim(ctx, NAME)
