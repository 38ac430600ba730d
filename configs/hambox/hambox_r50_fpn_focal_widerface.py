# Ablation: anchor mining without the regression-aware focal loss. With mmdet's
# plain FocalLoss, HAMBoxHead treats compensated anchors as ordinary positives
# (weight 1, one normaliser for all positives).
_base_ = './hambox_r50_fpn_widerface.py'

model = dict(bbox_head=dict(loss_cls=dict(_delete_=True, type='FocalLoss',
                                          use_sigmoid=True, gamma=2.0,
                                          alpha=0.25, loss_weight=1.0)))
