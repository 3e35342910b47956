// SPDX-License-Identifier: MIT
// Python bindings of the single-layer gradient codes (include/gradcode/codes/): fractional
// repetition, cyclic repetition, cyclic MDS, heterogeneous — each as <name>_params and
// <name>_code_f64 / _f32 (python/gradcode/__init__.py picks one by dtype=).
#include "common.hpp"
#include "linear.hpp"

#include "gradcode/codes/cyclic_mds.hpp"
#include "gradcode/codes/cyclic_repetition.hpp"
#include "gradcode/codes/fractional_repetition.hpp"
#include "gradcode/codes/heterogeneous.hpp"

namespace gradcode_python {

namespace {

using gradcode::decode_options;
using opt_options = std::optional<decode_options>;

/// <name>_code_f64/_f32 over with_params<Code<Scalar>, Params>: a constructor from the params
/// object, the shared linear-code methods, `params`, and pickling as (params, options).
template <class Scalar, template <class> class Code, class Params>
py::class_<with_params<Code<Scalar>, Params>, gradcode::linear_code<Scalar>> bind_code(py::module_& m, const std::string& base,
                                                                                       const char* doc) {
  using bound = with_params<Code<Scalar>, Params>;
  const std::string name = base + "_code_" + suffix<Scalar>();
  py::class_<bound, gradcode::linear_code<Scalar>> cls(m, name.c_str(), doc);
  cls.def(py::init([](const Params& p, const opt_options& o) { return new bound(p, options_or_default(o)); }), py::arg("params"),
          py::kw_only(), py::arg("options") = py::none())
      .def_property_readonly(
          "params", [](const bound& c) { return c.params; }, "The parameters the code was built from (a copy).")
      .def(py::pickle([](const bound& c) { return py::make_tuple(c.params, c.opts); },
                      [](const py::tuple& t) {
                        if (t.size() != 2) throw gradcode::invalid_input("cannot unpickle a code: wrong state size");
                        return new bound(t[0].cast<Params>(), t[1].cast<decode_options>());
                      }));
  return cls;
}

template <class Scalar>
void bind_scalar(py::module_& m) {
  using gradcode::cyclic_mds_params;
  using gradcode::cyclic_repetition_params;
  using gradcode::fractional_repetition_params;
  using gradcode::heterogeneous_params;
  bind_linear_base<Scalar>(m);

  auto fr = bind_code<Scalar, gradcode::fractional_repetition_code, fractional_repetition_params>(
      m, "fractional_repetition",
      "Fractional repetition code (Tandon et al. 2017 §III-A): n nodes in n/(s+1) groups; any one responder per group "
      "suffices. Build with gradcode.fractional_repetition_code(nodes, partitions, tolerance, dtype=...).");
  fr.def(py::init([](Index nodes, Index partitions, Index tolerance, const opt_options& o) {
           using bound = with_params<gradcode::fractional_repetition_code<Scalar>, fractional_repetition_params>;
           return new bound({.nodes = nodes, .partitions = partitions, .tolerance = tolerance}, options_or_default(o));
         }),
         py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(), py::arg("options") = py::none())
      .def(
          "groups",
          [](const with_params<gradcode::fractional_repetition_code<Scalar>, fractional_repetition_params>& c) {
            return c.groups();
          },
          "n/(s+1) groups; node i belongs to group i/(s+1).");

  auto cr = bind_code<Scalar, gradcode::cyclic_repetition_code, cyclic_repetition_params>(
      m, "cyclic_repetition",
      "Cyclic repetition code (Tandon et al. 2017 §III-B): node i holds partitions i..i+s (mod n), blocks when K > n; any "
      "n - s responders decode. Build with gradcode.cyclic_repetition_code(nodes, partitions, tolerance, dtype=...).");
  cr.def(py::init([](Index nodes, Index partitions, Index tolerance, gradcode::construction method, std::uint64_t seed,
                     const opt_options& o) {
           using bound = with_params<gradcode::cyclic_repetition_code<Scalar>, cyclic_repetition_params>;
           cyclic_repetition_params p{};
           p.nodes = nodes;
           p.partitions = partitions;
           p.tolerance = tolerance;
           p.method = method;
           p.seed = seed;
           return new bound(p, options_or_default(o));
         }),
         py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(),
         py::arg("method") = gradcode::construction::null_space, py::arg("seed") = std::uint64_t{1},
         py::arg("options") = py::none());

  bind_code<Scalar, gradcode::cyclic_mds_code, cyclic_mds_params>(
      m, "cyclic_mds",
      "Real cyclic-MDS code (Raviv et al. 2018) on the cyclic support; needs n - s odd. Build with "
      "gradcode.cyclic_mds_code(nodes, partitions, tolerance, dtype=...).")
      .def(py::init([](Index nodes, Index partitions, Index tolerance, const opt_options& o) {
             using bound = with_params<gradcode::cyclic_mds_code<Scalar>, cyclic_mds_params>;
             return new bound({.nodes = nodes, .partitions = partitions, .tolerance = tolerance}, options_or_default(o));
           }),
           py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(),
           py::arg("options") = py::none());

  bind_code<Scalar, gradcode::heterogeneous_code, heterogeneous_params>(
      m, "heterogeneous",
      "Heterogeneity-aware code (Wang et al. 2019): loads proportional to `capacities`, each partition on s+1 nodes, B "
      "from the null-space construction. Build with gradcode.heterogeneous_code(capacities, partitions, tolerance, dtype=...).")
      .def(py::init(
               [](std::vector<double> capacities, Index partitions, Index tolerance, std::uint64_t seed, const opt_options& o) {
                 using bound = with_params<gradcode::heterogeneous_code<Scalar>, heterogeneous_params>;
                 return new bound(
                     {.capacities = std::move(capacities), .partitions = partitions, .tolerance = tolerance, .seed = seed},
                     options_or_default(o));
               }),
           py::arg("capacities"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(),
           py::arg("seed") = std::uint64_t{1}, py::arg("options") = py::none());
}

}  // namespace

void bind_codes(py::module_& m) {
  using gradcode::cyclic_mds_params;
  using gradcode::cyclic_repetition_params;
  using gradcode::fractional_repetition_params;
  using gradcode::heterogeneous_params;

  py::class_<fractional_repetition_params> fr(m, "fractional_repetition_params", "Parameters of a fractional repetition code.");
  fr.def(py::init([](Index nodes, Index partitions, Index tolerance) {
           return fractional_repetition_params{.nodes = nodes, .partitions = partitions, .tolerance = tolerance};
         }),
         py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0})
      .def_readwrite("nodes", &fractional_repetition_params::nodes, "n, divisible by s + 1")
      .def_readwrite("partitions", &fractional_repetition_params::partitions, "K >= n/(s+1)")
      .def_readwrite("tolerance", &fractional_repetition_params::tolerance, "s");
  aggregate_protocol<fractional_repetition_params>(fr, "fractional_repetition_params",
                                                   std::pair{"nodes", &fractional_repetition_params::nodes},
                                                   std::pair{"partitions", &fractional_repetition_params::partitions},
                                                   std::pair{"tolerance", &fractional_repetition_params::tolerance});

