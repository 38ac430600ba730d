# HAMBox (CVPR 2020) as a delta on the RetinaNet face model
# (./retinanet_r50_fpn_face.py: R50-FPN P2-P7, face anchors of scale 0.68):
# online high-quality anchor mining (K = 5, T = 0.5) in HAMBoxAssigner, and
# the regression-aware focal loss in HAMBoxHead. Nothing else differs.
_base_ = './retinanet_r50_fpn_face.py'

model = dict(
    bbox_head=dict(
        type='HAMBoxHead',
        loss_cls=dict(
            type='RegressionAwareFocalLoss',
            ignore_reg_iou_thr=0.5,
            # one divisor, all positives: the paper's literal separate N_com
            # collapses training (BENCHMARKS.md, root-cause table);
            # hambox_r50_fpn_separate_widerface.py keeps the literal form
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
