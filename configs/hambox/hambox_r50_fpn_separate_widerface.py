# HAMBox with the regression-aware focal loss read literally: the compensated
# terms (classification and box) divided by N_com, the compensated anchors,
# and the stage-1 terms by N_norm. Kept for comparison only: every
# measurement in BENCHMARKS.md (root-cause table) found it far worse than the
# baseline, and the shipped default ('joint', all positives) level with it.
_base_ = './hambox_r50_fpn_widerface.py'

model = dict(bbox_head=dict(loss_cls=dict(com_normalizer='separate')))
