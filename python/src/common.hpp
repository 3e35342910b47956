// SPDX-License-Identifier: MIT
// Shared by the translation units of the pybind11 extension gradcode._gradcode: zero-copy views of
// numpy arrays / CPU torch tensors as Eigen maps (DESIGN.md "Data shapes": d × K column-major),
// checked `out=` vectors, the dtype suffixes, and the binding helpers every code family uses.
// Policy (python/gradcode/__init__.py docstring): no silent copies — a layout or dtype that cannot be
// mapped raises gradcode.InvalidInput saying what to pass instead.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gradcode/core/codec.hpp"
#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode_python {

namespace py = pybind11;
using gradcode::Index;

template <class Scalar>
using cmatrix_map = Eigen::Map<const gradcode::matrix<Scalar>, 0, Eigen::OuterStride<>>;
template <class Scalar>
using vector_map = Eigen::Map<gradcode::vector<Scalar>>;
template <class Scalar>
using cvector_map = Eigen::Map<const gradcode::vector<Scalar>>;

/// "f64" / "f32": the suffix of the bound class names (cyclic_repetition_code_f64, ...).
template <class Scalar>
constexpr const char* suffix() {
  return std::is_same_v<Scalar, double> ? "f64" : "f32";
}
template <class Scalar>
constexpr const char* dtype_name() {
  return std::is_same_v<Scalar, double> ? "float64" : "float32";
}

/// Defined in module.cpp: registers the exception types and the translator (before any binding).
void bind_errors(py::module_& m);
void bind_report(py::module_& m);
void bind_core(py::module_& m);
void bind_codes(py::module_& m);
void bind_hierarchical(py::module_& m);
void bind_quantize_dynamic(py::module_& m);
void bind_optimize(py::module_& m);

[[noreturn]] inline void bad_input(const std::string& what) { throw gradcode::invalid_input(what); }

/// `obj` as a numpy array sharing its memory: a numpy array as is, a CPU torch tensor through
/// `tensor.detach().numpy()` (shares the storage). Anything else — lists, CUDA tensors — raises
/// InvalidInput (no silent copies).
inline py::array as_numpy(py::handle obj, const char* what) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  if (py::hasattr(obj, "detach") && py::hasattr(obj, "numpy") && py::hasattr(obj, "device")) {
    const auto device = py::str(obj.attr("device")).cast<std::string>();
    if (device != "cpu")
      bad_input(std::string(what) + " is a torch tensor on device " + device +
                "; gradcode reads host memory: pass tensor.cpu() (or keep the gradients on the CPU)");
    try {
      return obj.attr("detach")().attr("numpy")().cast<py::array>();
    } catch (py::error_already_set& e) {
      bad_input(std::string(what) + ": tensor.detach().numpy() failed (" + std::string(py::str(e.value())) +
                "); pass a plain CPU tensor, e.g. tensor.resolve_conj().resolve_neg()");
    }
  }
  bad_input(std::string(what) + " must be a numpy array or a CPU torch tensor, got " +
            std::string(py::str(py::type::handle_of(obj).attr("__name__"))) +
            " (gradcode does not copy: pass numpy.asarray(x, dtype=..., order=\"F\"))");
}

template <class Scalar>
void check_dtype(const py::array& a, const char* what) {
  if (!py::isinstance<py::array_t<Scalar>>(a))
    bad_input(std::string(what) + " has dtype " + std::string(py::str(a.dtype())) + ", the code works in " +
              dtype_name<Scalar>() + ": pass x.astype(numpy." + dtype_name<Scalar>() + ") or build the code with dtype=numpy." +
              (std::is_same_v<Scalar, double> ? "float32" : "float64") + " to match");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(Scalar) != 0)
    bad_input(std::string(what) + " is not aligned to its element size; pass numpy.require(x, requirements=\"AF\")");
}

/// A d × K column-major view of `obj` (no copy). Accepts a 2-D array whose columns are contiguous
/// (F-ordered, or any column stride ≥ d such as x.T of a C-ordered (K, d) array or a column slice),
/// and, when `allow_vector`, a 1-D contiguous array as one column.
template <class Scalar>
struct matrix_view {
  py::array keep;  // owns the buffer for the duration of the call
  cmatrix_map<Scalar> map;

