// SPDX-License-Identifier: MIT
// The pybind11 extension gradcode._gradcode (python/gradcode/__init__.py re-exports it): the
// module itself, gradcode's typed errors as Python exceptions (core/errors.hpp), and the types
// several families share: decode_report, decode_options, assignment, worker_id, the construction
// and point_family enums, robust_options and robust_report. The code families are bound in the other TUs of python/src/.
#include <string>

#include "common.hpp"
#include "gradcode/codes/construction.hpp"
#include "gradcode/codes/linear_code.hpp"
#include "gradcode/core/assignment.hpp"
#include "gradcode/core/condition_report.hpp"
#include "gradcode/core/span_verifier.hpp"
#include "gradcode/core/worker_id.hpp"
#include "gradcode/robust/evaluation_points.hpp"
#include "gradcode/robust/reed_solomon.hpp"
#include "gradcode/version.hpp"

namespace gradcode_python {

namespace {
// Created once at import; the module (and so these types) lives as long as the interpreter.
PyObject* g_base = nullptr;
PyObject* g_invalid_parameters = nullptr;
PyObject* g_invalid_input = nullptr;
PyObject* g_not_decodable = nullptr;
PyObject* g_corrupted_result = nullptr;

PyObject* new_exception(py::module_& m, const char* name, const char* doc, PyObject* bases) {
  const std::string qualified = std::string("gradcode.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // add_object steals nothing: it increfs
  return type;
}

/// Raises `type(what)` with the given attributes set on the exception object.
void raise(PyObject* type, const char* what, std::initializer_list<std::pair<const char*, py::object>> attrs) {
  py::object instance = py::reinterpret_borrow<py::object>(type)(py::str(what));
  for (const auto& [name, value] : attrs) instance.attr(name) = value;
  PyErr_SetObject(type, instance.ptr());
}
}  // namespace

void bind_errors(py::module_& m) {
  g_base = new_exception(m, "GradcodeError",
                         "Base of gradcode's errors. Every message starts with the C++ tag, e.g. "
                         "'gradcode::not_decodable: 4 of 6 nodes responded, 5 needed ...'.",
                         PyExc_Exception);
  py::tuple value_bases = py::make_tuple(py::handle(g_base), py::handle(PyExc_ValueError));
  py::tuple runtime_bases = py::make_tuple(py::handle(g_base), py::handle(PyExc_RuntimeError));
  g_invalid_parameters = new_exception(m, "InvalidParameters",
                                       "gradcode::invalid_parameters: infeasible code parameters, raised by the constructor; the "
                                       "message names the constraint and a value that would fit.",
                                       value_bases.ptr());
  g_invalid_input = new_exception(m, "InvalidInput",
                                  "gradcode::invalid_input: bad call data (shapes, dtype, layout, duplicate or out-of-range "
                                  "ids, NaN/Inf). Attribute `node`: the offending node, or -1.",
                                  value_bases.ptr());
  g_not_decodable = new_exception(m, "NotDecodable",
                                  "gradcode::not_decodable: too few results or a pattern outside the tolerance. "
                                  "Attributes `received` and `needed`.",
                                  runtime_bases.ptr());
  g_corrupted_result = new_exception(m, "CorruptedResult",
                                     "gradcode::corrupted_result: corruption detected beyond the correction budget. "
                                     "Attribute `suspects`: the nodes identified (possibly empty).",
                                     runtime_bases.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gradcode::invalid_parameters& e) {
      raise(g_invalid_parameters, e.what(), {});
    } catch (const gradcode::invalid_input& e) {
      raise(g_invalid_input, e.what(), {{"node", py::int_(e.node())}});
    } catch (const gradcode::not_decodable& e) {
      raise(g_not_decodable, e.what(), {{"received", py::int_(e.received())}, {"needed", py::int_(e.needed())}});
    } catch (const gradcode::corrupted_result& e) {
      raise(g_corrupted_result, e.what(), {{"suspects", py::cast(e.suspects())}});
    }
  });
}