  py::class_<cyclic_repetition_params> cr(m, "cyclic_repetition_params", "Parameters of a cyclic repetition code.");
  cr.def(py::init([](Index nodes, Index partitions, Index tolerance, gradcode::construction method, std::uint64_t seed) {
           cyclic_repetition_params p{};
           p.nodes = nodes;
           p.partitions = partitions;
           p.tolerance = tolerance;
           p.method = method;
           p.seed = seed;
           return p;
         }),
         py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(),
         py::arg("method") = gradcode::construction::null_space, py::arg("seed") = std::uint64_t{1})
      .def_readwrite("nodes", &cyclic_repetition_params::nodes, "n")
      .def_readwrite("partitions", &cyclic_repetition_params::partitions, "K >= n (n blocks)")
      .def_readwrite("tolerance", &cyclic_repetition_params::tolerance, "s")
      .def_readwrite(
          "method", &cyclic_repetition_params::method,
          "how B is built: null_space (spectral, default), tandon_random (Tandon et al. Algorithm 2), automatic, cyclic_mds")
      .def_readwrite("seed", &cyclic_repetition_params::seed,
                     "seed of the random H (tandon_random) or of the null-space fallback");
  aggregate_protocol<cyclic_repetition_params>(
      cr, "cyclic_repetition_params", std::pair{"nodes", &cyclic_repetition_params::nodes},
      std::pair{"partitions", &cyclic_repetition_params::partitions},
      std::pair{"tolerance", &cyclic_repetition_params::tolerance}, std::pair{"method", &cyclic_repetition_params::method},
      std::pair{"seed", &cyclic_repetition_params::seed});

  py::class_<cyclic_mds_params> mds(m, "cyclic_mds_params", "Parameters of a cyclic MDS code (n - s odd).");
  mds.def(py::init([](Index nodes, Index partitions, Index tolerance) {
            return cyclic_mds_params{.nodes = nodes, .partitions = partitions, .tolerance = tolerance};
          }),
          py::arg("nodes"), py::arg("partitions"), py::arg("tolerance") = Index{0})
      .def_readwrite("nodes", &cyclic_mds_params::nodes, "n")
      .def_readwrite("partitions", &cyclic_mds_params::partitions, "K >= n")
      .def_readwrite("tolerance", &cyclic_mds_params::tolerance, "s, with n - s odd");
  aggregate_protocol<cyclic_mds_params>(mds, "cyclic_mds_params", std::pair{"nodes", &cyclic_mds_params::nodes},
                                        std::pair{"partitions", &cyclic_mds_params::partitions},
                                        std::pair{"tolerance", &cyclic_mds_params::tolerance});

  py::class_<heterogeneous_params> het(m, "heterogeneous_params", "Parameters of a heterogeneity-aware code.");
  het.def(py::init([](std::vector<double> capacities, Index partitions, Index tolerance, std::uint64_t seed) {
            return heterogeneous_params{
                .capacities = std::move(capacities), .partitions = partitions, .tolerance = tolerance, .seed = seed};
          }),
          py::arg("capacities"), py::arg("partitions"), py::arg("tolerance") = Index{0}, py::kw_only(),
          py::arg("seed") = std::uint64_t{1})
      .def_readwrite("capacities", &heterogeneous_params::capacities, "c_i > 0, relative throughput of node i; n = len")
      .def_readwrite("partitions", &heterogeneous_params::partitions, "K")
      .def_readwrite("tolerance", &heterogeneous_params::tolerance, "s")
      .def_readwrite("seed", &heterogeneous_params::seed, "seed of the null-space construction");
  aggregate_protocol<heterogeneous_params>(
      het, "heterogeneous_params", std::pair{"capacities", &heterogeneous_params::capacities},
      std::pair{"partitions", &heterogeneous_params::partitions}, std::pair{"tolerance", &heterogeneous_params::tolerance},
      std::pair{"seed", &heterogeneous_params::seed});

  bind_scalar<double>(m);
  bind_scalar<float>(m);
}

}  // namespace gradcode_python
