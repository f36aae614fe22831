"""Whether the current call is being captured into a graph."""
import torch

__all__ = ['capturing_graph']


def capturing_graph() -> bool:
    """True while torch.compile (dynamo), TorchScript tracing or scripting,
    or an ONNX export records the model: eager-only shortcuts (caches
    keyed on tensor identity, private kernels) must step aside then, so the
    graph holds the standard operators.

    The compiler check comes first: dynamo does not trace past it.
    """
    return (torch.compiler.is_compiling() or torch.jit.is_scripting()
            or torch.jit.is_tracing() or torch.onnx.is_in_onnx_export())
