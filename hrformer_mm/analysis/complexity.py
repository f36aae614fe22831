"""Parameter and multiply-accumulate counts in three conventions.

HRFormer's pose tables report GFLOPs as multiply-accumulates (MACs) of
convolutions and linear layers on the *unpadded* tokens, leaving out the
attention matrix products (``q @ k^T`` and ``attn @ v``).  What the network
actually executes also includes those products and the window padding.
Both are counted by :func:`count_complexity`, and every output says which
is which:

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

The HRFormer paper's ImageNet table was counted differently, by the
release's own torch.jit trace counter: :func:`count_traced_flops` follows
its rules op for op (see the comment above it).

:func:`config_complexity` counts a config's model at its task's input size
(what ``tools/analysis/complexity.py`` prints and the zoo's metafiles
hold).
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


# ---------------------------------------------------------------------------
# The HRFormer release's ImageNet convention: a torch.jit trace walk
# ---------------------------------------------------------------------------
#
# The HRFormer paper's ImageNet table (HRT-T / S / B: 1.83 / 3.56 / 13.71
# GFLOPs) comes from the release's own counter, ``cls/tools/flop_count.py``
# with ``cls/tools/jit_handles.py`` (detectron2's early fvcore-style
# counter), run by ``cls/test_flops.py`` on a 224 x 224 image under
# PyTorch 1.7.1 (``cls/README.md``).  It traces the model with
# ``torch.jit`` and adds, node by node of the traced graph:
#
# * ``aten::_convolution``: N x out pixels x C_out x (C_in / groups) x k x k;
# * ``aten::addmm``: rows x in x out (the bias is not counted);
# * ``aten::matmul``: elements of the first operand x last dim of the second;
# * ``aten::bmm``: batch x n x m x p;
# * ``aten::einsum``: the product of all index sizes (the release lists a
#   dozen two-operand equations, each priced so, and raises on others);
# * ``aten::batch_norm``: 4 per element;
# * ``aten::softmax``: 5 per element; ``aten::rsqrt``: 2 per element;
# * ``aten::dropout`` (traced in eval mode too): 1 per element;
# * ``aten::add``, ``add_``, ``mul``, ``sub``, ``div``, ``floor_divide``,
#   ``relu``, ``relu_``: 1 per element of the broadcast inputs;
#
# and nothing for every other op: layer_norm, gelu, hardswish, ``mul_``,
# pooling, upsampling, copies and views.
#
# Two things changed in PyTorch since 1.7.1, and the table depends on them;
# both are counted here as 1.7.1 executed them, by the same rules:
#
# * ``F.linear`` was Python in 1.7.1: a 2-D input with a bias ran
#   ``torch.addmm`` (counted as ``addmm``), anything else
#   ``input.matmul(weight.t())`` (``matmul``) then ``output += bias``
#   (``aten::add_``, one per output element).  Since 1.8 the trace records
#   one ``aten::linear``, which the release's table does not list: run
#   today, its counter skips every linear layer (HRT-T 1.67 instead of 1.83);
# * ``F.scaled_dot_product_attention`` (our window attention) did not exist;
#   the release's attention (torch 1.7.1's ``multi_head_attention_forward``
#   order) ran ``q * scaling`` (``aten::mul``, per query element),
#   ``torch.bmm(q, k^T)``, ``+ bias`` (``aten::add``, per logit, when there
#   is a bias / mask), ``softmax``, ``dropout`` (per logit) and
#   ``torch.bmm(attn, v)``: that is how one SDPA node is counted.
#
# Identity dropouts are ops of the graph in this convention, so where two
# implementations place their ``nn.Dropout(0)`` differently the ``dropout``
# line differs (HRFormer's reference: two in each FFN, none after the
# attention projection; ours: the reverse).

#: the release's names of the per-op totals
TRACED_ELEMENTWISE = ('aten::add', 'aten::add_', 'aten::mul', 'aten::sub',
                      'aten::div', 'aten::floor_divide', 'aten::relu',
                      'aten::relu_')


def _shape(value):
    """Shape of a traced value as the release's ``get_shape`` reads it:
    a tensor's sizes ([1] for a 0-d one), [1] for a number, None for
    anything else (modern signatures' string / None arguments)."""
    t = value.type()
    if value.isCompleteTensor():
        return list(t.sizes()) or [1]
    if t.kind() in ('IntType', 'FloatType', 'NumberType', 'BoolType'):
        return [1]
    return None


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _broadcast_elements(shapes) -> int:
    shapes = [s[::-1] for s in shapes if s is not None]
    longest = max(len(s) for s in shapes)
    return _prod(max(s[i] if i < len(s) else 1 for s in shapes)
                 for i in range(longest))


def _is_none(value) -> bool:
    return value.type().kind() == 'NoneType'


def linear_as_torch_1_7(ins, outs) -> Dict[str, int]:
    """An ``aten::linear`` node (its input and output values) priced as
    torch 1.7.1's ``F.linear`` ran it: ``addmm`` for a 2-D input with a
    bias, else ``matmul`` and, with a bias, ``aten::add_``.  Also the
    handle that makes the release's own counter count linears today."""
    x, w, y = _shape(ins[0]), _shape(ins[1]), _shape(outs[0])
    if len(x) == 2 and not _is_none(ins[2]):
        return {'addmm': x[0] * x[1] * w[0]}
    flops = {'matmul': _prod(x) * w[0]}
    if not _is_none(ins[2]):
        flops['aten::add_'] = _prod(y)
    return flops


def _traced_node_flops(kind: str, node) -> Dict[str, int]:
    ins, outs = list(node.inputs()), list(node.outputs())
    if kind == 'aten::_convolution':
        x, w, y = _shape(ins[0]), _shape(ins[1]), _shape(outs[0])
        return {'conv': x[0] * _prod(y[2:]) * y[1] * w[1] * _prod(w[2:])}
    if kind == 'aten::addmm':
        (rows, k), (_, n) = _shape(ins[1]), _shape(ins[2])
        return {'addmm': rows * k * n}
    if kind == 'aten::matmul':
        a, b = _shape(ins[0]), _shape(ins[1])
        return {'matmul': _prod(a) * b[-1]}
    if kind == 'aten::bmm':
        (t, n, k), (_, _, m) = _shape(ins[0]), _shape(ins[1])
        return {'bmm': t * n * k * m}
    if kind == 'aten::einsum':
        operands = [_shape(v) for v in ins[1].node().inputs()]
        if len(operands) < 2:
            return {'einsum': 0}  # a permutation
        sizes = {}
        eq = ins[0].toIValue().replace(' ', '').split('->')[0]
        for letters, shape in zip(eq.split(','), operands):
            sizes.update(zip(letters, shape))
        return {'einsum': _prod(sizes.values())}
    if kind == 'aten::batch_norm':
        return {'batchnorm': 4 * _prod(_shape(ins[0]))}
    if kind == 'aten::softmax':
        return {'softmax': 5 * _prod(_shape(ins[0]))}
    if kind == 'aten::rsqrt':
        return {'rsqrt': 2 * _prod(_shape(ins[0]))}
    if kind == 'aten::dropout':
        return {'dropout': _prod(_shape(ins[0]))}
    if kind in TRACED_ELEMENTWISE:
        return {kind: _broadcast_elements([_shape(v) for v in ins])}
    if kind == 'aten::linear':
        return linear_as_torch_1_7(ins, outs)
    if kind == 'aten::scaled_dot_product_attention':
        # as the release's attention (torch 1.7.1's order) ran it
        q, k, v = (_shape(t) for t in ins[:3])
        batch = _prod(q[:-2])
        logits = batch * q[-2] * k[-2]
        flops = {'aten::mul': _prod(q),
                 'bmm': logits * q[-1] + logits * v[-1],
                 'softmax': 5 * logits, 'dropout': logits}
        if not _is_none(ins[3]):
            flops['aten::add'] = logits
        return flops
    return {}


#: views, copies and indexing (most in the release's ignored list), not
#: reported; every other uncounted op is
#: reported in ``TracedFlops.skipped``
_TRACE_IGNORED = frozenset(('aten::Int', 'aten::size', 'aten::view',
                  'aten::reshape', 'aten::permute', 'aten::transpose',
                  'aten::contiguous', 'aten::slice', 'aten::select',
                  'aten::unsqueeze', 'aten::squeeze', 'aten::flatten',
                  'aten::cat', 'aten::index', 'aten::expand', 'aten::t',
                  'aten::to', 'aten::copy_', 'aten::detach', 'aten::zeros',
                  'aten::zeros_like', 'aten::empty', 'aten::full',
                  'aten::arange', 'aten::split_with_sizes', 'aten::chunk',
                  'aten::unbind', 'aten::split', 'aten::constant_pad_nd',
                  'aten::pad', 'aten::repeat', 'aten::clone',
                  'aten::numel', 'aten::ScalarImplicit'))


@dataclass
class TracedFlops:
    """Per-op totals of one traced forward in the HRFormer release's
    ImageNet convention (see above); ``skipped``: how often each op that
    counts nothing here ran (layer_norm, gelu, pooling, ...)."""
    by_op: Dict[str, int]
    skipped: Dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_op.values())