  static matrix_view make(py::handle obj, const char* what, bool allow_vector = false) {
    py::array a = as_numpy(obj, what);
    check_dtype<Scalar>(a, what);
    const auto item = static_cast<py::ssize_t>(sizeof(Scalar));
    Index rows = 0, cols = 0, outer = 0;
    if (a.ndim() == 1 && allow_vector) {
      rows = a.shape(0);
      cols = 1;
      if (rows > 1 && a.strides(0) != item)
        bad_input(std::string(what) + " is a strided 1-D view; pass numpy.ascontiguousarray(x)");
      outer = std::max<Index>(rows, 1);
    } else if (a.ndim() == 2) {
      rows = a.shape(0);
      cols = a.shape(1);
      const auto s0 = a.strides(0), s1 = a.strides(1);
      const bool column_contiguous = rows <= 1 || s0 == item;
      if (!column_contiguous || (cols > 1 && (s1 <= 0 || s1 % item != 0 || s1 / item < rows))) {
        if (rows > 1 && cols > 1 && s1 == item && s0 == cols * item)
          bad_input(std::string(what) + " is a C-ordered (row-major) " + std::to_string(rows) + " × " + std::to_string(cols) +
                    " array; gradcode reads d × K column-major (each column one contiguous d-vector): pass x.T of a "
                    "C-ordered (K, d) array (numpy.stack(vectors).T, torch.stack(tensors).numpy().T) or numpy.asfortranarray(x)");
        bad_input(std::string(what) + " has strides (" + std::to_string(s0) + ", " + std::to_string(s1) +
                  ") bytes; gradcode needs each column contiguous (stride " + std::to_string(item) +
                  " along axis 0): pass numpy.asfortranarray(x)");
      }
      outer = cols > 1 ? s1 / item : std::max<Index>(rows, 1);
    } else {
      bad_input(std::string(what) + " must be a 2-D (d, columns) array" + (allow_vector ? " or a 1-D vector" : "") + ", got " +
                std::to_string(a.ndim()) + " dimensions");
    }
    const auto* data = static_cast<const Scalar*>(a.data());
    return matrix_view{std::move(a), cmatrix_map<Scalar>(data, rows, cols, Eigen::OuterStride<>(outer))};
  }
};

/// A read-only contiguous 1-D view of `obj` (no copy).
template <class Scalar>
struct cvector_view {
  py::array keep;
  cvector_map<Scalar> map;

  static cvector_view make(py::handle obj, const char* what) {
    py::array a = as_numpy(obj, what);
    check_dtype<Scalar>(a, what);
    if (a.ndim() != 1) bad_input(std::string(what) + " must be a 1-D vector, got " + std::to_string(a.ndim()) + " dimensions");
    if (a.shape(0) > 1 && a.strides(0) != static_cast<py::ssize_t>(sizeof(Scalar)))
      bad_input(std::string(what) + " is a strided view; pass numpy.ascontiguousarray(x)");
    const auto* data = static_cast<const Scalar*>(a.data());
    const Index n = a.shape(0);
    return cvector_view{std::move(a), cvector_map<Scalar>(data, n)};
  }
};

/// The output vector of an encode/decode: `out` (written in place: writable, 1-D, contiguous, the
/// code's dtype, length `length`) or, when None, a fresh numpy array. `result` is what the call
/// returns: the object the caller passed (numpy array or torch tensor), else the new array.
template <class Scalar>
struct out_view {
  py::object result;
  py::array keep;
  vector_map<Scalar> map;