void bind_report(py::module_& m) {
  using gradcode::decode_report;
  py::class_<decode_report> r(m, "decode_report",
                              "What a decode did (core/codec.hpp). Returned by every decode; a refused decode raises "
                              "and leaves `out` untouched.");
  r.def(py::init(
            [](std::vector<Index> used, std::vector<Index> corrupted, double amplification, double estimated_error, bool exact) {
              return decode_report{.used = std::move(used),
                                   .corrupted = std::move(corrupted),
                                   .amplification = amplification,
                                   .estimated_error = estimated_error,
                                   .exact = exact};
            }),
        py::kw_only(), py::arg("used") = std::vector<Index>{}, py::arg("corrupted") = std::vector<Index>{},
        py::arg("amplification") = 1.0, py::arg("estimated_error") = 0.0, py::arg("exact") = true)
      .def_readwrite("used", &decode_report::used, "Node ids the result was computed from, ascending.")
      .def_readwrite("corrupted", &decode_report::corrupted,
                     "Node ids located as corrupted and excluded, ascending (empty for codes without error location).")
      .def_readwrite("amplification", &decode_report::amplification,
                     "How much the decode amplifies the relative rounding of its inputs (1 for a plain sum).")
      .def_readwrite("estimated_error", &decode_report::estimated_error,
                     "Estimated relative error of the accepted result (<= the code's max_relative_error).")
      .def_readwrite("exact", &decode_report::exact,
                     "False when the result is an unbiased estimate of the sum (1-bit GC-DL), not the sum.");
  aggregate_protocol<decode_report>(
      r, "decode_report", std::pair{"used", &decode_report::used}, std::pair{"corrupted", &decode_report::corrupted},
      std::pair{"amplification", &decode_report::amplification}, std::pair{"estimated_error", &decode_report::estimated_error},
      std::pair{"exact", &decode_report::exact});

  using gradcode::span_report;
  py::class_<span_report> sr(m, "span_report",
                             "What verify() found (core/span_verifier.hpp): the span condition over all (or random) "
                             "responder sets.");
  sr.def(py::init<>())
      .def_readwrite("satisfied", &span_report::satisfied, "No checked subset failed.")
      .def_readwrite("exhaustive", &span_report::exhaustive, "All C(n, f) subsets were checked.")
      .def_readwrite("subsets_checked", &span_report::subsets_checked)
      .def_readwrite("worst_residual", &span_report::worst_residual, "max ||B_F^T a - 1||_inf over the checked subsets.")
      .def_readwrite("worst_amplification", &span_report::worst_amplification, "max sum_j |a_j| ||b_j||_1.")
      .def_readwrite("worst_subset", &span_report::worst_subset, "The subset with the worst residual.")
      .def_readwrite("first_failing_subset", &span_report::first_failing_subset, "Empty when satisfied.");
  aggregate_protocol<span_report>(
      sr, "span_report", std::pair{"satisfied", &span_report::satisfied}, std::pair{"exhaustive", &span_report::exhaustive},
      std::pair{"subsets_checked", &span_report::subsets_checked}, std::pair{"worst_residual", &span_report::worst_residual},
      std::pair{"worst_amplification", &span_report::worst_amplification}, std::pair{"worst_subset", &span_report::worst_subset},
      std::pair{"first_failing_subset", &span_report::first_failing_subset});

  using gradcode::condition_report;
  py::class_<condition_report> cr(m, "condition_report",
                                  "What condition() found (core/condition_report.hpp): the rounding amplification A of "
                                  "the decode over all or sampled patterns of `stragglers` stragglers, and how many "
                                  "float32 (A above ~210) and float64 (A above ~1.1e6) would refuse.");
  cr.def(py::init<>())
      .def_readwrite("nodes", &condition_report::nodes)
      .def_readwrite("stragglers", &condition_report::stragglers)
      .def_readwrite("patterns", &condition_report::patterns, "Patterns examined.")
      .def_readwrite("exhaustive", &condition_report::exhaustive, "Every pattern was examined.")
      .def_readwrite("not_spanning", &condition_report::not_spanning, "Patterns whose responders do not span 1 at all.")
      .def_readwrite("worst", &condition_report::worst, "Largest A over the spanning patterns.")
      .def_readwrite("median", &condition_report::median)
      .def_readwrite("p90", &condition_report::p90)
      .def_readwrite("p99", &condition_report::p99)
      .def_readwrite("refused_float", &condition_report::refused_float, "Patterns float32 would refuse (not_spanning included).")
      .def_readwrite("refused_double", &condition_report::refused_double,
                     "Patterns float64 would refuse (not_spanning included).")
      .def("share_refused_float", &condition_report::share_refused_float)
      .def("share_refused_double", &condition_report::share_refused_double);
  aggregate_protocol<condition_report>(
      cr, "condition_report", std::pair{"nodes", &condition_report::nodes},
      std::pair{"stragglers", &condition_report::stragglers}, std::pair{"patterns", &condition_report::patterns},
      std::pair{"exhaustive", &condition_report::exhaustive}, std::pair{"not_spanning", &condition_report::not_spanning},
      std::pair{"worst", &condition_report::worst}, std::pair{"median", &condition_report::median},
      std::pair{"p90", &condition_report::p90}, std::pair{"p99", &condition_report::p99},
      std::pair{"refused_float", &condition_report::refused_float},
      std::pair{"refused_double", &condition_report::refused_double});

  using gradcode::layered_condition;
  py::class_<layered_condition>(m, "layered_condition",
                                "condition_layers() of a hierarchical code: the master's layer, each edge's, and their "
                                "compounded worst (what master_decode checks).")
      .def(py::init<>())
      .def_readwrite("master", &layered_condition::master)
      .def_readwrite("edges", &layered_condition::edges)
      .def_readwrite("compounded_worst", &layered_condition::compounded_worst)
      .def_readwrite("float_accepts_worst", &layered_condition::float_accepts_worst)
      .def_readwrite("double_accepts_worst", &layered_condition::double_accepts_worst);

  using gradcode::decode_options;
  py::class_<decode_options> o(m, "decode_options",
                               "How decoding is run (codes/linear_code.hpp); all defaulted, checked by each code's constructor.");
  o.def(py::init([](double residual_tolerance, double max_relative_error, std::size_t plan_cache_size) {
          return decode_options{.residual_tolerance = residual_tolerance,
                                .max_relative_error = max_relative_error,
                                .plan_cache_size = plan_cache_size};
        }),
        py::kw_only(), py::arg("residual_tolerance") = 1e-9, py::arg("max_relative_error") = 0.0,
        py::arg("plan_cache_size") = std::size_t{4096})
      .def_readwrite("residual_tolerance", &decode_options::residual_tolerance,
                     "A plan is accepted when ||B_F^T a - 1||_inf <= this; in [0, 1).")
      .def_readwrite("max_relative_error", &decode_options::max_relative_error,
                     "Accepted estimated relative error of a decode; <= 0 selects 1e-9 (float64) / 1e-4 (float32).")
      .def_readwrite("plan_cache_size", &decode_options::plan_cache_size,
                     "Decoding plans kept (LRU) per code; 0 disables caching.");
  aggregate_protocol<decode_options>(o, "decode_options", std::pair{"residual_tolerance", &decode_options::residual_tolerance},
                                     std::pair{"max_relative_error", &decode_options::max_relative_error},
                                     std::pair{"plan_cache_size", &decode_options::plan_cache_size});
}

