# Copyright (c) hambox_mmdet contributors. All rights reserved.
from typing import Sequence

from mmdet.models.task_modules.prior_generators import AnchorGenerator
from mmdet.registry import TASK_UTILS


@TASK_UTILS.register_module()
class FaceAnchorGenerator(AnchorGenerator):
    """Face anchors of HAMBox: one square anchor per location and level.

    On a level of stride ``s`` the anchor side is ``anchor_scale * 4 * s``;
    with the defaults (strides 4 ... 128 on P2 ... P7, ``anchor_scale=0.68``)
    that is about 10.9, 21.8, 43.5, 87, 174 and 348 pixels. Faces vary little
    in aspect ratio but hugely in scale, so one square anchor per location is
    the paper's choice; extra aspect ratios (height / width, as everywhere in
    mmdet) can be added with ``ratios``, each keeping the anchor's area.

    It is a drop-in for mmdet's :class:`AnchorGenerator` (same interface:
    ``grid_priors``, ``valid_flags``, ``num_base_priors`` ...), so mmdet's
    anchor heads use it unchanged.

    Args:
        strides (Sequence[int]): Strides of the pyramid levels.
            Defaults to (4, 8, 16, 32, 64, 128), i.e. P2 ... P7.
        anchor_scale (float): The paper's "anchor scale" ``s``: anchor side
            as a multiple of ``4 * stride``. Defaults to 0.68; the paper finds
            [0.43, 0.7] a good interval on WIDER FACE.
        ratios (Sequence[float]): Aspect ratios (h / w). Defaults to (1.0, ).
        base_multiplier (float): The ``4`` in ``anchor_scale * 4 * stride``.
            Defaults to 4.
        center_offset (float): Anchor centre inside its cell, in units of the
            stride. Defaults to 0.5 (the cell centre; mmdet's RetinaNet uses
            0, the cell corner, which shifts stride-4 anchors by 2 pixels).
        use_box_type (bool): Return ``HorizontalBoxes`` instead of tensors.
            Defaults to False.

    Example:
        >>> from mmdet.registry import TASK_UTILS
        >>> gen = TASK_UTILS.build(dict(type='FaceAnchorGenerator'))
        >>> [round(float(s), 2) for s in gen.anchor_sizes]
        [10.88, 21.76, 43.52, 87.04, 174.08, 348.16]
        >>> sum(len(a) for a in gen.grid_priors(
        ...     [(1024 // s, 1024 // s) for s in gen.strides_1d], device='cpu'))
        87360
    """

    def __init__(self,
                 strides: Sequence[int] = (4, 8, 16, 32, 64, 128),
                 anchor_scale: float = 0.68,
                 ratios: Sequence[float] = (1.0, ),
                 base_multiplier: float = 4.,
                 center_offset: float = 0.5,
                 use_box_type: bool = False) -> None:
        if anchor_scale <= 0:
            raise ValueError(f'anchor_scale must be positive, got '
                             f'{anchor_scale}')
        self.anchor_scale = float(anchor_scale)
        self.base_multiplier = float(base_multiplier)
        super().__init__(
            strides=list(strides),
            ratios=list(ratios),
            scales=[self.anchor_scale * self.base_multiplier],
            center_offset=center_offset,
            use_box_type=use_box_type)

    @property
    def strides_1d(self) -> list:
        """list[int]: the stride of each level (square strides)."""
        return [stride[0] for stride in self.strides]

    @property
    def anchor_sizes(self) -> list:
        """list[float]: the side of the square anchor on each level."""
        return [float(base) * float(self.scales[0])
                for base in self.base_sizes]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(strides={self.strides_1d}, '
                f'anchor_scale={self.anchor_scale}, '
                f'ratios={self.ratios.tolist()}, '
                f'center_offset={self.center_offset})')