class _Traced(nn.Module):

    def __init__(self, model: nn.Module, call: Callable):
        super().__init__()
        self.model = model
        self.call = call

    def forward(self, *inputs):
        out = self.call(self.model, *inputs)
        return out if isinstance(out, (tuple, torch.Tensor)) else tuple(out)


def count_traced_flops(model: nn.Module, inputs: tuple,
                       call: Callable = None) -> TracedFlops:
    """Trace ``call(model, *inputs)`` (default ``model(*inputs)``) with
    ``torch.jit`` and count its graph in the HRFormer release's ImageNet
    convention."""
    import warnings
    from collections import Counter
    call = call or (lambda m, *xs: m(*xs))
    by_op, skipped = Counter(), Counter()
    with torch.no_grad(), warnings.catch_warnings():
        # shapes read as Python numbers: what the count relies on
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        graph, _ = torch.jit._get_trace_graph(_Traced(model, call),
                                              tuple(inputs))
    for node in graph.nodes():
        kind = node.kind()
        flops = _traced_node_flops(kind, node)
        if flops:
            by_op.update(flops)
        elif not (kind.startswith('prim::') or kind in _TRACE_IGNORED):
            skipped[kind] += 1
    return TracedFlops(dict(by_op), dict(skipped))


# ------------------------------------------------ a config's model, counted
#
# What ``tools/analysis/complexity.py`` prints and the zoo's metafiles
# record (tools/zoo.py counts the same forward on the meta device).

