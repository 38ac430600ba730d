# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""HAMBox's observation on a trained detector: where correct boxes come from.

The paper (CVPR 2020, Sec. 3) finds that at inference more than 80% of the
correctly predicted boxes come from anchors that were *unmatched* in
training, and (Fig. 2(d)) groups the WIDER FACE val Hard faces by their
number of matched anchors D (0 / 1 / 2 / 3 / >3: 1195 / 2492 / 3257 / 4549 /
20465 of 31,958 faces). This tool measures both for any mmdet ``AnchorHead``
detector (``HAMBoxHead``, ``RetinaHead``, ...) on its config's test set::

    python tools/analysis_tools/unmatched_anchor_analysis.py \\
        configs/hambox/hambox_r50_fpn_widerface.py \\
        work_dirs/hambox_r50_fpn_widerface/epoch_100.pth \\
        --data-root data/widerface --max-images 500 --skip-missing \\
        --json unmatched_anchors.json

Definitions (all in the network input frame: the faces are scaled by the
test pipeline's ``scale_factor``; only faces not flagged ignored are used;
a box's *best face* is the face it overlaps most, the lower index on ties):

- **matched anchor**: IoU with its best face ``>= --match-iou-thr`` (0.35),
  the standard matching of training; all other anchors are **unmatched**.
  ``D(face)`` = the number of anchors matched to the face.
- **prediction**: an anchor with score (sigmoid, highest over classes)
  ``>= --score-thr`` (0.5); its box is the anchor's decoded regression.
- **correct prediction**: its regressed box has IoU ``> --correct-iou-thr``
  (0.5, strictly) with its best face, to which it is credited. It comes
  *from an unmatched anchor* if its anchor is unmatched.
- **before / after NMS**: on all predictions, or on those kept by mmcv's
  ``batched_nms`` with the model's ``test_cfg.nms`` (over all the
  score-thresholded boxes: ``nms_pre`` and ``max_per_img`` are not applied).
- a face is **found** if it is credited with a correct prediction.

The paper's Fig. 2(d) counts the Hard subset; this tool counts every face of
the test set that is not ignored.
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.apis import init_detector
from mmdet.registry import DATASETS
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar
from torch import Tensor

from hambox_mmdet.analysis import (ImageAnchorAnalysis,
                                   analyse_anchor_predictions,
                                   format_anchor_analysis,
                                   summarise_anchor_analysis)
from hambox_mmdet.utils import register_all_modules


def parse_args(argv: List[str] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Share of correct predictions from unmatched anchors '
        '(HAMBox Sec. 3) and faces found per number of matched anchors '
        '(Fig. 2(d)).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--max-images',
        type=int,
        default=None,
        help='analyse only the first N images of the test set')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.5,
        help='anchors with a score >= this are predictions')
    parser.add_argument(
        '--match-iou-thr',
        type=float,
        default=0.35,
        help='anchors with IoU >= this with a face are matched')
    parser.add_argument(
        '--correct-iou-thr',
        type=float,
        default=0.5,
        help='predictions whose box has IoU > this with a face are correct')
    parser.add_argument(
        '--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--skip-missing',
        action='store_true',
        help="leave out images whose file is missing "
        "(on_missing_image='skip'), e.g. for a partial download")
    parser.add_argument(
        '--data-root',
        help="the test set's data_root (the folder of the official layout); "
        'default: the config\'s')
    parser.add_argument(
        '--gt-dir',
        help='the WIDER FACE evaluation ground truth (eval_tools/'
        'ground_truth): also report the outer-face recall of the model\'s '
        'final detections (recall per matched-anchor count D and face size '
        'over the Hard faces, at --score-thr and at the Hard curve\'s '
        'best-F1 threshold), computed by WIDERFaceMetric(outer_face_recall='
        '...) itself over the analysed images')
    parser.add_argument(
        '--json', '--out-json', dest='json', help='write all numbers here')
    parser.add_argument(
        '--overwrite', action='store_true',
        help='replace an existing --json (without it, an existing one is an '
        'error)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format')
    return parser.parse_args(argv)


def build_test_dataset(cfg: Config,
                       skip_missing: bool = False,
                       data_root: Optional[str] = None):
    """The config's test dataset (``cfg.test_dataloader.dataset``).

    Args:
        cfg (Config): The full config.
        skip_missing (bool): Set ``on_missing_image='skip'``.
        data_root (str, optional): Replaces the dataset's ``data_root``
            (``ann_file`` and ``data_prefix`` stay relative to it).

    Returns:
        The built dataset.
    """
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    if skip_missing:
        dataset_cfg['on_missing_image'] = 'skip'
    if data_root is not None:
        dataset_cfg['data_root'] = data_root
    return DATASETS.build(dataset_cfg)


