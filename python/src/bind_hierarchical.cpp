// SPDX-License-Identifier: MIT
// Python bindings of the hierarchical codes (include/gradcode/hierarchical/): tang2024's HGC
// (hgc_params, hgc_code_f64/_f32) and gholami2025's polynomial HGC (polynomial_hgc_params,
// polynomial_placement, place_partitions, polynomial_hgc_f64/_f32). Workers are (edge, worker)
// pairs; messages are column-major as for the single-layer codes.
#include "common.hpp"
#include "linear.hpp"

#include "gradcode/hierarchical/hgc.hpp"
#include "gradcode/hierarchical/polynomial.hpp"

namespace gradcode_python {

namespace {

using gradcode::decode_options;
using gradcode::decode_report;
using gradcode::hgc_params;
using gradcode::pattern;
using gradcode::polynomial_hgc_params;
using gradcode::robust_options;
using gradcode::worker_id;

template <class Scalar>
void bind_hgc(py::module_& m) {
  using code = gradcode::hgc_code<Scalar>;
  using bound = with_params<code, hgc_params>;
  const std::string name = std::string("hgc_code_") + suffix<Scalar>();
  // The C++ class itself as a hidden base, so the methods below can take `const code&`.
  py::class_<code>(m, (name + "_base").insert(0, "_").c_str());
  py::class_<bound, code> cls(
      m, name.c_str(),
      "Hierarchical gradient code (tang2024): workers -> edges -> master, any s_w stragglers per edge and "
      "s_e straggling edges. Build with gradcode.hgc_code(workers, partitions, edge_tolerance, "
      "worker_tolerance, dtype=...).");
  cls.def(py::init(
              [](const hgc_params& p, const std::optional<decode_options>& o) { return new bound(p, options_or_default(o)); }),
          py::arg("params"), py::kw_only(), py::arg("options") = py::none())
      .def(py::init([](std::vector<Index> workers, Index partitions, Index edge_tolerance, Index worker_tolerance,
                       gradcode::construction method, std::uint64_t seed, bool allow_load_above_bound,
                       const std::optional<decode_options>& o) {
             hgc_params p{};
             p.workers = std::move(workers);
             p.partitions = partitions;
             p.edge_tolerance = edge_tolerance;
             p.worker_tolerance = worker_tolerance;
             p.method = method;
             p.seed = seed;
             p.allow_load_above_bound = allow_load_above_bound;
             return new bound(p, options_or_default(o));
           }),
           py::arg("workers"), py::arg("partitions"), py::arg("edge_tolerance") = Index{0},
           py::arg("worker_tolerance") = Index{0}, py::kw_only(), py::arg("method") = gradcode::construction::automatic,
           py::arg("seed") = std::uint64_t{1}, py::arg("allow_load_above_bound") = false, py::arg("options") = py::none())
      .def_property_readonly("params", [](const bound& c) { return c.params; })
      .def_property_readonly("options", [](const bound& c) { return c.opts; })
      .def_property_readonly("dtype", [](const bound&) { return py::dtype::of<Scalar>(); })
      .def(py::pickle([](const bound& c) { return py::make_tuple(c.params, c.opts); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle an hgc_code: wrong state size");
                        return new bound(t[0].cast<hgc_params>(), t[1].cast<decode_options>());
                      }))
      .def("edges", &code::edges, "n, number of edge nodes.")
      .def("workers", &code::workers, py::arg("edge"), "m_i, workers of edge i.")
      .def("total_workers", &code::total_workers, "sum m_i.")
      .def("partitions", &code::partitions, "K.")
      .def("edge_tolerance", &code::edge_tolerance, "s_e.")
      .def("worker_tolerance", &code::worker_tolerance, "s_w.")
      .def(
          "edge_partitions", [](const code& c, Index e) { return list_of(c.edge_partitions(e)); }, py::arg("edge"),
          "D^i: the partitions of edge i, ascending.")
      .def("worker_partitions", &code::worker_partitions, py::arg("worker"),
           "D^(i,j): global partitions worker (i, j) computes on, ascending (encode_held's column order).")
      .def("load", &code::load, py::arg("worker"), "|D^(i,j)|.")
      .def("max_load", &code::max_load, "The achieved load D.")
      .def("load_bound", &code::load_bound, "Theorem 1: K(s_e+1)(s_w+1)/sum m_i.")
      .def(
          "edge_encoding", [](const code& c) { return dense_of(c.edge_encoding()); }, "B (n x K) as dense float64.")
      .def(
          "worker_encoding", [](const code& c, Index e) { return dense_of(c.worker_encoding(e)); }, py::arg("edge"),
          "D-bar^i (m_i x n_i) as dense float64.")
      .def(
          "worker_encoding_global", [](const code& c, Index e) { return dense_of(c.worker_encoding_global(e)); }, py::arg("edge"),
          "D^i (m_i x K) as dense float64.")
      .def("edge_layer", &code::edge_layer, py::return_value_policy::reference_internal,
           "The single-layer code of the edge layer (B over n edges); valid while this code lives.")
      .def("worker_layer", &code::worker_layer, py::arg("edge"), py::return_value_policy::reference_internal,
           "The single-layer code of edge i's workers (D-bar^i).")
      .def(
          "condition_layers",
          [](const code& c, std::uint64_t exhaustive_limit, Index samples, std::uint64_t seed) {
            py::gil_scoped_release nogil;
            return gradcode::condition_of_layers(c, {.exhaustive_limit = exhaustive_limit, .samples = samples, .seed = seed});
          },
          py::kw_only(), py::arg("exhaustive_limit") = std::uint64_t{2000}, py::arg("samples") = Index{200},
          py::arg("seed") = std::uint64_t{1},
          "Both layers' decode conditioning (core/condition_report.hpp): a layered_condition.")
      .def("edge_wait", &code::edge_wait, py::arg("edge"), "m_i - s_w.")
      .def("master_wait", &code::master_wait, "n - s_e.")
      .def("worker_message_length", &code::worker_message_length, py::arg("edge"), py::arg("d"))
      .def("edge_message_length", &code::edge_message_length, py::arg("d"))
      .def(
          "verify",
          [](const code& c, double max_exhaustive, Index random_subsets, std::uint64_t seed) {
            return c.verify({.max_exhaustive = max_exhaustive, .random_subsets = random_subsets, .seed = seed});
          },
          py::kw_only(), py::arg("max_exhaustive") = 5000.0, py::arg("random_subsets") = Index{2000},
          py::arg("seed") = std::uint64_t{0x5eed}, "Conditions 1 and 2 (span checks): the worst as a span_report.")
      .def(
          "encode",
          [](const code& c, worker_id w, py::handle partials, py::handle out) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            auto o = out_view<Scalar>::make(out, in.map.rows());
            {
              py::gil_scoped_release nogil;
              c.encode(w, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("partials"), py::kw_only(), py::arg("out") = py::none(),
          "G_ij = sum_k D^i_jk B_ik g_k (eq. 22) for worker (i, j) from the d x K column-major partials. Returns out.")
      .def(
          "encode_held",
          [](const code& c, worker_id w, py::handle held, py::handle out) {
            auto in = matrix_view<Scalar>::make(held, "held", true);
            auto o = out_view<Scalar>::make(out, in.map.rows());
            {
              py::gil_scoped_release nogil;
              c.encode_held(w, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("held"), py::kw_only(), py::arg("out") = py::none(),
          "The same from only the worker's partitions: held is d x load(worker), columns in worker_partitions order.")
      .def(
          "edge_decodable",
          [](const code& c, Index edge, const id_list& ids) {
            return edge >= 0 && edge < c.edges() && c.edge_decodable(edge, pattern::from_ids(c.workers(edge), ids));
          },
          py::arg("edge"), py::arg("ids"), "True when workers `ids` (0..m_i-1) of edge `edge` let it decode.")
      .def(
          "master_decodable",
          [](const code& c, const id_list& ids) { return c.master_decodable(pattern::from_ids(c.edges(), ids)); }, py::arg("ids"),
          "True when the results of edges `ids` let the master decode.")
      .def(
          "edge_decode",
          [](const code& c, Index edge, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, msg.map.rows());
            decode_report r;
            {
              py::gil_scoped_release nogil;
              r = c.edge_decode(edge, ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("edge"), py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "G_i = sum_k B_ik g_k (eq. 25) from the messages of workers `ids` of edge `edge` (d x len(ids)). Returns "
          "(out, decode_report); pass the report to master_decode.")
      .def(
          "edge_amplification", [](const code& c, Index edge, const id_list& ids) { return c.edge_amplification(edge, ids); },
          py::arg("edge"), py::arg("ids"))
      .def(
          "master_decode",
          [](const code& c, const id_list& ids, py::handle edge_results, const std::optional<std::vector<decode_report>>& reports,
             py::handle out, std::optional<double> edge_amplification) {
            auto msg = matrix_view<Scalar>::make(edge_results, "edge_results", true);
            auto o = out_view<Scalar>::make(out, msg.map.rows());
            if (reports && edge_amplification)
              throw gradcode::invalid_input("master_decode: pass edge_reports or edge_amplification, not both");
            decode_report r;
            {
              py::gil_scoped_release nogil;
              if (reports)
                r = c.master_decode(ids, msg.map, *reports, o.map);
              else if (edge_amplification)
                r = c.master_decode(ids, msg.map, o.map, *edge_amplification);
              else
                r = c.master_decode(ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("ids"), py::arg("edge_results"), py::arg("edge_reports") = py::none(), py::kw_only(),
          py::arg("out") = py::none(), py::arg("edge_amplification") = py::none(),
          "g = sum_k g_k (eq. 27) from the results of edges `ids` (d x len(ids)). With edge_reports (edge_decode's report per "
          "id) or edge_amplification, both layers' rounding is checked together. Returns (out, decode_report).")
      .def(
          "simulate_round",
          [](const code& c, py::handle partials, const std::vector<worker_id>& straggling_workers,
             const std::vector<Index>& straggling_edges) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            gradcode::vector<Scalar> g;
            {
              py::gil_scoped_release nogil;
              g = c.simulate_round(in.map, straggling_workers, straggling_edges);
            }
            return numpy_of(g);
          },
          py::arg("partials"), py::arg("straggling_workers") = std::vector<worker_id>{},
          py::arg("straggling_edges") = std::vector<Index>{},
          "One round end to end (tests, examples): returns the master's gradient.");
}

template <class Scalar>
void bind_polynomial(py::module_& m) {
  using code = gradcode::polynomial_hgc<Scalar>;
  using bound = with_params<code, polynomial_hgc_params, robust_options>;
  const std::string name = std::string("polynomial_hgc_") + suffix<Scalar>();
  py::class_<code>(m, (name + "_base").insert(0, "_").c_str());
  py::class_<bound, code> cls(m, name.c_str(),
                              "Polynomial hierarchical gradient code (gholami2025): relays and workers with stragglers and "
                              "adversaries (located and excluded), built for one gradient length d. Build with "
                              "gradcode.polynomial_hgc(dimension, clusters, ..., dtype=...).");
  cls.def(py::init([](const polynomial_hgc_params& p, const std::optional<robust_options>& o) {
            return new bound(p, options_or_default(o));
          }),
          py::arg("params"), py::kw_only(), py::arg("options") = py::none())
      .def(py::init([](Index dimension, std::vector<gradcode::assignment> clusters, Index relay_stragglers,
                       Index relay_adversaries, std::vector<Index> worker_stragglers, std::vector<Index> worker_adversaries,
                       gradcode::point_family points, bool order_points, const std::optional<robust_options>& o) {
             polynomial_hgc_params p{};
             p.dimension = dimension;
             p.clusters = std::move(clusters);
             p.relay_stragglers = relay_stragglers;
             p.relay_adversaries = relay_adversaries;
             p.worker_stragglers = std::move(worker_stragglers);
             p.worker_adversaries = std::move(worker_adversaries);
             p.points = points;
             p.order_points = order_points;
             return new bound(p, options_or_default(o));
           }),
           py::arg("dimension"), py::arg("clusters"), py::arg("relay_stragglers") = Index{0},
           py::arg("relay_adversaries") = Index{0}, py::arg("worker_stragglers") = std::vector<Index>{},
           py::arg("worker_adversaries") = std::vector<Index>{}, py::kw_only(),
           py::arg("points") = gradcode::point_family::unit_circle, py::arg("order_points") = true,
           py::arg("options") = py::none())
      .def_property_readonly("params", [](const bound& c) { return c.params; })
      .def_property_readonly("options", [](const bound& c) { return c.opts; })
      .def_property_readonly("dtype", [](const bound&) { return py::dtype::of<Scalar>(); })
      .def(py::pickle([](const bound& c) { return py::make_tuple(c.params, c.opts); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle a polynomial_hgc: wrong state size");
                        return new bound(t[0].cast<polynomial_hgc_params>(), t[1].cast<robust_options>());
                      }))
      .def("dimension", &code::dimension, "d.")
      .def("partitions", &code::partitions, "K.")
      .def("relays", &code::relays, "N1.")
      .def("workers", &code::workers, py::arg("relay"), "N2^(i).")
      .def("relay_stragglers", &code::relay_stragglers, "s1.")
      .def("relay_adversaries", &code::relay_adversaries, "a1.")
      .def("worker_stragglers", &code::worker_stragglers, py::arg("relay"), "s2^(i).")
      .def("worker_adversaries", &code::worker_adversaries, py::arg("relay"), "a2^(i).")
      .def("relay_replication", &code::relay_replication, "r1.")
      .def("worker_replication", &code::worker_replication, py::arg("relay"), "r2,i.")
      .def("relay_parts", &code::relay_parts, "m1 = r1 - 2 a1 - s1.")
      .def("worker_parts", &code::worker_parts, py::arg("relay"), "m2^(i).")
      .def(
          "relay_partitions", [](const code& c, Index r) { return list_of(c.relay_partitions(r)); }, py::arg("relay"))
      .def(
          "worker_partitions", [](const code& c, worker_id w) { return list_of(c.worker_partitions(w)); }, py::arg("worker"))
      .def("cluster_assignment", &code::cluster_assignment, py::arg("relay"))
      .def("points", &code::points)
      .def("relay_coefficient_growth", &code::relay_coefficient_growth)
      .def("worker_coefficient_growth", &code::worker_coefficient_growth, py::arg("relay"))
      .def("relay_message_length", &code::relay_message_length, "C1: reals per relay message.")
      .def("worker_message_length", py::overload_cast<Index>(&code::worker_message_length, py::const_), py::arg("relay"),
           "C2^(i): reals per worker message in cluster i.")
      .def("relay_load_bound", &code::relay_load_bound, "Theorem 1: d/m1.")
      .def("worker_load_bound", &code::worker_load_bound, py::arg("relay"), "Theorem 1: d/(m1 m2^(i)).")
      .def("edges", &code::edges)
      .def("edge_wait", &code::edge_wait, py::arg("edge"))
      .def("master_wait", &code::master_wait)
      .def(
          "encode",
          [](const code& c, worker_id w, py::handle partials, py::handle out) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            if (w.edge < 0 || w.edge >= c.relays())
              throw gradcode::invalid_input("relay " + std::to_string(w.edge) + " is outside [0, " + std::to_string(c.relays()) +
                                            ")");
            auto o = out_view<Scalar>::make(out, c.worker_message_length(w.edge));
            {
              py::gil_scoped_release nogil;
              c.encode(w, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("partials"), py::kw_only(), py::arg("out") = py::none(),
          "Worker (n, j)'s message (eq. 15, length worker_message_length(n)) from the d x K column-major partials.")
      .def(
          "encode_held",
          [](const code& c, worker_id w, py::handle held, py::handle out) {
            auto in = matrix_view<Scalar>::make(held, "held", true);
            if (w.edge < 0 || w.edge >= c.relays())
              throw gradcode::invalid_input("relay " + std::to_string(w.edge) + " is outside [0, " + std::to_string(c.relays()) +
                                            ")");
            auto o = out_view<Scalar>::make(out, c.worker_message_length(w.edge));
            {
              py::gil_scoped_release nogil;
              c.encode_held(w, in.map, o.map);
            }
            return o.result;
          },
          py::arg("worker"), py::arg("held"), py::kw_only(), py::arg("out") = py::none())
      .def(
          "relay_decodable",
          [](const code& c, Index relay, const id_list& ids) {
            return relay >= 0 && relay < c.relays() && c.relay_decodable(relay, pattern::from_ids(c.workers(relay), ids));
          },
          py::arg("relay"), py::arg("ids"))
      .def(
          "server_decodable",
          [](const code& c, const id_list& ids) { return c.server_decodable(pattern::from_ids(c.relays(), ids)); },
          py::arg("ids"))
      .def(
          "edge_decodable",
          [](const code& c, Index relay, const id_list& ids) {
            return relay >= 0 && relay < c.relays() && c.edge_decodable(relay, pattern::from_ids(c.workers(relay), ids));
          },
          py::arg("edge"), py::arg("ids"))
      .def(
          "master_decodable",
          [](const code& c, const id_list& ids) { return c.master_decodable(pattern::from_ids(c.relays(), ids)); },
          py::arg("ids"))
      .def(
          "relay_decode",
          [](const code& c, Index relay, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, c.relay_message_length());
            gradcode::robust_report r;
            {
              py::gil_scoped_release nogil;
              r = c.relay_decode(relay, ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("relay"), py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "Relay n's message (length C1) from its workers' messages (C2 x len(ids)), adversaries located. Returns "
          "(out, robust_report).")
      .def(
          "server_decode",
          [](const code& c, const id_list& ids, py::handle messages, py::handle out,
             const std::vector<double>& relay_amplification) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, c.dimension());
            gradcode::robust_report r;
            {
              py::gil_scoped_release nogil;
              r = c.server_decode(ids, msg.map, o.map, relay_amplification);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          py::arg("relay_amplification") = std::vector<double>{},
          "g (length d) from the relays' messages (C1 x len(ids)). relay_amplification[t]: error_amplification of the relay "
          "of column t (checks both layers). Returns (out, robust_report).")
      .def(
          "edge_decode",
          [](const code& c, Index edge, const id_list& ids, py::handle messages, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, c.relay_message_length());
            decode_report r;
            {
              py::gil_scoped_release nogil;
              r = c.edge_decode(edge, ids, msg.map, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("edge"), py::arg("ids"), py::arg("messages"), py::kw_only(), py::arg("out") = py::none(),
          "relay_decode in the codec vocabulary: returns (out, decode_report).")
      .def(
          "master_decode",
          [](const code& c, const id_list& ids, py::handle messages, const std::vector<decode_report>& reports, py::handle out) {
            auto msg = matrix_view<Scalar>::make(messages, "messages", true);
            auto o = out_view<Scalar>::make(out, c.dimension());
            decode_report r;
            {
              py::gil_scoped_release nogil;
              r = c.master_decode(ids, msg.map, reports, o.map);
            }
            return py::make_tuple(o.result, r);
          },
          py::arg("ids"), py::arg("messages"), py::arg("edge_reports"), py::kw_only(), py::arg("out") = py::none(),
          "server_decode with the relays' decode_reports (both layers checked): returns (out, decode_report).")
      .def(
          "simulate_round",
          [](const code& c, py::handle partials, const std::vector<worker_id>& straggling_workers,
             const std::vector<Index>& straggling_relays, const std::vector<worker_id>& adversarial_workers,
             const std::vector<Index>& adversarial_relays) {
            auto in = matrix_view<Scalar>::make(partials, "partials");
            gradcode::polynomial_round<Scalar> faults;
            faults.straggling_workers = straggling_workers;
            faults.straggling_relays = straggling_relays;
            faults.adversarial_workers = adversarial_workers;
            faults.adversarial_relays = adversarial_relays;
            gradcode::polynomial_round_result<Scalar> r;
            {
              py::gil_scoped_release nogil;
              r = c.simulate_round(in.map, faults);
            }
            return py::make_tuple(numpy_of(r.gradient), r.relays, r.server);
          },
          py::arg("partials"), py::arg("straggling_workers") = std::vector<worker_id>{},
          py::arg("straggling_relays") = std::vector<Index>{}, py::arg("adversarial_workers") = std::vector<worker_id>{},
          py::arg("adversarial_relays") = std::vector<Index>{},
          "One round end to end (adversaries add 1 to every element of their messages): returns (gradient, relay "
          "reports, server report).");
}

}  // namespace

void bind_hierarchical(py::module_& m) {
  py::class_<hgc_params> hp(m, "hgc_params", "Parameters of a hierarchical gradient code (tang2024).");
  hp.def(py::init([](std::vector<Index> workers, Index partitions, Index edge_tolerance, Index worker_tolerance,
                     gradcode::construction method, std::uint64_t seed, bool allow_load_above_bound) {
           hgc_params p{};
           p.workers = std::move(workers);
           p.partitions = partitions;
           p.edge_tolerance = edge_tolerance;
           p.worker_tolerance = worker_tolerance;
           p.method = method;
           p.seed = seed;
           p.allow_load_above_bound = allow_load_above_bound;
           return p;
         }),
         py::arg("workers"), py::arg("partitions"), py::arg("edge_tolerance") = Index{0}, py::arg("worker_tolerance") = Index{0},
         py::kw_only(), py::arg("method") = gradcode::construction::automatic, py::arg("seed") = std::uint64_t{1},
         py::arg("allow_load_above_bound") = false)
      .def_readwrite("workers", &hgc_params::workers, "m_i, workers of edge i; n = len(workers)")
      .def_readwrite("partitions", &hgc_params::partitions, "K")
      .def_readwrite("edge_tolerance", &hgc_params::edge_tolerance, "s_e in [0, n)")
      .def_readwrite("worker_tolerance", &hgc_params::worker_tolerance, "s_w in [0, min m_i)")
      .def_readwrite("method", &hgc_params::method, "construction of B and every D-bar^i")
      .def_readwrite("seed", &hgc_params::seed, "seed of the random (null-space) constructions")
      .def_readwrite("allow_load_above_bound", &hgc_params::allow_load_above_bound,
                     "water-fill edge loads at K instead of raising when Theorem 1's load is not achievable");
  aggregate_protocol<hgc_params>(
      hp, "hgc_params", std::pair{"workers", &hgc_params::workers}, std::pair{"partitions", &hgc_params::partitions},
      std::pair{"edge_tolerance", &hgc_params::edge_tolerance}, std::pair{"worker_tolerance", &hgc_params::worker_tolerance},
      std::pair{"method", &hgc_params::method}, std::pair{"seed", &hgc_params::seed},
      std::pair{"allow_load_above_bound", &hgc_params::allow_load_above_bound});

  py::class_<polynomial_hgc_params> pp(m, "polynomial_hgc_params", "Parameters of a polynomial hierarchical code (gholami2025).");
  pp.def(py::init([](Index dimension, std::vector<gradcode::assignment> clusters, Index relay_stragglers, Index relay_adversaries,
                     std::vector<Index> worker_stragglers, std::vector<Index> worker_adversaries, gradcode::point_family points,
                     bool order_points) {
           polynomial_hgc_params p{};
           p.dimension = dimension;
           p.clusters = std::move(clusters);
           p.relay_stragglers = relay_stragglers;
           p.relay_adversaries = relay_adversaries;
           p.worker_stragglers = std::move(worker_stragglers);
           p.worker_adversaries = std::move(worker_adversaries);
           p.points = points;
           p.order_points = order_points;
           return p;
         }),
         py::arg("dimension"), py::arg("clusters"), py::arg("relay_stragglers") = Index{0},
         py::arg("relay_adversaries") = Index{0}, py::arg("worker_stragglers") = std::vector<Index>{},
         py::arg("worker_adversaries") = std::vector<Index>{}, py::kw_only(),
         py::arg("points") = gradcode::point_family::unit_circle, py::arg("order_points") = true)
      .def_readwrite("dimension", &polynomial_hgc_params::dimension, "d, length of the gradient")
      .def_readwrite("clusters", &polynomial_hgc_params::clusters, "Gamma_(i,j): per cluster, an assignment worker -> partitions")
      .def_readwrite("relay_stragglers", &polynomial_hgc_params::relay_stragglers, "s1")
      .def_readwrite("relay_adversaries", &polynomial_hgc_params::relay_adversaries, "a1")
      .def_readwrite("worker_stragglers", &polynomial_hgc_params::worker_stragglers, "s2^(i): one per cluster, or one for all")
      .def_readwrite("worker_adversaries", &polynomial_hgc_params::worker_adversaries, "a2^(i): one per cluster, or one for all")
      .def_readwrite("points", &polynomial_hgc_params::points)
      .def_readwrite("order_points", &polynomial_hgc_params::order_points);
  pp.def(py::pickle(
      [](const polynomial_hgc_params& p) {
        return py::make_tuple(p.dimension, p.clusters, p.relay_stragglers, p.relay_adversaries, p.worker_stragglers,
                              p.worker_adversaries, p.points, p.order_points);
      },
      [](const py::tuple& t) {
        if (t.size() != 8) throw gradcode::invalid_input("cannot unpickle polynomial_hgc_params: wrong state size");
        polynomial_hgc_params p{};
        p.dimension = t[0].cast<Index>();
        p.clusters = t[1].cast<std::vector<gradcode::assignment>>();
        p.relay_stragglers = t[2].cast<Index>();
        p.relay_adversaries = t[3].cast<Index>();
        p.worker_stragglers = t[4].cast<std::vector<Index>>();
        p.worker_adversaries = t[5].cast<std::vector<Index>>();
        p.points = t[6].cast<gradcode::point_family>();
        p.order_points = t[7].cast<bool>();
        return p;
      }));

  using gradcode::polynomial_placement;
  py::class_<polynomial_placement> pl(m, "polynomial_placement",
                                      "A placement to generate (hierarchical/polynomial_placement.hpp): each partition on r1 "
                                      "clusters, inside cluster i on r2,i workers; loads proportional to capacities.");
  pl.def(py::init([](std::vector<Index> workers, Index partitions, Index relay_replication, std::vector<Index> worker_replication,
                     std::vector<std::vector<double>> capacities) {
           return polynomial_placement{.workers = std::move(workers),
                                       .partitions = partitions,
                                       .relay_replication = relay_replication,
                                       .worker_replication = std::move(worker_replication),
                                       .capacities = std::move(capacities)};
         }),
         py::arg("workers"), py::arg("partitions"), py::arg("relay_replication") = Index{1},
         py::arg("worker_replication") = std::vector<Index>{}, py::arg("capacities") = std::vector<std::vector<double>>{})
      .def_readwrite("workers", &polynomial_placement::workers, "N2^(i); N1 = len(workers)")
      .def_readwrite("partitions", &polynomial_placement::partitions, "K")
      .def_readwrite("relay_replication", &polynomial_placement::relay_replication, "r1: clusters per partition")
      .def_readwrite("worker_replication", &polynomial_placement::worker_replication, "r2,i: one per cluster, or one for all")
      .def_readwrite("capacities", &polynomial_placement::capacities, "per cluster, relative worker speeds (empty = equal)");
  aggregate_protocol<polynomial_placement>(pl, "polynomial_placement", std::pair{"workers", &polynomial_placement::workers},
                                           std::pair{"partitions", &polynomial_placement::partitions},
                                           std::pair{"relay_replication", &polynomial_placement::relay_replication},
                                           std::pair{"worker_replication", &polynomial_placement::worker_replication},
                                           std::pair{"capacities", &polynomial_placement::capacities});
  m.def("place_partitions", &gradcode::place_partitions, py::arg("placement"),
        "Gamma_(i,j) for a polynomial_placement: a list of assignments, one per cluster (polynomial_hgc's `clusters`).");

  bind_hgc<double>(m);
  bind_hgc<float>(m);
  bind_polynomial<double>(m);
  bind_polynomial<float>(m);
}

}  // namespace gradcode_python