#: mmdet's COCO test scale (1333 x 800), as H x W
DET_SHAPE = (800, 1333)
#: ImageNet classifiers: the papers' 224 x 224
CLS_SHAPE = (224, 224)
#: RoIs the R-CNN heads see at test time: the RPN's max_per_img in mmdet's
#: Faster / Mask R-CNN configs (the mask head then runs on the first 100, as
#: on mmdet's 100 detections per image).
DET_PROPOSALS = 1000


def default_shape(cfg) -> tuple:
    """The input size (H, W) a config's model is counted at: a pose
    config's codec input size, mmdet's test scale, ImageNet's 224 x 224 or
    a segmentor's crop size."""
    if cfg.default_scope == 'mmpose':
        w, h = cfg.codec['input_size']
        return h, w
    if cfg.default_scope == 'mmdet':
        return DET_SHAPE
    if cfg.default_scope == 'mmpretrain':
        return CLS_SHAPE
    return tuple(cfg.crop_size)


def _detector_forward(model, x: torch.Tensor, proposals: int):
    """Backbone, neck, RPN head and, with ``proposals``, the RoI heads on
    that many boxes.  The RoI heads' cost depends on how many boxes they
    see, not where, so fixed random boxes stand in for the RPN's (whose
    number after NMS would depend on the weights).  A one-stage detector
    (FCOS): backbone, neck and its dense head."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    feats = model.extract_feat(x)
    if getattr(model, 'rpn_head', None) is None:
        model.bbox_head(feats)
        return
    model.rpn_head(feats)
    if proposals and getattr(model, 'roi_head', None) is not None:
        h, w = x.shape[-2:]
        g = torch.Generator().manual_seed(0)
        xy = torch.rand(proposals, 2, generator=g) * torch.tensor([w, h])
        wh = torch.rand(proposals, 2, generator=g) * torch.tensor([w, h]) / 4
        boxes = torch.cat([xy, (xy + wh).minimum(torch.tensor([w, h]))],
                          1).to(x.device)
        model.roi_head.forward(
            feats, [InstanceData(bboxes=boxes)],
            [DetDataSample(metainfo=dict(img_shape=(h, w)))])


def counted_forward(cfg, model, x: torch.Tensor,
                    proposals: int = DET_PROPOSALS):
    """What one pass runs, and what it covers: ``(forward, description)``."""
    if cfg.default_scope == 'mmdet':
        counted = 'backbone + neck + ' + (
            'RPN head' if getattr(model, 'rpn_head', None) is not None
            else 'dense head')
        roi_head = getattr(model, 'roi_head', None)
        if proposals and roi_head is not None:
            counted += f' + RoI heads ({proposals} proposals'
            # a cascade's (and HTC's) forward runs every stage's mask head
            # on every proposal, Mask R-CNN's its one on the first 100
            stages = getattr(roi_head, 'num_stages', None)
            if stages:
                counted += f', {stages} stages'
            if getattr(roi_head, 'with_mask', False):
                counted += (f', mask heads on all {proposals}' if stages
                            else f', mask head on {min(proposals, 100)}')
            counted += ')'
        return lambda: _detector_forward(model, x, proposals), counted
    return lambda: model(x, None, mode='tensor'), 'whole model'


def config_complexity(config: str, shape=None,
                      proposals: int = DET_PROPOSALS,
                      traced: bool = True) -> dict:
    """Parameters and GFLOPs of ``config``'s model, batch 1 at ``shape``
    (default: :func:`default_shape`).  ``proposals``: RoIs through a
    detector's RoI heads (0: stop at the RPN head).  ``traced``: for a
    classifier, also the traced count (``gflops_traced``, ``traced_by_op``:
    the HRFormer release's ImageNet convention)."""
    from hrformer_mm.engine.launch import build_model_from_config
    cfg, model = build_model_from_config(config)
    model.eval()
    h, w = shape or default_shape(cfg)
    x = torch.zeros(1, 3, h, w)
    forward, counted = counted_forward(cfg, model, x, proposals)
    result = count_complexity(model, forward)
    r = dict(config=config, shape=[h, w], counted=counted,
             **result.as_dict())
    if traced and cfg.default_scope == 'mmpretrain':
        t = count_traced_flops(
            model, (x, ), lambda m, t: m(t, None, mode='tensor'))
        r['gflops_traced'] = t.total / 1e9
        r['traced_by_op'] = t.by_op
    return r
