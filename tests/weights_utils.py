"""Checkpoints in the key schemes of other HRFormer releases, written from a
state dict of our own by the rules of each release (tests/test_weights/;
the golden-output tests check those rules against the releases' own
code)."""
import re

import torch

# small enough that every case builds in a fraction of a second
HRFORMER_ARCH = dict(channels=(8, 16, 32, 64), num_heads=(1, 2, 2, 4),
                     num_modules=(1, 1, 1), num_blocks=1)


def relative_position_index(bias_table):
    """The (blank) index buffer the reference release and mmpose save next
    to each ``relative_position_bias_table`` of ``(2w - 1)**2`` rows."""
    window = (int(round(bias_table.shape[0]**0.5)) + 1) // 2
    return torch.zeros(window**2, window**2, dtype=torch.long)


def hrformer_reference_backbone(state, prefix=''):
    """The reference release's keys for the entries under ``prefix``: split
    q/k/v, ``out_proj``, ``mlp`` and the index buffers it saves; other
    entries are kept as they are."""
    out = {}
    for k, v in state.items():
        if not k.startswith(prefix):
            out[k] = v
            continue
        m = re.match(r'^(.*\.attn\.attn)\.qkv\.(weight|bias)$', k)
        if m:
            for name, part in zip('qkv', v.chunk(3, dim=0)):
                out[f'{m.group(1)}.{name}_proj.{m.group(2)}'] = part.clone()
            continue
        k = k.replace('.attn.attn.proj.', '.attn.attn.out_proj.')
        out[k.replace('.ffn.', '.mlp.')] = v
        if k.endswith('relative_position_bias_table'):
            out[k.replace('bias_table', 'index')] = \
                relative_position_index(v)
    return out


def hrformer_reference_pose(state):
    """A whole pose model (``backbone.*``, ``head.*``) as the reference
    ``pose/`` release saves it (``keypoint_head.*``)."""
    out = hrformer_reference_backbone(state, 'backbone.')
    return {('keypoint_head.' + k[5:] if k.startswith('head.') else k): v
            for k, v in out.items()}


def reference_imagenet_head(stream1_channels, seed=0):
    """The classification head of a reference ``cls/`` HRFormer, which
    conversion and loading drop: the first incre module's first conv, the
    final layer, the linear classifier."""
    g = torch.Generator().manual_seed(seed)
    return {
        'incre_modules.0.0.conv1.weight':
        torch.randn(32, stream1_channels, 1, 1, generator=g),
        'final_layer.0.weight': torch.randn(2048, 1024, 1, 1, generator=g),
        'classifier.weight': torch.randn(1000, 2048, generator=g),
        'classifier.bias': torch.randn(1000, generator=g),
    }


def hrformer_reference_imagenet(bare_state,
                                stream1_channels=HRFORMER_ARCH['channels'][0],
                                seed=0):
    """A bare backbone's state in the reference ``cls/`` release's keys,
    with its classification head."""
    out = hrformer_reference_backbone(bare_state)
    out.update(reference_imagenet_head(stream1_channels, seed))
    return out


def hrformer_mmpose(state):
    """mmpose 1.x: our keys plus the index buffers it saves."""
    out = dict(state)
    for k, v in state.items():
        if k.endswith('relative_position_bias_table'):
            out[k.replace('bias_table', 'index')] = \
                relative_position_index(v)
    return out