def check_head(head: torch.nn.Module) -> None:
    """Exit with a message unless the head is an anchor-based dense head."""
    missing = [
        name for name in ('prior_generator', 'bbox_coder', 'cls_out_channels')
        if not hasattr(head, name)
    ]
    if missing:
        sys.exit(f'error: {type(head).__name__} is not an anchor-based head '
                 f'(no {", ".join(missing)}); an mmdet AnchorHead subclass '
                 'is needed')


def gt_faces(data_info: dict, scale_factor: Tuple[float, float]) -> Tensor:
    """The image's faces that are not ignored, in the network input frame.

    Args:
        data_info (dict): From ``dataset.get_data_info(i)``: ``gt_bboxes``
            (N, 4) and optionally ``gt_ignore_flags`` (N, ), as
            ``WIDERFaceTxtDataset`` gives them, or mmdet's ``instances``
            (dicts with ``bbox`` and ``ignore_flag``).
        scale_factor (tuple[float, float]): ``(w_scale, h_scale)`` of the
            test pipeline.

    Returns:
        Tensor: Shape (F, 4), float32, x1 y1 x2 y2.
    """
    if 'gt_bboxes' not in data_info and 'instances' in data_info:
        instances = data_info['instances']
        data_info = dict(
            gt_bboxes=[inst['bbox'] for inst in instances],
            gt_ignore_flags=[bool(inst.get('ignore_flag', 0))
                             for inst in instances])
    boxes = torch.as_tensor(
        data_info.get('gt_bboxes', []), dtype=torch.float32).reshape(-1, 4)
    ignore = data_info.get('gt_ignore_flags')
    if ignore is not None and len(ignore):
        boxes = boxes[~torch.as_tensor(ignore, dtype=torch.bool)]
    w_scale, h_scale = scale_factor
    return boxes * boxes.new_tensor([w_scale, h_scale, w_scale, h_scale])


@torch.no_grad()
def anchor_predictions(model: torch.nn.Module,
                       data: dict) -> Tuple[Tensor, Tensor, Tensor, Tensor,
                                            dict]:
    """Every anchor of one image with its score, class and regressed box.

    Args:
        model (nn.Module): The detector (``extract_feat`` and an anchor-based
            ``bbox_head``).
        data (dict): ``pseudo_collate`` of one ``dataset[i]``.

    Returns:
        tuple: ``anchors`` (A, 4), ``scores`` (A, ), ``labels`` (A, ),
        ``pred_bboxes`` (A, 4) in the network input frame, and the image's
        metainfo (``img_shape``, ``scale_factor``, ...). Anchors are ordered
        level by level, then row, column and base anchor, as in mmdet.
    """
    head = model.bbox_head
    data = model.data_preprocessor(data, False)
    img_meta = data['data_samples'][0].metainfo
    feats = model.extract_feat(data['inputs'])
    outs = head(feats)
    cls_scores, bbox_preds = outs[0], outs[1]
    featmap_sizes = [c.shape[-2:] for c in cls_scores]
    anchors = torch.cat([
        get_box_tensor(a) for a in head.prior_generator.grid_priors(
            featmap_sizes, device=cls_scores[0].device)
    ])
    logits = torch.cat([
        c[0].permute(1, 2, 0).reshape(-1, head.cls_out_channels)
        for c in cls_scores
    ])
    if getattr(head, 'use_sigmoid_cls', True):
        probs = logits.sigmoid()
    else:  # softmax with a background column last
        probs = logits.softmax(-1)[:, :-1]
    scores, labels = probs.max(dim=-1)
    box_dim = getattr(head.bbox_coder, 'encode_size', 4)
    deltas = torch.cat(
        [b[0].permute(1, 2, 0).reshape(-1, box_dim) for b in bbox_preds])
    pred_bboxes = get_box_tensor(
        head.bbox_coder.decode(
            anchors, deltas, max_shape=img_meta['img_shape']))
    return anchors, scores, labels, pred_bboxes, img_meta