void bind_core(py::module_& m) {
  using gradcode::assignment;
  py::class_<assignment> a(m, "assignment",
                           "Which node holds which of the K data partitions (core/assignment.hpp). Immutable; pickles as "
                           "(partitions, holdings).");
  a.def(py::init([](Index partitions, std::vector<std::vector<Index>> holdings) {
          return assignment(partitions, std::move(holdings));
        }),
        py::arg("partitions"), py::arg("holdings"), "holdings[i]: the partitions node i holds. Raises InvalidParameters.")
      .def_static(
          "cyclic_consecutive",
          [](Index partitions, std::vector<Index> loads) { return assignment::cyclic_consecutive(partitions, loads); },
          py::arg("partitions"), py::arg("loads"),
          "Cyclic consecutive placement (tang2024 eqs. 15-16): node i holds loads[i] consecutive partitions (mod K).")
      .def("nodes", &assignment::nodes)
      .def("partitions", &assignment::partitions)
      .def(
          "partitions_of", [](const assignment& s, Index node) { return list_of(s.partitions_of(node)); }, py::arg("node"))
      .def(
          "holders_of", [](const assignment& s, Index k) { return list_of(s.holders_of(k)); }, py::arg("partition"))
      .def("load", &assignment::load, py::arg("node"))
      .def("max_load", &assignment::max_load)
      .def("min_replication", &assignment::min_replication)
      .def(
          "holdings",
          [](const assignment& s) {
            py::list l;
            for (Index i = 0; i < s.nodes(); ++i) l.append(list_of(s.partitions_of(i)));
            return l;
          },
          "Per node, the partitions it holds (list of lists).")
      .def(
          "__eq__",
          [](const assignment& x, const assignment& y) {
            if (x.nodes() != y.nodes() || x.partitions() != y.partitions()) return false;
            for (Index i = 0; i < x.nodes(); ++i) {
              const auto p = x.partitions_of(i), q = y.partitions_of(i);
              if (!std::equal(p.begin(), p.end(), q.begin(), q.end())) return false;
            }
            return true;
          },
          py::is_operator())
      .def("__repr__",
           [](const assignment& s) {
             return "gradcode.assignment(partitions=" + std::to_string(s.partitions()) +
                    ", holdings=" + std::string(py::repr(py::cast(s).attr("holdings")())) + ")";
           })
      .def(py::pickle(
          [](const assignment& s) {
            std::vector<std::vector<Index>> h;
            for (Index i = 0; i < s.nodes(); ++i) h.emplace_back(s.partitions_of(i).begin(), s.partitions_of(i).end());
            return py::make_tuple(s.partitions(), h);
          },
          [](const py::tuple& t) {
            if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle an assignment: wrong state size");
            return assignment(t[0].cast<Index>(), t[1].cast<std::vector<std::vector<Index>>>());
          }));
  a.attr("__hash__") = py::none();

  using gradcode::worker_id;
  py::class_<worker_id> w(
      m, "worker_id", "Worker `worker` of edge (relay, cluster) `edge`, 0-based. A tuple (edge, worker) converts implicitly.");
  w.def(py::init([](Index edge, Index worker) {
          return worker_id{edge, worker};
        }),
        py::arg("edge"), py::arg("worker"))
      .def(py::init([](const py::tuple& t) {
        if (t.size() != 2)
          throw gradcode::invalid_input("a worker id is a pair (edge, worker), got a tuple of " + std::to_string(t.size()));
        return worker_id{t[0].cast<Index>(), t[1].cast<Index>()};
      }))
      .def_readwrite("edge", &worker_id::edge)
      .def_readwrite("worker", &worker_id::worker)
      .def("__iter__", [](const worker_id& v) { return py::iter(py::make_tuple(v.edge, v.worker)); })
      .def("__hash__", [](const worker_id& v) { return py::hash(py::make_tuple(v.edge, v.worker)); });
  aggregate_protocol<worker_id>(w, "worker_id", std::pair{"edge", &worker_id::edge}, std::pair{"worker", &worker_id::worker});
  w.def("__hash__", [](const worker_id& v) { return py::hash(py::make_tuple(v.edge, v.worker)); });
  py::implicitly_convertible<py::tuple, worker_id>();

  py::enum_<gradcode::construction>(m, "construction", "How an encoding matrix is built (codes/construction.hpp).")
      .value("automatic", gradcode::construction::automatic, "cyclic_mds where it applies, else null_space")
      .value("null_space", gradcode::construction::null_space, "random null-space construction (any support)")
      .value("cyclic_mds", gradcode::construction::cyclic_mds, "real cyclic MDS; needs the cyclic block support and n - s odd")
      .value("tandon_random", gradcode::construction::tandon_random,
             "Tandon et al. 2017 Algorithm 2 (seeded Gaussian H); cyclic_repetition_code only");

  py::enum_<gradcode::point_family>(m, "point_family",
                                    "Evaluation points of the polynomial codes (robust/evaluation_points.hpp).")
      .value("unit_circle", gradcode::point_family::unit_circle, "complex unit-circle points (default, numerically stable)")
      .value("chebyshev", gradcode::point_family::chebyshev, "real Chebyshev points")
      .value("paper", gradcode::point_family::paper, "gholami2025 §IV integer points; unsafe beyond N ~ 8");

  using gradcode::robust_options;
  py::class_<robust_options> ro(
      m, "robust_options", "How the Reed-Solomon decodes of the polynomial code run (robust/reed_solomon.hpp); all defaulted.");
  ro.def(py::init([](double corruption_tolerance, Index projections, std::uint64_t projection_seed, bool locate_corrupted,
                     Index max_corrections, double max_amplification, double max_relative_error, std::size_t plan_cache_size) {
           robust_options o;
           o.corruption_tolerance = corruption_tolerance;
           o.projections = projections;
           o.projection_seed = projection_seed;
           o.locate_corrupted = locate_corrupted;
           o.max_corrections = max_corrections;
           o.max_amplification = max_amplification;
           o.max_relative_error = max_relative_error;
           o.plan_cache_size = plan_cache_size;
           return o;
         }),
         py::kw_only(), py::arg("corruption_tolerance") = 0.0, py::arg("projections") = Index{3},
         py::arg("projection_seed") = std::uint64_t{0x9e3779b97f4a7c15ull}, py::arg("locate_corrupted") = true,
         py::arg("max_corrections") = Index{-1}, py::arg("max_amplification") = 1e8, py::arg("max_relative_error") = 0.0,
         py::arg("plan_cache_size") = std::size_t{4096})
      .def_readwrite("corruption_tolerance", &robust_options::corruption_tolerance, "tau; 0 = 1e-11 (double) / 2e-6 (float)")
      .def_readwrite("projections", &robust_options::projections, "P random projections the locator works on (1..8)")
      .def_readwrite("projection_seed", &robust_options::projection_seed)
      .def_readwrite("locate_corrupted", &robust_options::locate_corrupted, "false: trust every message")
      .def_readwrite("max_corrections", &robust_options::max_corrections,
                     "cap on located corrupted nodes; < 0 = all the redundancy allows")
      .def_readwrite("max_amplification", &robust_options::max_amplification, "largest accepted Lebesgue constant")
      .def_readwrite("max_relative_error", &robust_options::max_relative_error, "0 = 1e-9 (double) / 1e-4 (float)")
      .def_readwrite("plan_cache_size", &robust_options::plan_cache_size);
  aggregate_protocol<robust_options>(
      ro, "robust_options", std::pair{"corruption_tolerance", &robust_options::corruption_tolerance},
      std::pair{"projections", &robust_options::projections}, std::pair{"projection_seed", &robust_options::projection_seed},
      std::pair{"locate_corrupted", &robust_options::locate_corrupted},
      std::pair{"max_corrections", &robust_options::max_corrections},
      std::pair{"max_amplification", &robust_options::max_amplification},
      std::pair{"max_relative_error", &robust_options::max_relative_error},
      std::pair{"plan_cache_size", &robust_options::plan_cache_size});

  using gradcode::robust_report;
  py::class_<robust_report> rr(m, "robust_report",
                               "What a Reed-Solomon (polynomial-code) decode found (robust/reed_solomon.hpp).");
  rr.def(py::init<>())
      .def_readwrite("corrupted", &robust_report::corrupted, "node ids located as corrupted and excluded, ascending")
      .def_readwrite("used", &robust_report::used, "node ids the result was interpolated from, ascending")
      .def_readwrite("residual", &robust_report::residual, "relative parity residual of `used` on the projections")
      .def_readwrite("amplification", &robust_report::amplification, "Lebesgue constant of the interpolation")
      .def_readwrite("error_amplification", &robust_report::error_amplification,
                     "A: how much the decode amplifies the data's rounding; pass it on to server_decode(relay_amplification=)")
      .def_readwrite("estimated_error", &robust_report::estimated_error, "eps * A")
      .def_readwrite("checked", &robust_report::checked, "the messages had redundancy and were checked for corruption");
  aggregate_protocol<robust_report>(
      rr, "robust_report", std::pair{"corrupted", &robust_report::corrupted}, std::pair{"used", &robust_report::used},
      std::pair{"residual", &robust_report::residual}, std::pair{"amplification", &robust_report::amplification},
      std::pair{"error_amplification", &robust_report::error_amplification},
      std::pair{"estimated_error", &robust_report::estimated_error}, std::pair{"checked", &robust_report::checked});
}

}  // namespace gradcode_python

