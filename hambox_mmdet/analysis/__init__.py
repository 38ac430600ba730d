# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The paper's analyses: nothing here is built by a training run.

- :mod:`.matching`: standard IoU matching of anchors to faces (D per face).
- :mod:`.anchor_statistics`: Fig. 1, anchor scale vs. anchors per face.
- :mod:`.unmatched_anchors`: the share of correct predictions from
  unmatched anchors (Sec. 3, "more than 80 %") and Fig. 2(d).
- :mod:`.outer_faces`: recall of the final detections by matched anchors D
  and face size (``WIDERFaceMetric(outer_face_recall=...)``).
"""
from .anchor_statistics import anchor_scale_statistics
from .matching import match_anchors, match_counts, max_iou_with_faces
from .outer_faces import (D_BINS, SIZE_BINS, best_f1_score_thr,
                          format_outer_face_recall, outer_face_recall_wider,
                          summarise_outer_face_recall)
from .unmatched_anchors import (FACE_GROUPS, STAGES, ImageAnchorAnalysis,
                                PredictionStats, analyse_anchor_predictions,
                                format_anchor_analysis, prediction_stats,
                                summarise_anchor_analysis)

__all__ = [
    'anchor_scale_statistics', 'match_anchors', 'match_counts',
    'max_iou_with_faces', 'FACE_GROUPS', 'STAGES', 'ImageAnchorAnalysis',
    'PredictionStats', 'analyse_anchor_predictions', 'format_anchor_analysis',
    'prediction_stats', 'summarise_anchor_analysis', 'D_BINS', 'SIZE_BINS',
    'best_f1_score_thr', 'format_outer_face_recall',
    'outer_face_recall_wider', 'summarise_outer_face_recall'
]
