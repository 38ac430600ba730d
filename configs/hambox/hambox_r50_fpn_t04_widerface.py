# Ablation of T, the regressed-box IoU a compensated anchor needs (default 0.5).
_base_ = './hambox_r50_fpn_widerface.py'

model = dict(train_cfg=dict(assigner=dict(compensate_iou_thr=0.4)))
