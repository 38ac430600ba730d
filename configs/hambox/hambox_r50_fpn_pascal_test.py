# Test a HAMBox R50 model trained on WIDER FACE on PASCAL Face, as face
# papers do (train on WIDER FACE, test on the others), with the annotations
# and the protocol of the Mathias et al. (ECCV 2014) toolkit:
#   data/face_eval/
#     annotations/Annotations_Face_PASCALLayout_large_fixed.mat
#     PASCAL/<imgname>   (the 851 PASCAL VOC 2012 JPEGImages named there)
#   mim test hambox_mmdet hambox_r50_fpn_pascal_test.py --checkpoint CKPT
# prints pascal/ap_calibrated (what papers report) and pascal/ap (without).
_base_ = './hambox_r50_fpn_widerface.py'

face_eval_root = 'data/face_eval/'
pascal_ann_file = 'annotations/Annotations_Face_PASCALLayout_large_fixed.mat'

test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _delete_=True,
        type='FaceEvalDataset',
        data_root=face_eval_root,
        ann_file=pascal_ann_file,
        data_prefix=dict(img='PASCAL/'),
        test_mode=True,
        on_missing_image='error',
        pipeline={{_base_.test_pipeline}}))
test_evaluator = dict(
    _delete_=True,
    type='FaceEvalMetric',
    ann_file=face_eval_root + pascal_ann_file,
    prefix='pascal')