  static out_view make(py::handle out, Index length, const char* what = "out") {
    if (out.is_none()) {
      py::array_t<Scalar> a(static_cast<py::ssize_t>(length));
      auto* data = a.mutable_data();
      return out_view{a, a, vector_map<Scalar>(data, length)};
    }
    py::array a = as_numpy(out, what);
    check_dtype<Scalar>(a, what);
    if (a.ndim() != 1)
      bad_input(std::string(what) + " must be a 1-D vector of length " + std::to_string(length) + ", got " +
                std::to_string(a.ndim()) + " dimensions");
    if (a.shape(0) != length)
      bad_input(std::string(what) + " has length " + std::to_string(a.shape(0)) + ", the result has length " +
                std::to_string(length));
    if (length > 1 && a.strides(0) != static_cast<py::ssize_t>(sizeof(Scalar)))
      bad_input(std::string(what) + " must be contiguous (it is written in place); pass numpy.empty(" + std::to_string(length) +
                ", dtype=numpy." + dtype_name<Scalar>() + ")");
    if (!a.writeable()) bad_input(std::string(what) + " is read-only; pass a writable array (it is written in place)");
    auto* data = static_cast<Scalar*>(a.mutable_data());
    return out_view{py::reinterpret_borrow<py::object>(out), std::move(a), vector_map<Scalar>(data, length)};
  }
};

/// Node ids as Index, from any sequence of ints (list, tuple, numpy integer array).
using id_list = std::vector<Index>;

/// A dense numpy copy of a sparse matrix (introspection only, small).
template <class Sparse>
py::array_t<double> dense_of(const Sparse& s) {
  py::array_t<double, py::array::f_style> a({static_cast<py::ssize_t>(s.rows()), static_cast<py::ssize_t>(s.cols())});
  auto* data = a.mutable_data();
  std::fill(data, data + s.rows() * s.cols(), 0.0);
  for (Index o = 0; o < s.outerSize(); ++o)
    for (typename Sparse::InnerIterator it(s, o); it; ++it)
      data[it.col() * s.rows() + it.row()] = static_cast<double>(it.value());
  return a;
}

/// (rows, cols, values) numpy arrays of the non-zeros of a sparse matrix, row-major order.
template <class Sparse>
py::tuple triplets_of(const Sparse& s) {
  const auto nnz = static_cast<py::ssize_t>(s.nonZeros());
  py::array_t<std::int64_t> r(nnz), c(nnz);
  py::array_t<double> v(nnz);
  auto *rp = r.mutable_data(), *cp = c.mutable_data();
  auto* vp = v.mutable_data();
  py::ssize_t e = 0;
  for (Index o = 0; o < s.outerSize(); ++o)
    for (typename Sparse::InnerIterator it(s, o); it; ++it, ++e) {
      rp[e] = it.row();
      cp[e] = it.col();
      vp[e] = static_cast<double>(it.value());
    }
  return py::make_tuple(r, c, v);
}

/// numpy copy of an Eigen vector.
template <class V>
py::array_t<typename V::Scalar> numpy_of(const V& v) {
  py::array_t<typename V::Scalar> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.data(), v.data() + v.size(), a.mutable_data());
  return a;
}

/// The Python list of a span of Index.
inline py::list list_of(std::span<const Index> s) {
  py::list l;
  for (Index i : s) l.append(i);
  return l;
}

/// A simple aggregate pickled as the tuple of its fields: `fields` is a tuple of member pointers.
/// Gives __getstate__/__setstate__ and __eq__/__repr__ from the same list.
template <class T, class Class, class... Members>
void aggregate_protocol(Class& cls, const char* name, std::pair<const char*, Members T::*>... fields) {
  cls.def(py::pickle([fields...](const T& v) { return py::make_tuple(v.*(fields.second)...); },
                     [fields...](const py::tuple& t) {
                       if (t.size() != sizeof...(Members)) throw gradcode::invalid_input("cannot unpickle: wrong state size");
                       T v{};
                       std::size_t i = 0;
                       ((v.*(fields.second) = t[i++].template cast<Members>()), ...);
                       return v;
                     }));
  // Field by field through Python's ==, so fields that are structs (or lists of them) compare by
  // their own bound __eq__.
  cls.def(
      "__eq__",
      [fields...](const T& a, const T& b) { return (py::cast(a.*(fields.second)).equal(py::cast(b.*(fields.second))) && ...); },
      py::is_operator());
  cls.def("__repr__", [name, fields...](const T& v) {
    std::string s = std::string("gradcode.") + name + "(";
    bool first = true;
    ((s += (first ? "" : ", ") + std::string(fields.first) + "=" + std::string(py::repr(py::cast(v.*(fields.second)))),
      first = false),
     ...);
    return s + ")";
  });
  cls.attr("__hash__") = py::none();
}

}  // namespace gradcode_python
