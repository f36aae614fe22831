from .complexity import (Complexity, TracedFlops, config_complexity,
                         count_complexity, count_traced_flops)

__all__ = ['Complexity', 'TracedFlops', 'config_complexity',
           'count_complexity', 'count_traced_flops']
