from .complexity import (Complexity, TracedFlops, count_complexity,
                         count_traced_flops)

__all__ = ['Complexity', 'TracedFlops', 'count_complexity',
           'count_traced_flops']
