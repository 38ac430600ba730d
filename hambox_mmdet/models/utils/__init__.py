# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .box_iou import column_tiles, pairwise_iou

__all__ = ['pairwise_iou', 'column_tiles']
from .anchor_analysis import (FACE_GROUPS, ImageAnchorAnalysis,  # noqa: E402
                              PredictionStats, analyse_anchor_predictions,
                              format_anchor_analysis, match_anchors,
                              max_iou_with_faces, prediction_stats,
                              summarise_anchor_analysis)

__all__ += [
    'FACE_GROUPS', 'ImageAnchorAnalysis', 'PredictionStats',
    'analyse_anchor_predictions', 'format_anchor_analysis', 'match_anchors',
    'max_iou_with_faces', 'prediction_stats', 'summarise_anchor_analysis'
]
