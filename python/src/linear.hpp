// SPDX-License-Identifier: MIT
// Binding helpers for gradcode::linear_code<Scalar> and its subclasses (the single-layer codes of
// codes/, also used by the two-stage code's stage-2 code): one set of methods — nodes, partitions,
// tolerance, partitions_of, encoding_matrix, encode, encode_held, decodable, plan, decode, verify —
// shared by every bound single-layer class, and decoding_plan<Scalar>.
#pragma once

#include <memory>
#include <string>

#include "common.hpp"
#include "gradcode/codes/linear_code.hpp"
#include "gradcode/core/condition_report.hpp"
#include "gradcode/core/decoding_plan.hpp"
#include "gradcode/core/pattern.hpp"

namespace gradcode_python {

/// A bound code: the C++ code plus the parameters and options it was built from (pickling,
/// `params`).
template <class Code, class Params, class Options = gradcode::decode_options>
struct with_params : Code {
  Params params;
  Options opts;
  with_params(const Params& p, const Options& o) : Code(p, o), params(p), opts(o) {}
};

template <class Options>
Options options_or_default(const std::optional<Options>& o) {
  return o ? *o : Options{};
}

/// decoding_plan_f64 / _f32 (core/decoding_plan.hpp), held by shared_ptr as the codes' caches do.
template <class Scalar>
void bind_plan(py::module_& m) {
  using plan = gradcode::decoding_plan<Scalar>;
  const std::string name = std::string("decoding_plan_") + suffix<Scalar>();
  if (py::hasattr(m, name.c_str())) return;
  py::class_<plan, std::shared_ptr<plan>>(m, name.c_str(),
                                          "A solved decoding step for one responder pattern: coefficients a with a^T B_F = 1^T "
                                          "(checked), applied as sum_j a_j * message_j. Immutable, shared with the code's cache.")
      .def(
          "responders", [](const plan& p) { return p.responders().ids(); }, "Responder ids, ascending.")
      .def(
          "coefficients", [](const plan& p) { return numpy_of(p.coefficients()); },
          "a_i per node (0 for non-responders), as solved in double (a copy).")
      .def("coefficient", &plan::coefficient, py::arg("node"))
      .def("residual", &plan::residual, "||B_F^T a - 1||_inf of the solve.")
      .def("amplification", &plan::amplification, "sum |a_j| ||b_j||_1, the rounding amplification of this decode.")
      .def("smallest_accurate_norm", &plan::smallest_accurate_norm, py::arg("d"))
      .def(
          "apply",
          [](const plan& p, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, msg.map.rows());
            {
              py::gil_scoped_release nogil;
              p.apply(ids, msg.map, o.map);
            }
            return o.result;
          },
          py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "out = sum_j a_{ids[j]} messages[:, j]; messages is d x len(ids) column-major. Returns out.");
}

