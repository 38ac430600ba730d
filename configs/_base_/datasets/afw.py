# AFW as a test set, with the annotations and the protocol of the Mathias et
# al. (ECCV 2014) toolkit, at the original image size:
#   data/face_eval/
#     annotations/new_annotations_AFW.mat      (from the toolkit)
#     AFW/<imgname>                            (AFW's 205 test images)
# The metric logs afw/ap_calibrated (what papers report) and afw/ap.
_base_ = './face_test_pipeline.py'

face_eval_root = 'data/face_eval/'
afw_ann_file = 'annotations/new_annotations_AFW.mat'
test_dataloader = dict(
    dataset=dict(
        type='FaceEvalDataset',
        data_root=face_eval_root,
        ann_file=afw_ann_file,
        data_prefix=dict(img='AFW/')))
test_evaluator = dict(
    type='FaceEvalMetric',
    ann_file=face_eval_root + afw_ann_file,
    prefix='afw')
