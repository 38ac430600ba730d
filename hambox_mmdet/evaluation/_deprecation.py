# Copyright (c) hambox_mmdet contributors. All rights reserved.
"""The evaluation API's names before the three benchmarks shared them
(issue #20), importable for one more release with a
:class:`DeprecationWarning`."""
import warnings
from typing import Any, Callable, Dict, Mapping


def deprecated_names(module: str, renamed: Mapping[str, str],
                     namespace: Dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) for renamed names.

    Args:
        module (str): the module's name, for the messages.
        renamed (Mapping[str, str]): old name -> new name, a name of
            ``namespace`` or a dotted path from one (``'wider.evaluate'``).
        namespace (dict): the module's ``globals()``.

    Returns:
        Callable[[str], Any]: ``__getattr__``: an old name gives the object
        of its new name, with a :class:`DeprecationWarning` naming the new
        one; any other unknown name raises :class:`AttributeError`.
    """

    def __getattr__(name: str) -> Any:
        new = renamed.get(name)
        if new is None:
            raise AttributeError(
                f'module {module!r} has no attribute {name!r}')
        warnings.warn(
            f'{module}.{name} is deprecated and will be removed in the next '
            f'release; use {module}.{new}',
            DeprecationWarning,
            stacklevel=2)
        head, *rest = new.split('.')
        obj = namespace[head]
        for part in rest:
            obj = getattr(obj, part)
        return obj

    return __getattr__
