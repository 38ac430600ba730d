# HAMBox on the small CPU detector: its baseline
# (../baselines/retinanet_r18_fpn_tiny_widerface.py: network, face anchors,
# data, pipeline, schedule, test settings) with HAMBox swapped in, and nothing
# else changed: HAMBoxHead (which feeds the assigner the regressed boxes),
# HAMBoxAssigner (stage 1 at 0.35, compensation up to K = 5 anchors at
# regressed IoU >= T = 0.5) and the regression-aware focal loss (divisor: all
# positives, see hambox_r50_fpn_widerface.py). The quick start, the
# end-to-end tests and benchmarks/ablation_real_wider.py train it.
_base_ = '../baselines/retinanet_r18_fpn_tiny_widerface.py'

model = dict(
    bbox_head=dict(
        type='HAMBoxHead',
        loss_cls=dict(
            type='RegressionAwareFocalLoss',
            ignore_reg_iou_thr=0.5,
            com_normalizer='joint',
            iou_weighted=True)),
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='HAMBoxAssigner',
            pos_iou_thr=0.35,
            neg_iou_thr=0.35,
            match_low_quality=False,
            num_compensate=5,  # K
            compensate_iou_thr=0.5,  # T
            ignore_iof_thr=0.5)))
