# Copyright (c) hambox_mmdet contributors. All rights reserved.
from .hambox_assigner import HAMBoxAssigner
from .level_atss_assigner import LevelATSSAssigner
from .mining_properties import (MINING_KEYS, MiningProperties,
                                mining_properties, publish_mining_properties)

__all__ = [
    'HAMBoxAssigner', 'LevelATSSAssigner', 'MINING_KEYS', 'MiningProperties',
    'mining_properties', 'publish_mining_properties'
]