/// linear_code_f64 / _f32: the base class of every bound single-layer code, with the methods they
/// all have (codes/linear_code.hpp). Bound once per module; the code classes derive from it.
template <class Scalar>
void bind_linear_base(py::module_& m) {
  using code = gradcode::linear_code<Scalar>;
  const std::string name = std::string("linear_code_") + suffix<Scalar>();
  if (py::hasattr(m, name.c_str())) return;
  bind_plan<Scalar>(m);
  py::class_<code> cls(m, name.c_str(),
                       "A linear gradient code given by its encoding matrix B (n x K, row i = what node i sends): the base "
                       "class of the single-layer codes. Partials are d x K column-major; messages d x f column-major.");
  cls.def(
         "nodes", [](const code& c) { return c.nodes(); }, "n, the number of nodes (workers).")
      .def(
          "partitions", [](const code& c) { return c.partitions(); }, "K, the number of data partitions.")
      .def(
          "tolerance", [](const code& c) { return c.tolerance(); }, "s, stragglers every pattern of which is tolerated.")
      .def(
          "responders_needed", [](const code& c) { return c.responders_needed(); }, "n - s: responders that always suffice.")
      .def(
          "load", [](const code& c, Index node) { return c.load(node); }, py::arg("node"), "Partitions node `node` computes on.")
      .def(
          "partitions_of", [](const code& c, Index node) { return list_of(c.partitions_of(node)); }, py::arg("node"),
          "The partitions node `node` holds, ascending (the column order encode_held reads).")
      .def(
          "message_length", [](const code& c, Index d) { return c.message_length(d); }, py::arg("d"),
          "Scalars per message for gradients of length d (d for a linear code).")
      .def(
          "encoding_matrix", [](const code& c) { return dense_of(c.encoding_matrix()); },
          "B as a dense float64 numpy array, nodes x partitions (a copy; B is sparse in C++).")
      .def(
          "encoding_entries", [](const code& c) { return triplets_of(c.encoding_matrix()); },
          "B's non-zeros as (rows, cols, values) numpy arrays (int64, int64, float64), row-major order.")
      .def(
          "support",
          [](const code& c) {
            py::list l;
            for (Index i = 0; i < c.nodes(); ++i) l.append(list_of(c.support().partitions_of(i)));
            return l;
          },
          "Per node, the partitions it holds (list of lists).")
      .def_property_readonly("options", [](const code& c) { return c.options(); })
      .def_property_readonly(
          "dtype", [](const code&) { return py::dtype::of<Scalar>(); }, "numpy dtype of the data this code works on.")
      .def(
          "encode",
          [](const code& c, Index node, py::handle partials, py::handle out) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            auto o = out_view<Scalar>::make(out, c.message_length(in.map.rows()));
            {
              py::gil_scoped_release nogil;
              c.encode(node, in.map, o.map);
            }
            return o.result;
          },
          py::arg("node"), py::arg("partials"), py::kw_only(), py::arg("out") = py::none(),
          "Node `node`'s message sum_k B_ik g_k from the d x K column-major partial gradients (only the columns it holds "
          "are read). Written into `out` (1-D, contiguous, writable, length d) or a new array; returns it.")
      .def(
          "encode_held",
          [](const code& c, Index node, py::handle held, py::handle out) {
            auto in = matrix_view<Scalar>::make(held, "held", true);
            auto o = out_view<Scalar>::make(out, c.message_length(in.map.rows()));
            {
              py::gil_scoped_release nogil;
              c.encode_held(node, in.map, o.map);
            }
            return o.result;
          },
          py::arg("node"), py::arg("held"), py::kw_only(), py::arg("out") = py::none(),
          "Node `node`'s message from only the partitions it holds: `held` is d x load(node), columns in "
          "partitions_of(node) order.")
      .def(
          "decodable", [](const code& c, const id_list& ids) { return c.decodable(gradcode::pattern::from_ids(c.nodes(), ids)); },
          py::arg("ids"),
          "True when the responders `ids` suffice (solves and caches the plan). Raises InvalidInput on an out-of-range or "
          "repeated id.")
      .def(
          "plan",
          [](const code& c, const id_list& ids) {
            return std::const_pointer_cast<gradcode::decoding_plan<Scalar>>(c.plan(gradcode::pattern::from_ids(c.nodes(), ids)));
          },
          py::arg("ids"), "The decoding plan for responders `ids` (cached). Raises NotDecodable.")
      .def(
          "decode",
          [](const code& c, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, msg.map.rows());
            gradcode::decode_report report;
            {
              py::gil_scoped_release nogil;
              report = c.decode(ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, report);
          },
          py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "sum_k g_k from the messages of nodes `ids`: messages is d x len(ids) column-major (column j from ids[j]; "
          "numpy.stack(vectors).T). Returns (out, decode_report). Raises NotDecodable / InvalidInput and leaves `out` "
          "untouched then.")
      .def(
          "verify",
          [](const code& c, double max_exhaustive, Index random_subsets, std::uint64_t seed) {
            return c.verify({.max_exhaustive = max_exhaustive, .random_subsets = random_subsets, .seed = seed});
          },
          py::kw_only(), py::arg("max_exhaustive") = 5000.0, py::arg("random_subsets") = Index{2000},
          py::arg("seed") = std::uint64_t{0x5eed},
          "Span-condition check over all (or random) sets of n - s responders; a span_report (core/span_verifier.hpp).")
      .def(
          "condition",
          [](const code& c, Index stragglers, std::uint64_t exhaustive_limit, Index samples, std::uint64_t seed) {
            py::gil_scoped_release nogil;
            return gradcode::condition_of(
                c, {.stragglers = stragglers, .exhaustive_limit = exhaustive_limit, .samples = samples, .seed = seed});
          },
          py::kw_only(), py::arg("stragglers") = Index{-1}, py::arg("exhaustive_limit") = std::uint64_t{2000},
          py::arg("samples") = Index{200}, py::arg("seed") = std::uint64_t{1},
          "The decode's rounding amplification over every pattern of `stragglers` (default: the tolerance) stragglers, "
          "or `samples` seeded ones when there are more than exhaustive_limit: a condition_report "
          "(core/condition_report.hpp).")
      .def("max_relative_error", [](const code& c) { return c.max_relative_error(); })
      .def("max_amplification", [](const code& c) { return c.max_amplification(); })
      .def("cached_plans", [](const code& c) { return c.cached_plans(); });
}

}  // namespace gradcode_python
