# FDDB as a test set (all ten folds: 2,845 images, 5,171 faces) at the
# original image size, scored with the official FDDB protocol (true positive
# rate at 1,000 and 2,000 false positives, discrete and continuous).
# Data: data/fddb/FDDB-folds/FDDB-fold-XX{,-ellipseList}.txt and
#       data/fddb/originalPics/<year>/<month>/<day>/big/img_N.jpg
_base_ = './face_test_pipeline.py'

fddb_root = 'data/fddb/'
test_dataloader = dict(
    dataset=dict(
        type='FDDBDataset',
        data_root=fddb_root,
        ann_dir='FDDB-folds',
        data_prefix=dict(img='originalPics/')))
test_evaluator = dict(
    type='FDDBMetric',
    folds_dir=fddb_root + 'FDDB-folds',
    outfile='work_dirs/fddb/fddb_dets.txt',  # the official layout
    roc_prefix='work_dirs/fddb/hambox-',  # DiscROC.txt / ContROC.txt
    plot_file='work_dirs/fddb/roc.png')
