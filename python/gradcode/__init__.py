# SPDX-License-Identifier: MIT
"""gradcode for Python: the C++ header-only gradient-coding library, bound with pybind11.

Encode partial gradients so that the exact sum can be recovered although some workers (or edge
nodes) straggle; every decode is checked (never a silently wrong gradient) and returns a
`decode_report`.

Quick start::

    import numpy as np, gradcode
    code = gradcode.cyclic_repetition_code(nodes=6, partitions=6, tolerance=2)
    g = np.asfortranarray(np.random.rand(1000, 6))        # d x K partial gradients, one per column
    msgs = [code.encode(i, g) for i in range(6)]           # what node i sends
    ids = [0, 2, 3, 5]                                     # any n - s = 4 responders
    total, report = code.decode(ids, np.stack([msgs[i] for i in ids]).T)
    assert np.allclose(total, g.sum(axis=1))

Decisions (the API contract of this package):

* Names: the C++ class and parameter names (`cyclic_repetition_code(nodes=, partitions=,
  tolerance=)`, `hgc_code(workers=[3, 3, 3], partitions=9, edge_tolerance=1,
  worker_tolerance=1)`, ...). Introspection stays a method as in C++: `code.nodes()`,
  `code.partitions()`, `code.tolerance()`, `code.partitions_of(i)`, `code.encoding_matrix()`.
* dtype: float64 by default; `dtype=numpy.float32` (or "float32", torch.float32) selects the
  float instantiation. The classes are bound as `_gradcode.<name>_f64` / `_f32`; the names
  exported here are factories over them, and `isinstance(c, gradcode.cyclic_repetition_code)`
  holds for both. Each instance has `.dtype`.
* Layout: partial gradients are a d x K array, column-major (each partial gradient one contiguous
  column); received messages are d x f the same way, column j from node ids[j] —
  `numpy.stack(vectors).T` and `torch.stack(tensors).numpy().T` are exactly that. Any column stride
  >= d is accepted (e.g. a column slice). A 1-D vector is accepted where one column is meant.
* Zero copy: numpy arrays and CPU torch tensors (read through `tensor.detach().numpy()`, which
  shares the storage) are mapped, never copied. A C-ordered matrix, a wrong dtype, a list or a
  CUDA tensor raises `InvalidInput` saying what to pass instead — there are no silent copies.
* `out=`: 1-D, contiguous, writable, the code's dtype and the result's length; written in place and
  returned (the same object the caller passed, numpy array or torch tensor). Without `out=`, a new
  numpy array is returned. A refused decode leaves `out` untouched.
* decode returns `(out, report)`; encode returns `out`.
* Node ids: any sequence of ints; a flat worker index is not used for hierarchical codes — a worker
  is an `(edge, worker)` pair.
* The GIL is released while the C++ kernels run, so several Python threads can encode/decode on one
  code concurrently (the plan caches are thread-safe).
* Errors: `GradcodeError` is the base; `InvalidParameters` and `InvalidInput` are also ValueError,
  `NotDecodable` and `CorruptedResult` also RuntimeError. Messages are the C++ ones; the numbers
  are attributes too (`NotDecodable.received/needed`, `InvalidInput.node`,
  `CorruptedResult.suspects`).
* Pickling: every params/options struct pickles as its fields; a code pickles as (params, options)
  and is rebuilt on load (deterministic constructions: the same matrix).
* Install: `cmake --install <build>` puts the package in
  `<prefix>/lib/python3.X/dist-packages/gradcode` (GRADCODE_PYTHON_INSTALL_DIR), which Debian's
  /usr/bin/python3 searches for the prefixes /usr and /usr/local; elsewhere set PYTHONPATH.
"""

import numpy as _np

from . import _gradcode
from ._gradcode import (  # noqa: F401  (re-exported)
    CorruptedResult,
    GradcodeError,
    InvalidInput,
    InvalidParameters,
    NotDecodable,
    __version__,
    decode_options,
    decode_report,
)

__all__ = [
    "GradcodeError", "InvalidParameters", "InvalidInput", "NotDecodable", "CorruptedResult",
    "decode_report", "decode_options", "scalar_suffix",
]


def scalar_suffix(dtype):
    """'f64' or 'f32' for a numpy/torch dtype (or its name); InvalidParameters for anything else."""
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    try:
        d = _np.dtype(name if name in ("float32", "float64", "double", "float") else dtype)
    except TypeError:
        raise InvalidParameters(
            f"gradcode::invalid_parameters: dtype {dtype!r} is not supported; use numpy.float64 or numpy.float32") from None
    if d == _np.float64:
        return "f64"
    if d == _np.float32:
        return "f32"
    raise InvalidParameters(
        f"gradcode::invalid_parameters: dtype {d} is not supported; use numpy.float64 or numpy.float32")


class _Family(type):
    """Metaclass of the dtype-dispatching factories: calling the class builds the `_f64` or `_f32`
    instantiation; isinstance() accepts either."""

    def __call__(cls, *args, dtype=_np.float64, **kwargs):
        return getattr(_gradcode, f"{cls._cpp_name}_{scalar_suffix(dtype)}")(*args, **kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._variants())

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._variants())

    def _variants(cls):
        return tuple(getattr(_gradcode, f"{cls._cpp_name}_{s}") for s in ("f64", "f32")
                     if hasattr(_gradcode, f"{cls._cpp_name}_{s}"))


def _family(name, doc_from):
    impl = getattr(_gradcode, f"{doc_from}_f64")
    fam = _Family(name, (), {"_cpp_name": doc_from, "__module__": __name__,
                             "__doc__": (impl.__doc__ or "") + "\n\nKeyword dtype=numpy.float64 (default) or numpy.float32."})
    globals()[name] = fam
    __all__.append(name)
    return fam


# Every Scalar-templated C++ class: gradcode.<name>(..., dtype=) → _gradcode.<name>_f64 / _f32.
for _name in sorted({n.rsplit("_", 1)[0] for n in dir(_gradcode) if n.endswith("_f64")}):
    _family(_name, _name)

# Everything else (params structs, calculators, the JNCSS optimiser) as bound.
for _name in dir(_gradcode):
    if _name.startswith("_") or _name.endswith(("_f64", "_f32")) or _name in globals():
        continue
    globals()[_name] = getattr(_gradcode, _name)
    __all__.append(_name)

del _name
