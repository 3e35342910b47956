// SPDX-License-Identifier: MIT
// Python bindings of the optimisers and calculators: the runtime model and JNCSS (tang2024 §IV-C,
// include/gradcode/optimize/), its presets and the homogeneous closed forms (§IV-B), and the load /
// trade-off calculators of hierarchical/tradeoff.hpp (Theorem 1, Corollaries 1-2, §V-B loads).
// None of these depend on the scalar type; random draws take an integer seed (std::mt19937_64).
#include <random>

#include "common.hpp"

#include "gradcode/hierarchical/tradeoff.hpp"
#include "gradcode/optimize/homogeneous.hpp"
#include "gradcode/optimize/jncss.hpp"
#include "gradcode/optimize/presets.hpp"
#include "gradcode/optimize/runtime_model.hpp"

namespace gradcode_python {

void bind_optimize(py::module_& m) {
  using namespace gradcode;

  py::class_<worker_timing> wt(m, "worker_timing", "Timing of one worker (optimize/runtime_model.hpp, tang2024 §IV-A), in ms.");
  wt.def(py::init([](double compute_per_partition, double compute_rate, double link_time, double link_failure) {
           return worker_timing{compute_per_partition, compute_rate, link_time, link_failure};
         }),
         py::arg("compute_per_partition") = 0.0, py::arg("compute_rate") = 1.0, py::arg("link_time") = 0.0,
         py::arg("link_failure") = 0.0)
      .def_readwrite("compute_per_partition", &worker_timing::compute_per_partition,
                     "c_(i,j): deterministic time per partition (ms)")
      .def_readwrite("compute_rate", &worker_timing::compute_rate, "gamma_(i,j): rate of the exponential delay (1/ms), > 0")
      .def_readwrite("link_time", &worker_timing::link_time, "tau_(i,j): one transmission attempt worker <-> edge (ms)")
      .def_readwrite("link_failure", &worker_timing::link_failure, "p_(i,j) in [0, 1): failure probability of one attempt");
  aggregate_protocol<worker_timing>(
      wt, "worker_timing", std::pair{"compute_per_partition", &worker_timing::compute_per_partition},
      std::pair{"compute_rate", &worker_timing::compute_rate}, std::pair{"link_time", &worker_timing::link_time},
      std::pair{"link_failure", &worker_timing::link_failure});

  py::class_<edge_timing> et(m, "edge_timing", "Timing of one edge's link to the master, in ms.");
  et.def(py::init([](double link_time, double link_failure) {
           return edge_timing{link_time, link_failure};
         }),
         py::arg("link_time") = 0.0, py::arg("link_failure") = 0.0)
      .def_readwrite("link_time", &edge_timing::link_time, "tau_i: one transmission attempt edge <-> master (ms)")
      .def_readwrite("link_failure", &edge_timing::link_failure, "p_i in [0, 1)");
  aggregate_protocol<edge_timing>(et, "edge_timing", std::pair{"link_time", &edge_timing::link_time},
                                  std::pair{"link_failure", &edge_timing::link_failure});

  py::class_<runtime_model> rm(m, "runtime_model", "The runtime model of tang2024 §IV-A: per-edge and per-worker timings.");
  rm.def(py::init([](std::vector<edge_timing> edges, std::vector<std::vector<worker_timing>> workers) {
           return runtime_model{std::move(edges), std::move(workers)};
         }),
         py::arg("edges"), py::arg("workers"))
      .def_readwrite("edges", &runtime_model::edges, "n edge timings (a copy on read: assign the whole list to change it)")
      .def_readwrite("workers", &runtime_model::workers, "workers[i]: the m_i worker timings of edge i")
      .def("edge_count", &runtime_model::edge_count)
      .def("worker_count", &runtime_model::worker_count, py::arg("edge"))
      .def("worker_counts", &runtime_model::worker_counts)
      .def("total_workers", &runtime_model::total_workers)
      .def("validate", &runtime_model::validate, "Raises InvalidParameters naming the node with a bad timing.")
      .def("mean_edge_upload", &runtime_model::mean_edge_upload, py::arg("edge"))
      .def("mean_worker_time", &runtime_model::mean_worker_time, py::arg("edge"), py::arg("worker"), py::arg("load"));
  aggregate_protocol<runtime_model>(rm, "runtime_model", std::pair{"edges", &runtime_model::edges},
                                    std::pair{"workers", &runtime_model::workers});

  py::class_<iteration_sample> is(m, "iteration_sample", "One drawn iteration of a runtime model (times in ms).");
  is.def(py::init<>())
      .def_readwrite("edge_download", &iteration_sample::edge_download)
      .def_readwrite("edge_upload", &iteration_sample::edge_upload)
      .def_readwrite("worker_arrival", &iteration_sample::worker_arrival, "T_tol^(i,j) (eq. 31): worker result at its edge");
  aggregate_protocol<iteration_sample>(is, "iteration_sample", std::pair{"edge_download", &iteration_sample::edge_download},
                                       std::pair{"edge_upload", &iteration_sample::edge_upload},
                                       std::pair{"worker_arrival", &iteration_sample::worker_arrival});
  m.def(
      "sample_iteration",
      [](const runtime_model& model, double load, std::uint64_t seed) {
        std::mt19937_64 rng(seed);
        return sample_iteration(model, load, rng);
      },
      py::arg("model"), py::arg("load"), py::arg("seed") = std::uint64_t{1},
      "Draws one iteration with load D (partitions) on every worker, from std::mt19937_64(seed).");
  m.def("hierarchical_time", &hierarchical_time, py::arg("sample"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
        "T_tol (eqs. 32-33) of a sample at tolerances (s_e, s_w).");

  py::class_<jncss_options> jo(m, "jncss_options", "How jncss() runs.");
  jo.def(py::init([](bool skip_nonexistent_codes) { return jncss_options{skip_nonexistent_codes}; }), py::kw_only(),
         py::arg("skip_nonexistent_codes") = true)
      .def_readwrite("skip_nonexistent_codes", &jncss_options::skip_nonexistent_codes,
                     "skip (s_e, s_w) pairs for which no HGC code exists; False reproduces the paper's loop");
  aggregate_protocol<jncss_options>(jo, "jncss_options",
                                    std::pair{"skip_nonexistent_codes", &jncss_options::skip_nonexistent_codes});

  py::class_<jncss_result> jr(m, "jncss_result",
                              "Optimum of P1 (eq. 47) and the node selection achieving it (Algorithm 2's output).");
  jr.def(py::init<>())
      .def_readwrite("edge_tolerance", &jncss_result::edge_tolerance, "s_e-hat")
      .def_readwrite("worker_tolerance", &jncss_result::worker_tolerance, "s_w-hat")
      .def_readwrite("time", &jncss_result::time, "T-hat_tol, the optimum of P1 (ms)")
      .def_readwrite("load", &jncss_result::load, "D = K(s_e+1)(s_w+1)/sum m_i, may be fractional")
      .def_readwrite("edge_selected", &jncss_result::edge_selected, "e_i: exactly n - s_e ones")
      .def_readwrite("worker_selected", &jncss_result::worker_selected, "w_(i,j): m_i - s_w ones on selected edges")
      .def_readwrite("searched_edge_tolerances", &jncss_result::searched_edge_tolerances)
      .def_readwrite("skipped_pairs", &jncss_result::skipped_pairs);
  aggregate_protocol<jncss_result>(jr, "jncss_result", std::pair{"edge_tolerance", &jncss_result::edge_tolerance},
                                   std::pair{"worker_tolerance", &jncss_result::worker_tolerance},
                                   std::pair{"time", &jncss_result::time}, std::pair{"load", &jncss_result::load},
                                   std::pair{"edge_selected", &jncss_result::edge_selected},
                                   std::pair{"worker_selected", &jncss_result::worker_selected},
                                   std::pair{"searched_edge_tolerances", &jncss_result::searched_edge_tolerances},
                                   std::pair{"skipped_pairs", &jncss_result::skipped_pairs});

  m.def(
      "jncss",
      [](const runtime_model& model, Index partitions, const jncss_options& options) {
        py::gil_scoped_release nogil;
        return jncss(model, partitions, options);
      },
      py::arg("model"), py::arg("partitions"), py::arg("options") = jncss_options{},
      "Algorithm 2 (JNCSS), exact: (s_e-hat, s_w-hat), T-hat_tol, D and the selection minimising P1.");
  m.def(
      "jncss_literal",
      [](const runtime_model& model, Index partitions, const jncss_options& options) {
        py::gil_scoped_release nogil;
        return jncss_literal(model, partitions, options);
      },
      py::arg("model"), py::arg("partitions"), py::arg("options") = jncss_options{},
      "Algorithm 2 transcribed literally (with its errata); the same result as jncss(), slower.");
  m.def("jncss_pair_time", &jncss_pair_time, py::arg("model"), py::arg("partitions"), py::arg("edge_tolerance"),
        py::arg("worker_tolerance"), "T-hat(s_e, s_w) of eq. (51): the optimum of P2 at fixed tolerances.");
  m.def("jncss_load", &detail::jncss_load, py::arg("partitions"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
        py::arg("total_workers"), "D = K(s_e+1)(s_w+1)/sum m_i (eq. 44).");

  py::class_<jncss_gap_bound> gb(m, "jncss_gap_bound", "Theorem 3's bound (eq. 48) for a JNCSS result, with its parts.");
  gb.def(py::init<>())
      .def_readwrite("bound", &jncss_gap_bound::bound, ">= |E[T_tol] - T-hat_tol|")
      .def_readwrite("edge_factor", &jncss_gap_bound::edge_factor)
      .def_readwrite("edge_dispersion", &jncss_gap_bound::edge_dispersion, "Delta_e (Monte-Carlo estimate)")
      .def_readwrite("worker_term", &jncss_gap_bound::worker_term)
      .def_readwrite("worker_dispersion", &jncss_gap_bound::worker_dispersion, "Delta_w^i, closed form");
  aggregate_protocol<jncss_gap_bound>(
      gb, "jncss_gap_bound", std::pair{"bound", &jncss_gap_bound::bound}, std::pair{"edge_factor", &jncss_gap_bound::edge_factor},
      std::pair{"edge_dispersion", &jncss_gap_bound::edge_dispersion}, std::pair{"worker_term", &jncss_gap_bound::worker_term},
      std::pair{"worker_dispersion", &jncss_gap_bound::worker_dispersion});
  m.def(
      "jncss_gap",
      [](const runtime_model& model, const jncss_result& result, Index samples, std::uint64_t seed) {
        std::mt19937_64 rng(seed);
        py::gil_scoped_release nogil;
        return jncss_gap(model, result, samples, rng);
      },
      py::arg("model"), py::arg("result"), py::arg("samples") = Index{1000}, py::arg("seed") = std::uint64_t{1},
      "Theorem 3 (eqs. 48-49) at a jncss() result; Delta_e from `samples` Monte-Carlo iterations.");

  py::enum_<tang2024_workload>(m, "tang2024_workload", "Workload of tang2024 §V-A's setting.")
      .value("mnist", tang2024_workload::mnist, "strong c = 10 ms, weak c = 50 ms per partition")
      .value("cifar10", tang2024_workload::cifar10, "strong c = 100 ms, weak c = 500 ms per partition");
  m.def("tang2024_setting", &tang2024_setting, py::arg("workload") = tang2024_workload::mnist,
        "tang2024 §V-A's 4 edges x 10 workers runtime model.");
  m.def("homogeneous_setting", &homogeneous_setting, py::arg("edges"), py::arg("workers_per_edge"), py::arg("worker"),
        py::arg("edge"), "n edges x m workers, all alike (§IV-B).");

  py::class_<homogeneous_system> hs(m, "homogeneous_system", "The homogeneous system of tang2024 §IV-B.");
  hs.def(py::init([](Index edges, Index workers_per_edge, Index partitions, worker_timing worker, edge_timing edge) {
           return homogeneous_system{edges, workers_per_edge, partitions, worker, edge};
         }),
         py::arg("edges"), py::arg("workers_per_edge"), py::arg("partitions"), py::arg("worker") = worker_timing{},
         py::arg("edge") = edge_timing{})
      .def_readwrite("edges", &homogeneous_system::edges, "n")
      .def_readwrite("workers_per_edge", &homogeneous_system::workers_per_edge, "m")
      .def_readwrite("partitions", &homogeneous_system::partitions, "K")
      .def_readwrite("worker", &homogeneous_system::worker)
      .def_readwrite("edge", &homogeneous_system::edge);
  aggregate_protocol<homogeneous_system>(hs, "homogeneous_system", std::pair{"edges", &homogeneous_system::edges},
                                         std::pair{"workers_per_edge", &homogeneous_system::workers_per_edge},
                                         std::pair{"partitions", &homogeneous_system::partitions},
                                         std::pair{"worker", &homogeneous_system::worker},
                                         std::pair{"edge", &homogeneous_system::edge});
  py::class_<homogeneous_choice> hc(m, "homogeneous_choice",
                                    "A recommended pair of tolerances and the closed form's value there.");
  hc.def(py::init<>())
      .def_readwrite("edge_tolerance", &homogeneous_choice::edge_tolerance)
      .def_readwrite("worker_tolerance", &homogeneous_choice::worker_tolerance)
      .def_readwrite("expected_time", &homogeneous_choice::expected_time, "the paper's approximation of E[T_tol] (ms)");
  aggregate_protocol<homogeneous_choice>(hc, "homogeneous_choice",
                                         std::pair{"edge_tolerance", &homogeneous_choice::edge_tolerance},
                                         std::pair{"worker_tolerance", &homogeneous_choice::worker_tolerance},
                                         std::pair{"expected_time", &homogeneous_choice::expected_time});
  m.def("to_runtime_model", &to_runtime_model, py::arg("system"));
  m.def("computation_dominated_time", &computation_dominated_time, py::arg("system"), py::arg("edge_tolerance"),
        py::arg("worker_tolerance"));
  m.def("computation_dominated_choice", &computation_dominated_choice, py::arg("system"));
  m.def("communication_dominated_time", &communication_dominated_time, py::arg("system"), py::arg("edge_tolerance"),
        py::arg("worker_tolerance"));
  m.def("communication_dominated_choice", &communication_dominated_choice, py::arg("system"));
  m.def("random_delay_mean", &random_delay_mean, py::arg("system"), py::arg("edge_tolerance"), py::arg("worker_tolerance"));
  m.def("computation_dominated_exact_time", &computation_dominated_exact_time, py::arg("system"), py::arg("edge_tolerance"),
        py::arg("worker_tolerance"));
  m.def("communication_dominated_exact_time", &communication_dominated_exact_time, py::arg("system"), py::arg("edge_tolerance"),
        py::arg("worker_tolerance"));

  // hierarchical/tradeoff.hpp
  m.def(
      "hgc_load_bound",
      [](const std::vector<Index>& workers, Index partitions, Index se, Index sw) {
        return hgc_load_bound(workers, partitions, se, sw);
      },
      py::arg("workers"), py::arg("partitions"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
      "Theorem 1 (eq. 4): the minimum load K(s_e+1)(s_w+1)/sum m_i.");
  m.def(
      "standard_gc_tolerance",
      [](const std::vector<Index>& workers, Index se, Index sw) { return standard_gc_tolerance(workers, se, sw); },
      py::arg("workers"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
      "Corollary 1 (eq. 8): stragglers a flat code must tolerate for (s_e, s_w).");
  m.def(
      "conventional_load",
      [](const std::vector<Index>& workers, Index partitions, Index se, Index sw) {
        return conventional_load(workers, partitions, se, sw);
      },
      py::arg("workers"), py::arg("partitions"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
      "Corollary 1 (eq. 9): the conventional single-layer load K(s_max+1)/sum m_i.");
  m.def(
      "layered_load_bound",
      [](const std::vector<Index>& tolerances, Index total_workers, Index partitions) {
        return layered_load_bound(tolerances, total_workers, partitions);
      },
      py::arg("tolerances"), py::arg("total_workers"), py::arg("partitions"),
      "Corollary 2 (eq. 12): L-layer bound K * prod(s_l + 1) / W.");
  py::enum_<scheme>(m, "scheme", "The seven schemes compared in tang2024 §V-A.")
      .value("uncoded", scheme::uncoded)
      .value("greedy", scheme::greedy)
      .value("cgc_w", scheme::cgc_w)
      .value("cgc_e", scheme::cgc_e)
      .value("standard_gc", scheme::standard_gc)
      .value("hgc", scheme::hgc)
      .value("hgc_jncss", scheme::hgc_jncss);
  m.def("scheme_name", &scheme_name, py::arg("scheme"));
  m.def(
      "master_communication_load",
      [](scheme which, const std::vector<Index>& workers, Index se, Index sw) {
        return master_communication_load(which, workers, se, sw);
      },
      py::arg("scheme"), py::arg("workers"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
      "d-vectors the master waits for per iteration (§V-B, Fig. 7).");
  m.def(
      "worker_computation_load",
      [](scheme which, const std::vector<Index>& workers, Index partitions, Index se, Index sw) {
        return worker_computation_load(which, workers, partitions, se, sw);
      },
      py::arg("scheme"), py::arg("workers"), py::arg("partitions"), py::arg("edge_tolerance"), py::arg("worker_tolerance"),
      "Per-worker computation load D of each scheme at (s_e, s_w), before integer balancing.");
}

}  // namespace gradcode_python
