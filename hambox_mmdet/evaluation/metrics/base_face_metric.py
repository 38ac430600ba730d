# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""What the three face benchmark metrics share."""
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from .predictions import sample_dict


class BaseFaceMetric(BaseMetric):
    """The skeleton of :class:`WIDERFaceMetric`, :class:`FDDBMetric` and
    :class:`FaceEvalMetric`.

    - :meth:`process` keeps one item per data sample
      (:meth:`sample_result`, whose first element identifies the image:
      :meth:`result_key`);
    - the ground truth is read on first use (:attr:`gt`,
      :meth:`load_ground_truth`), not at construction;
    - :meth:`compute_metrics` runs the same steps for every benchmark:
      :meth:`collect_predictions` (the first prediction of each image,
      through :meth:`first_per_image`, which logs the duplicates), the
      predictions written to ``outfile`` in the benchmark's official layout
      when one is given (:meth:`write_outfile`),
      :meth:`evaluate_predictions`, :meth:`report_result` (the log lines and
      any other output files), the curves saved to ``plot_file`` when one is
      given (:meth:`plot_result`) and the returned numbers
      (:meth:`to_metrics`).

    Args:
        outfile (str, optional): where :meth:`write_outfile` writes the
            predictions. Defaults to None (not written).
        plot_file (str, optional): the PNG :meth:`plot_result` writes.
            Defaults to None (no plot).
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): metric name prefix. Defaults to None
            (the class's ``default_prefix``).
    """

    #: The benchmark's name in the log messages.
    benchmark: str = ''

    def __init__(self,
                 outfile: Optional[str] = None,
                 plot_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.outfile = outfile
        self.plot_file = plot_file
        self._gt: Any = None

    @property
    def gt(self) -> Any:
        """The ground truth, read on first use."""
        if self._gt is None:
            self._gt = self.load_ground_truth()
        return self._gt

    @property
    def log_name(self) -> str:
        """How the log messages name the benchmark."""
        return self.benchmark

    def load_ground_truth(self) -> Any:
        """Read the benchmark's ground truth."""
        raise NotImplementedError

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep :meth:`sample_result` of each data sample.

        ``pred_instances.bboxes`` are ``x1 y1 x2 y2`` in original image
        coordinates (mmdet's test loop predicts with ``rescale=True``).
        """
        for data_sample in map(sample_dict, data_samples):
            self.results.append(self.sample_result(data_sample))

    def sample_result(self, data_sample: dict) -> tuple:
        """What :meth:`process` keeps of one data sample (a dict); its first
        element identifies the image."""
        raise NotImplementedError

    def result_key(self, item: tuple) -> str:
        """The image key of a kept item. Defaults to its first element."""
        return item[0]

    def first_per_image(
            self,
            results: Sequence[tuple],
            logger: MMLogger,
            check: Optional[Callable[[str], None]] = None
    ) -> 'OrderedDict[str, tuple]':
        """The first item of each image, in the order of ``results``.

        Args:
            results (Sequence[tuple]): the items of :meth:`process`.
            logger (MMLogger): logs the number of duplicates (a warning).
            check (Callable[[str], None], optional): called on each item's
                key, in order, before it is kept or dropped (to raise on a
                key the ground truth does not have).

        Returns:
            OrderedDict[str, tuple]: image key -> its first item.
        """
        kept: 'OrderedDict[str, tuple]' = OrderedDict()
        duplicates = 0
        for item in results:
            key = self.result_key(item)
            if check is not None:
                check(key)
            if key in kept:
                duplicates += 1
                continue
            kept[key] = item
        if duplicates:
            logger.warning(f'{self.log_name}: {duplicates} duplicate '
                           'prediction(s) for an image already seen; kept '
                           'the first')
        return kept

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate the collected predictions: the steps of the class
        docstring.

        Returns:
            dict[str, float]: :meth:`to_metrics`, or an empty dict when
            :meth:`evaluate_predictions` gives no result (nothing to
            evaluate against).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        preds = self.collect_predictions(results, logger)
        if self.outfile is not None:
            self.write_outfile(preds, logger)
        result = self.evaluate_predictions(preds, logger)
        if result is None:
            return {}
        self.report_result(result, preds, logger)
        if self.plot_file is not None:
            self.plot_result(result, logger)
        return self.to_metrics(result, preds, logger)

    def collect_predictions(self, results: list, logger: MMLogger) -> Any:
        """The predictions to evaluate, from the items of :meth:`process`
        (e.g. :meth:`first_per_image`, rearranged)."""
        raise NotImplementedError

    def write_outfile(self, preds: Any, logger: MMLogger) -> None:
        """Write ``preds`` to ``self.outfile`` and log where."""
        raise NotImplementedError

    def evaluate_predictions(self, preds: Any, logger: MMLogger) -> Any:
        """The benchmark's evaluation of ``preds``; None to return no
        metrics."""
        raise NotImplementedError

    def report_result(self, result: Any, preds: Any, logger: MMLogger) -> None:
        """Log the result (and write any other output of it)."""
        raise NotImplementedError

    def plot_result(self, result: Any, logger: MMLogger) -> None:
        """Save the curves to ``self.plot_file`` and log where."""
        raise NotImplementedError

    def to_metrics(self, result: Any, preds: Any,
                   logger: MMLogger) -> Dict[str, float]:
        """The numbers :meth:`compute_metrics` returns."""
        raise NotImplementedError