def analyse(model: torch.nn.Module, dataset, num_images: int,
            args: argparse.Namespace,
            outer_metric=None) -> List[ImageAnchorAnalysis]:
    """Analyse the first ``num_images`` images of ``dataset``; with
    ``outer_metric`` (a ``WIDERFaceMetric``) also feed it the model's final
    detections of each image."""
    nms_cfg = model.bbox_head.test_cfg.get('nms')
    results = []
    progress = ProgressBar(num_images)
    for i in range(num_images):
        data = pseudo_collate([dataset[i]])
        anchors, scores, labels, pred_bboxes, img_meta = anchor_predictions(
            model, data)
        if outer_metric is not None:
            with torch.no_grad():
                outer_metric.process(data, model.test_step(
                    pseudo_collate([dataset[i]])))
        faces = gt_faces(
            dataset.get_data_info(i), img_meta.get('scale_factor',
                                                   (1.0, 1.0)))
        results.append(
            analyse_anchor_predictions(
                anchors,
                scores,
                pred_bboxes,
                faces.to(anchors.device),
                labels=labels,
                score_thr=args.score_thr,
                match_iou_thr=args.match_iou_thr,
                correct_iou_thr=args.correct_iou_thr,
                nms_cfg=nms_cfg))
        progress.update()
    sys.stdout.write('\n')
    return results


def main(argv: List[str] = None) -> Dict:
    args = parse_args(argv)
    register_all_modules()  # mmdet's and HAMBox's components
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    from hambox_mmdet.safe_io import (check_new_output, check_not_inputs,
                                      write_json)
    from hambox_mmdet.utils import load_checkpoint_strict, read_checkpoint
    try:
        if args.json:
            check_not_inputs([args.json], [args.config, args.checkpoint])
            check_new_output(args.json, args.overwrite)
        read_checkpoint(args.checkpoint)  # a clear error for a non-checkpoint
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    # init without weights (also drops the backbone's pretrained init_cfg),
    # then the checkpoint, which must fit the config exactly (the rule of
    # tools/demo.py and export_onnx.py: a missing head is an error, not a
    # random one analysed)
    model = init_detector(cfg, None, device=args.device)
    try:
        meta = load_checkpoint_strict(model, args.checkpoint)
    except ValueError as e:
        sys.exit(f'error: {e}')
    if meta.get('dataset_meta'):
        model.dataset_meta = meta['dataset_meta']
    check_head(model.bbox_head)
    dataset = build_test_dataset(cfg, args.skip_missing, args.data_root)
    num_images = len(dataset)
    if args.max_images is not None:
        num_images = min(num_images, max(args.max_images, 0))
    nms_cfg = model.bbox_head.test_cfg.get('nms')
    print(f'{osp.basename(args.config)}: {num_images} of {len(dataset)} '
          f'test images, score >= {args.score_thr}, matched at anchor IoU >= '
          f'{args.match_iou_thr}, correct at box IoU > '
          f'{args.correct_iou_thr}, NMS {nms_cfg}')
    outer_metric = None
    if args.gt_dir:
        from mmdet.registry import METRICS
        outer_metric = METRICS.build(dict(
            type='WIDERFaceMetric', gt_dir=args.gt_dir,
            only_present_images=True,
            outer_face_recall=dict(
                score_thr=args.score_thr,
                anchor_generator=cfg.model.bbox_head.anchor_generator,
                match_iou_thr=args.match_iou_thr,
                correct_iou_thr=args.correct_iou_thr)))
    summary = summarise_anchor_analysis(
        analyse(model, dataset, num_images, args, outer_metric))
    if summary['num_faces'] == 0:
        print('warning: no face (not ignored) in the analysed images')
    mean = summary['mean_matched_per_face']
    share = summary['share_faces_matched']
    print(f"{summary['num_faces']} faces, {summary['num_anchors']} anchors "
          f"({summary['num_matched_anchors']} matched); matched anchors per "
          f"face {'-' if mean is None else f'{mean:.2f}'}, faces with >= 1: "
          f"{'-' if share is None else f'{100 * share:.1f}%'}\n")
    print(format_anchor_analysis(summary))
    outer = {}
    if outer_metric is not None:
        from hambox_mmdet.analysis import format_outer_face_recall
        aps = outer_metric.compute_metrics(outer_metric.results)
        tables = outer_metric.outer_face_tables
        print('\nOuter-face recall of the final detections (Hard faces; '
              'WIDERFaceMetric(outer_face_recall=...)):\n' +
              format_outer_face_recall(tables))
        outer = dict(outer_face_recall=tables,
                     wider_aps={k: aps[k] for k in ('easy', 'medium',
                                                     'hard')})
    out = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        head=type(model.bbox_head).__name__,
        data_root=dataset.data_root,
        score_thr=args.score_thr,
        match_iou_thr=args.match_iou_thr,
        correct_iou_thr=args.correct_iou_thr,
        nms=None if nms_cfg is None else dict(nms_cfg),
        num_test_images=len(dataset),
        **summary,
        **outer)
    if args.json:
        write_json(args.json, out, indent=2)
        print(f'\nwritten to {args.json}')
    return out


if __name__ == '__main__':
    main()
