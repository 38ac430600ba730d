# HAMBox swapped into mmdet's stock RetinaNet: the whole change is these three
# lines (the stock assigner thresholds 0.5 / 0.4 carry over to HAMBox's stage 1;
# K = 5 and T = 0.5 are HAMBoxAssigner's defaults). match_low_quality=True
# keeps the stock stage 1 (MaxIoUAssigner's default; HAMBoxAssigner's is
# False, as the paper), so only the mining changes.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

custom_imports = dict(imports=['hambox_mmdet.models', 'hambox_mmdet.datasets', 'hambox_mmdet.evaluation'], allow_failed_imports=False)  # noqa: E501
model = dict(bbox_head=dict(type='HAMBoxHead', loss_cls=dict(type='RegressionAwareFocalLoss')),  # noqa: E501
             train_cfg=dict(assigner=dict(type='HAMBoxAssigner', match_low_quality=True)))  # noqa: E501
