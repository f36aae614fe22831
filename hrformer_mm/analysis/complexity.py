"""Parameter and multiply-accumulate counts in two conventions.

HRFormer's papers report GFLOPs as multiply-accumulates (MACs) of
convolutions and linear layers on the *unpadded* tokens, leaving out the
attention matrix products (``q @ k^T`` and ``attn @ v``).  What the network
actually executes also includes those products and the window padding.
Both are counted here, and every output says which is which:

* ``paper``: conv + linear MACs, attention projections counted on the
  unpadded tokens, no attention products;
* ``complete``: conv + linear MACs as executed (padded windows) plus the two
  attention products.

Other attention modules (HRViT's stripe attention) describe their own
matrix products through an ``attention_macs(x)`` method, which this counter
calls on each module input: ``complete`` adds them, ``paper`` does not (its
projections already act on unpadded tokens).  ``nn.MultiheadAttention``
(PVT v2's spatial-reduction attention, through mmcv) multiplies its input
projections by ``F.multi_head_attention_forward`` rather than through
``nn.Linear`` modules, so its four projections are counted from its query
and key lengths in both conventions, its two products in ``complete``.

Counting uses forward hooks, so it also covers heads from mmpose / mmseg /
mmdet, transposed convs (Mask R-CNN's mask upsampling) included.
Element-wise work (norms, activations, softmax, resizing, pooling) is
counted in neither, as in the papers; nor are a detector's RoIAlign sampling
and NMS.  (mmengine's ``get_model_complexity_info`` silently drops
``F.scaled_dot_product_attention`` and custom ops such as torchvision's
``roi_align`` and ``nms``, which is why this counter exists.)
"""
from dataclasses import dataclass
from typing import Callable, Dict

import torch
import torch.nn as nn

from hrformer_mm.models.layers import (LocalWindowAttention,
                                       WindowMultiHeadAttention)


@dataclass
class Complexity:
    params: int
    paper_macs: int
    complete_macs: int

    def as_dict(self) -> Dict[str, float]:
        return dict(params_m=self.params / 1e6,
                    gflops_paper=self.paper_macs / 1e9,
                    gflops_complete=self.complete_macs / 1e9)


def count_complexity(model: nn.Module, forward: Callable[[], object]
                     ) -> Complexity:
    """Count ``model``'s MACs while ``forward()`` runs one batch-1 pass."""
    totals = dict(paper=0, complete=0)
    # unpadded / padded token ratio of the attention module being executed
    ratio_of: Dict[int, float] = {}
    owner: Dict[int, int] = {}
    for m in model.modules():
        if isinstance(m, LocalWindowAttention):
            for sub in m.modules():
                if isinstance(sub, nn.Linear):
                    owner[id(sub)] = id(m)

    def conv_hook(m, inputs, out):
        macs = out.numel() * (m.in_channels // m.groups) * \
            m.kernel_size[0] * m.kernel_size[1]
        totals['paper'] += macs
        totals['complete'] += macs

    def deconv_hook(m, inputs, out):
        # every input element scatters into k x k x out/groups outputs
        macs = inputs[0].numel() * (m.out_channels // m.groups) * \
            m.kernel_size[0] * m.kernel_size[1]
        totals['paper'] += macs
        totals['complete'] += macs

    def linear_hook(m, inputs, out):
        macs = inputs[0].numel() // m.in_features * m.in_features * \
            m.out_features
        totals['complete'] += macs
        totals['paper'] += int(macs * ratio_of.get(owner.get(id(m)), 1.0))

    def window_pre_hook(m, inputs):
        _, H, W, _ = inputs[0].shape
        K = m.window_size
        Hp, Wp = -(-H // K) * K, -(-W // K) * K
        ratio_of[id(m)] = H * W / (Hp * Wp)

    def attention_hook(m, inputs, out):
        bw, n, c = inputs[0].shape
        totals['complete'] += 2 * bw * n * n * c  # q @ k^T and attn @ v

    def torch_attention_hook(m, args, kwargs, out):
        q = kwargs.get('query', args[0] if args else None)
        k = kwargs.get('key', args[1] if len(args) > 1 else q)
        if m.batch_first:
            (b, nq, c), nk = q.shape, k.shape[1]
        else:
            (nq, b, c), nk = q.shape, k.shape[0]
        proj = b * (2 * nq + 2 * nk) * c * c  # q, out on nq; k, v on nk
        totals['paper'] += proj
        totals['complete'] += proj + 2 * b * nq * nk * c

    def declared_attention_hook(m, inputs, out):
        totals['complete'] += m.attention_macs(inputs[0])

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.ConvTranspose2d):
            handles.append(m.register_forward_hook(deconv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, LocalWindowAttention):
            handles.append(m.register_forward_pre_hook(window_pre_hook))
        elif isinstance(m, nn.MultiheadAttention):
            handles.append(m.register_forward_hook(torch_attention_hook,
                                                   with_kwargs=True))
        elif isinstance(m, WindowMultiHeadAttention):
            handles.append(m.register_forward_hook(attention_hook))
        elif callable(getattr(m, 'attention_macs', None)):
            handles.append(m.register_forward_hook(declared_attention_hook))
    try:
        with torch.no_grad():
            forward()
    finally:
        for h in handles:
            h.remove()
    params = sum(p.numel() for p in model.parameters())
    return Complexity(params, totals['paper'], totals['complete'])