PYBIND11_MODULE(_gradcode, m) {
  namespace gp = gradcode_python;
  namespace py = pybind11;
  m.doc() = "gradcode's C++ core (header-only library over Eigen) bound with pybind11; import `gradcode`, not this module.";
  m.attr("__version__") = std::to_string(GRADCODE_VERSION_MAJOR) + "." + std::to_string(GRADCODE_VERSION_MINOR) + "." +
                          std::to_string(GRADCODE_VERSION_PATCH);
  gp::bind_errors(m);
  // For the zero-copy tests: the address, shape and column stride of the Eigen map the bindings
  // put over `x` (matrix_view, the one path every encode/decode takes), or InvalidInput.
  m.def(
      "_mapped_view",
      [](py::handle x, const std::string& dtype) {
        auto info = [](const auto& v) {
          return py::make_tuple(reinterpret_cast<std::uintptr_t>(v.map.data()), v.map.rows(), v.map.cols(), v.map.outerStride());
        };
        if (dtype == "float32") return info(gp::matrix_view<float>::make(x, "x", true));
        return info(gp::matrix_view<double>::make(x, "x", true));
      },
      py::arg("x"), py::arg("dtype") = "float64");
  gp::bind_report(m);
  gp::bind_core(m);
  gp::bind_codes(m);
  gp::bind_hierarchical(m);
  gp::bind_quantize_dynamic(m);
  gp::bind_optimize(m);
}
