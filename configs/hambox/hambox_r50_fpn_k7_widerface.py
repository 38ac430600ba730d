# Ablation of K, the number of anchors each face is compensated up to (default 5).
_base_ = './hambox_r50_fpn_widerface.py'

model = dict(train_cfg=dict(assigner=dict(num_compensate=7)))
