// SPDX-License-Identifier: MIT
// gc_dl<Scalar>: 1-bit GC-DL of li-skoglund §III and its §V baselines — eq. (5) against a dense
// oracle, Lemma 1 (unbiasedness) and Lemma 2 (second moment) checked statistically with fixed
// seeds, the ψ_t = tρ counter, step() against encode + quantize + decode, and every error path.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gradcode/core/codec.hpp>
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/placement.hpp>

#include "test_support.hpp"

using gradcode::communication_counter;
using gradcode::gc_dl;
using gradcode::gc_dl_method;
using gradcode::Index;
using gradcode::matrix;
using gradcode::one_bit_vector;
using gradcode::place_samples;
using gradcode::placement_kind;
using gradcode::vector;

namespace {
using gradcode::test::correlated_gradients;
using gradcode::test::what_contains;

struct setting {
  std::string name;
  gc_dl_method method;
  gradcode::assignment placement;
  bool pairwise;
};

std::vector<setting> settings() {
  using gradcode::placement_params;
  std::vector<setting> out;
  const auto balanced =
      place_samples({.workers = 16, .samples = 15, .replication = 8, .kind = placement_kind::pairwise_balanced});
  out.push_back({"1-bit GC-DL, pair-wise balanced n=16 m=15 d=8", gc_dl_method::one_bit, balanced, true});
  out.push_back({"SGC-DL, pair-wise balanced n=16 m=15 d=8", gc_dl_method::sgc, balanced, true});
  out.push_back({"1-bit GC-DL, random n=16 m=40 d=4", gc_dl_method::one_bit,
                 place_samples({.workers = 16, .samples = 40, .replication = 4, .seed = 3}), false});
  out.push_back({"Ignore-stragglers 1-bit DL, random n=16 m=40 d=1", gc_dl_method::ignore_stragglers,
                 place_samples({.workers = 16, .samples = 40, .replication = 1, .seed = 3}), false});
  return out;
}

/// All f_j (w × n) of eq. (5) for gradients G.
matrix<double> all_updates(const gc_dl<double>& scheme, const matrix<double>& G) {
  return G * matrix<double>(scheme.encoding_matrix()).transpose();
}

std::vector<Index> replications(const gc_dl<double>& s) {
  std::vector<Index> d;
  for (Index i = 0; i < s.partitions(); ++i) d.push_back(s.replication(i));
  return d;
}

}  // namespace

TEST_CASE("gc_dl: encode is eq. (5), f_j = Σ_{i∈S_j} ∇L_i/(d_i(1−p)), and held columns give the same f_j bit for bit",
          "[gc_dl][oracle]") {
  const auto placement = place_samples({.workers = 7, .samples = 30, .replications = std::vector<Index>(30, 3), .seed = 4});
  const gc_dl<double> scheme({.placement = placement, .dimension = 50, .straggler_probability = 0.2});
  const matrix<double> G = correlated_gradients(50, 30, 1);
  for (Index j = 0; j < 7; ++j) {
    vector<double> oracle = vector<double>::Zero(50), f(50), f_held(50);
    const auto held = placement.partitions_of(j);
    matrix<double> H(50, static_cast<Index>(held.size()));
    for (std::size_t t = 0; t < held.size(); ++t) {
      oracle += G.col(held[t]) / (3 * 0.8);
      H.col(static_cast<Index>(t)) = G.col(held[t]);
    }
    scheme.encode(j, G, f);
    scheme.encode_held(j, H, f_held);
    INFO("worker " << j);
    CHECK((f - oracle).norm() <= 1e-12 * oracle.norm());
    CHECK(f == f_held);
  }
}

TEST_CASE("gc_dl: Σ_j (1 − p) f_j = ∇L̂ exactly for any placement (eq. (11)), and sample_weight is 1/(d_i(1−p))", "[gc_dl][kat]") {
  std::vector<Index> d(40);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = 1 + static_cast<Index>(i % 5);
  const gc_dl<double> scheme({.placement = place_samples({.workers = 9, .samples = 40, .replications = d, .seed = 8}),
                              .dimension = 20,
                              .straggler_probability = 0.3});
  const matrix<double> G = correlated_gradients(20, 40, 2);
  const vector<double> sum = 0.7 * all_updates(scheme, G).rowwise().sum();
  CHECK((sum - G.rowwise().sum()).norm() <= 1e-12 * G.rowwise().sum().norm());
  CHECK(scheme.sample_weight(3) == Approx(1.0 / (4 * 0.7)));
  CHECK(scheme.replication(3) == 4);
}

TEST_CASE(
    "gc_dl: Lemma 1 — the mean of ĝ over 20000 iterations is within 5 Lemma-2 standard errors of ∇L̂, and within 4.5 sigma per "
    "coordinate",
    "[gc_dl][statistical]") {
  constexpr int N = 20000;
  const double p = 0.1;
  for (const auto& s : settings()) {
    const gc_dl<double> scheme(
        {.placement = s.placement, .dimension = 32, .straggler_probability = p, .method = s.method, .seed = 2024});
    const matrix<double> G = correlated_gradients(32, scheme.partitions(), 9);
    const matrix<double> F = all_updates(scheme, G);
    const vector<double> g = G.rowwise().sum();
    vector<double> sum = vector<double>::Zero(32), sum2 = vector<double>::Zero(32), g_hat(32);
    for (int t = 0; t < N; ++t) {
      scheme.step(
          static_cast<std::uint64_t>(t), [&](Index j, Eigen::Ref<vector<double>> f) { f = F.col(j); }, g_hat);
      sum += g_hat;
      sum2 += g_hat.cwiseProduct(g_hat);
    }
    const vector<double> mean = sum / N;
    // Variance of ĝ: E‖ĝ‖² − ‖∇L̂‖², bounded by eq. (13) with C = max‖∇L_i‖² for a pair-wise balanced
    // placement; the exact Appendix-A value otherwise (eq. (13) presumes eq. (39)).
    const double C = G.colwise().squaredNorm().maxCoeff();
    const double second = s.pairwise && s.method != gc_dl_method::sgc
                              ? gradcode::second_moment_bound(C, scheme.nodes(), p, 32, replications(scheme))
                              : scheme.expected_squared_norm(F);
    const double radius = 5 * std::sqrt((second - g.squaredNorm()) / N);
    const double err = (mean - g).norm();
    INFO(s.name << ": ‖mean ĝ − ∇L̂‖ = " << err << ", radius " << radius << ", ‖∇L̂‖ = " << g.norm());
    CHECK(err <= radius);
    double worst = 0;
    for (Index k = 0; k < 32; ++k) {
      const double sd = std::sqrt((sum2[k] / N - mean[k] * mean[k]) / N);
      worst = std::max(worst, std::abs(mean[k] - g[k]) / sd);
    }
    INFO("worst coordinate " << worst << " sigma");
    CHECK(worst <= 4.5);
    // Power: dropping the 1/(1−p) of eq. (5) would shift the mean by p·∇L̂, outside the radius
    // (the negative-control test below runs it).
    CHECK(p * g.norm() > radius);
  }
}

TEST_CASE("gc_dl: the Lemma 1 check rejects a biased aggregator (negative control: ĝ without the 1/(1−p) of eq. (5))",
          "[gc_dl][statistical]") {
  constexpr int N = 20000;
  const double p = 0.1;
  const auto placement =
      place_samples({.workers = 16, .samples = 15, .replication = 8, .kind = placement_kind::pairwise_balanced});
  const gc_dl<double> scheme({.placement = placement, .dimension = 32, .straggler_probability = p, .seed = 2024});
  const matrix<double> G = correlated_gradients(32, 15, 9);
  const matrix<double> F = (1 - p) * all_updates(scheme, G);  // f_j · (1 − p): the biased update
  const vector<double> g = G.rowwise().sum();
  vector<double> sum = vector<double>::Zero(32), g_hat(32);
  for (int t = 0; t < N; ++t) {
    scheme.step(
        static_cast<std::uint64_t>(t), [&](Index j, Eigen::Ref<vector<double>> f) { f = F.col(j); }, g_hat);
    sum += g_hat;
  }
  const double C = G.colwise().squaredNorm().maxCoeff();
  const double bound = gradcode::second_moment_bound(C, 16, p, 32, std::vector<Index>(15, 8));
  const double radius = 5 * std::sqrt((bound - g.squaredNorm()) / N);
  INFO("‖mean − ∇L̂‖ = " << (sum / N - g).norm() << ", radius " << radius);
  CHECK((sum / N - g).norm() > radius);
}

TEST_CASE("gc_dl: Lemma 2 — E‖ĝ‖² over 20000 iterations matches Appendix A's exact value within 4 sigma and stays below eq. (13)",
          "[gc_dl][statistical]") {
  constexpr int N = 20000;
  const double p = 0.25;
  const auto placement = place_samples({.workers = 16,
                                        .samples = 11,
                                        .replications = {4, 4, 4, 8, 8, 8, 8, 8, 8, 16, 16},
                                        .kind = placement_kind::pairwise_balanced});
  for (auto method : {gc_dl_method::one_bit, gc_dl_method::sgc}) {
    const gc_dl<double> scheme(
        {.placement = placement, .dimension = 24, .straggler_probability = p, .method = method, .seed = 77});
    const matrix<double> G = correlated_gradients(24, 11, 5);
    const matrix<double> F = all_updates(scheme, G);
    vector<double> g_hat(24);
    double sum = 0, sum2 = 0;
    for (int t = 0; t < N; ++t) {
      scheme.step(
          static_cast<std::uint64_t>(t), [&](Index j, Eigen::Ref<vector<double>> f) { f = F.col(j); }, g_hat);
      const double e = g_hat.squaredNorm();
      sum += e;
      sum2 += e * e;
    }
    const double mean = sum / N, sd = std::sqrt((sum2 / N - mean * mean) / N);
    const double exact = scheme.expected_squared_norm(F);
    const double bound = gradcode::second_moment_bound(G.colwise().squaredNorm().maxCoeff(), 16, p, 24, replications(scheme));
    INFO(gradcode::method_name(method) << ": empirical E‖ĝ‖² " << mean << " ± " << sd << ", exact " << exact << ", eq. (13) "
                                       << bound);
    CHECK(std::abs(mean - exact) <= 4 * sd);
    CHECK(mean <= bound);
  }
}

TEST_CASE("gc_dl: eq. (13) is attained when every ∇L_i is the same vector of squared norm C on a pair-wise balanced placement",
          "[gc_dl][kat]") {
  const auto placement = place_samples({.workers = 32,
                                        .samples = 23,
                                        .replications =
                                            [] {
                                              std::vector<Index> d(4, 8);
                                              d.insert(d.end(), 19, 16);
                                              return d;
                                            }(),
                                        .kind = placement_kind::pairwise_balanced});
  const gc_dl<double> scheme({.placement = placement, .dimension = 10, .straggler_probability = 0.1});
  vector<double> v = vector<double>::LinSpaced(10, -1, 2);
  const matrix<double> G = v.replicate(1, 23);
  const double bound = gradcode::second_moment_bound(v.squaredNorm(), 32, 0.1, 10, replications(scheme));
  CHECK(scheme.expected_squared_norm(all_updates(scheme, G)) == Approx(bound).epsilon(1e-12));
}

TEST_CASE("gc_dl: ψ_t = tρ with ρ = w + ζ (1-bit) and wζ (SGC-DL): 164 and 6400 bits at w = 100 in double (§V-A)",
          "[gc_dl][kat]") {
  const auto placement = place_samples({.workers = 100, .samples = 1000, .replication = 20, .seed = 1});
  const gc_dl<double> one_bit({.placement = placement, .dimension = 100, .straggler_probability = 0.1});
  const gc_dl<double> sgc({.placement = placement, .dimension = 100, .straggler_probability = 0.1, .method = gc_dl_method::sgc});
  const gc_dl<float> one_bit_f({.placement = placement, .dimension = 100, .straggler_probability = 0.1});
  CHECK(one_bit.bits_per_message() == 164);
  CHECK(sgc.bits_per_message() == 6400);
  CHECK(one_bit_f.bits_per_message() == 132);
  communication_counter psi(one_bit.bits_per_message());
  std::uint64_t messages = 0;
  for (std::uint64_t t = 0; t < 25; ++t) {
    const auto n = static_cast<Index>(one_bit.responders(t).size());
    psi.record(n);
    messages += static_cast<std::uint64_t>(n);
  }
  CHECK(psi.iterations() == 25);
  CHECK(psi.psi() == 25 * 164);
  CHECK(psi.total_bits() == messages * 164);
  CHECK_THROWS_AS(communication_counter(0), gradcode::invalid_parameters);
  CHECK_THROWS_AS(psi.record(-1), gradcode::invalid_input);
}

TEST_CASE("gc_dl: responders are reproducible from the seed and each worker responds with frequency 1 − p within 4 sigma",
          "[gc_dl][statistical]") {
  const gc_dl<double> scheme({.placement = place_samples({.workers = 20, .samples = 20, .replication = 2}),
                              .dimension = 4,
                              .straggler_probability = 0.3,
                              .seed = 5});
  constexpr int T = 10000;
  std::vector<int> count(20, 0);
  for (std::uint64_t t = 0; t < T; ++t) {
    const auto ids = scheme.responders(t);
    for (Index j : ids) {
      ++count[static_cast<std::size_t>(j)];
      REQUIRE(scheme.responds(j, t));
    }
  }
  for (int c : count) CHECK(std::abs(c - 0.7 * T) <= 4 * std::sqrt(T * 0.21));
  CHECK(scheme.responders(123) == scheme.responders(123));
  const gc_dl<double> other({.placement = scheme.placement(), .dimension = 4, .straggler_probability = 0.3, .seed = 6});
  bool differs = false;
  for (std::uint64_t t = 0; t < 20; ++t) differs = differs || other.responders(t) != scheme.responders(t);
  CHECK(differs);
  const gc_dl<double> never({.placement = scheme.placement(), .dimension = 4, .straggler_probability = 0.0});
  CHECK(never.responders(9).size() == 20);
}

TEMPLATE_TEST_CASE(
    "gc_dl: decode is eq. (8) — the dense oracle Σ_j ‖f_j‖h_j — for any order and subset, and no arrivals give ĝ = 0",
    "[gc_dl][oracle]", float, double) {
  using T = TestType;
  const gc_dl<T> scheme({.placement = place_samples({.workers = 6, .samples = 12, .replication = 2, .seed = 1}),
                         .dimension = 130,
                         .straggler_probability = 0.1});
  std::vector<one_bit_vector<T>> msgs(6);
  for (Index j = 0; j < 6; ++j) scheme.quantize(j, 3, vector<T>::Random(130), msgs[static_cast<std::size_t>(j)]);
  const std::vector<Index> ids{4, 0, 5};
  const std::vector<one_bit_vector<T>> arrived{msgs[4], msgs[0], msgs[5]};
  vector<T> out(130), oracle = vector<T>::Zero(130);
  for (const auto& h : arrived)
    for (Index k = 0; k < 130; ++k) oracle[k] += static_cast<T>(h.sign(k)) * h.scale;
  const gradcode::decode_report report = scheme.decode(ids, std::span<const one_bit_vector<T>>(arrived), out);
  CHECK(out == oracle);
  CHECK(report.used == std::vector<Index>{0, 4, 5});  // ascending, whatever the arrival order
  CHECK_FALSE(report.exact);                          // ĝ is an unbiased estimate (Lemma 1), not the sum
  CHECK(report.corrupted.empty());
  const auto none = scheme.decode({}, std::span<const one_bit_vector<T>>(), out);
  CHECK(out.isZero(0));
  CHECK(none.used.empty());
}

TEMPLATE_TEST_CASE(
    "gc_dl: decode over one_bit_views parsed by from_wire into one receive buffer equals decode over the messages, bit for bit",
    "[gc_dl][wire][oracle]", float, double) {
  using T = TestType;
  const gc_dl<T> scheme({.placement = place_samples({.workers = 5, .samples = 10, .replication = 2, .seed = 4}),
                         .dimension = 77,
                         .straggler_probability = 0.2,
                         .seed = 8});
  const auto& q = scheme.quantizer();
  const std::vector<Index> ids{3, 1, 4};
  std::vector<one_bit_vector<T>> msgs(ids.size());
  for (std::size_t t = 0; t < ids.size(); ++t) scheme.quantize(ids[t], 2, vector<T>::Random(77), msgs[t]);
  const auto wc = static_cast<std::size_t>(q.word_count());
  std::vector<std::uint64_t> storage(ids.size() * wc);
  std::vector<gradcode::one_bit_view<T>> views;
  for (std::size_t t = 0; t < ids.size(); ++t)
    views.push_back(
        q.from_wire(q.to_wire(msgs[t]), std::span<std::uint64_t>(storage.data() + t * wc, wc), static_cast<long long>(ids[t])));
  vector<T> direct(77), parsed(77);
  scheme.decode(ids, std::span<const one_bit_vector<T>>(msgs), direct);
  const auto report = scheme.decode(ids, std::span<const gradcode::one_bit_view<T>>(views), parsed);
  CHECK(parsed == direct);
  CHECK(report.used == std::vector<Index>{1, 3, 4});
}

TEST_CASE("gc_dl: SGC-DL's decode reports exact only for p = 0 with every worker, and gc_dl is not a gradcode::codec",
          "[gc_dl][report]") {
  // gc_dl.hpp says why: 1-bit messages are bits, depend on the iteration, and need no plan.
  static_assert(!gradcode::codec<gc_dl<double>>);
  const auto placement = place_samples({.workers = 4, .samples = 8, .replication = 2});
  const gc_dl<double> exact({.placement = placement, .dimension = 6, .method = gc_dl_method::sgc});
  const gc_dl<double> lossy({.placement = placement, .dimension = 6, .straggler_probability = 0.1, .method = gc_dl_method::sgc});
  CHECK(exact.tolerance() == 4);
  const matrix<double> G = correlated_gradients(6, 8, 5);
  matrix<double> M(6, 4);
  for (Index j = 0; j < 4; ++j) exact.encode(j, G, M.col(j));
  const std::vector<Index> all{2, 0, 3, 1};
  vector<double> out(6);
  const auto report = exact.decode(all, M, out);
  CHECK(report.exact);
  CHECK(report.used == std::vector<Index>{0, 1, 2, 3});
  CHECK((out - G.rowwise().sum()).cwiseAbs().maxCoeff() <= 1e-12 * G.cwiseAbs().sum());  // p = 0: ĝ = Σ_i ∇L_i
  CHECK_FALSE(exact.decode(std::vector<Index>{0, 1, 2}, M.leftCols(3), out).exact);      // a straggler: an estimate
  CHECK_FALSE(lossy.decode(all, M, out).exact);                                          // p > 0: weights 1/(d_i(1 − p))
}

TEST_CASE("gc_dl: step() equals encode + quantize + decode over responders(t), bit for bit", "[gc_dl][oracle]") {
  const matrix<double> G = correlated_gradients(70, 25, 3);
  for (auto method : {gc_dl_method::one_bit, gc_dl_method::sgc}) {
    const gc_dl<double> scheme({.placement = place_samples({.workers = 10, .samples = 25, .replication = 3, .seed = 2}),
                                .dimension = 70,
                                .straggler_probability = 0.4,
                                .method = method,
                                .seed = 99});
    for (std::uint64_t t = 0; t < 5; ++t) {
      vector<double> stepped(70), manual(70), f(70);
      const auto report = scheme.step(
          t, [&](Index j, Eigen::Ref<vector<double>> out) { scheme.encode(j, G, out); }, stepped);
      const auto ids = scheme.responders(t);
      CHECK(report.responders == static_cast<Index>(ids.size()));
      CHECK(report.bits == ids.size() * static_cast<std::uint64_t>(scheme.bits_per_message()));
      if (method == gc_dl_method::one_bit) {
        std::vector<one_bit_vector<double>> msgs(ids.size());
        for (std::size_t r = 0; r < ids.size(); ++r) {
          scheme.encode(ids[r], G, f);
          scheme.quantize(ids[r], t, f, msgs[r]);
        }
        scheme.decode(ids, std::span<const one_bit_vector<double>>(msgs), manual);
      } else {
        matrix<double> M(70, static_cast<Index>(ids.size()));
        for (std::size_t r = 0; r < ids.size(); ++r) scheme.encode(ids[r], G, M.col(static_cast<Index>(r)));
        scheme.decode(ids, M, manual);
      }
      CHECK(stepped == manual);
    }
  }
}

TEST_CASE("gc_dl: repeated or out-of-range ids, malformed messages and shape mismatches throw invalid_input naming the node",
          "[gc_dl][errors]") {
  using gradcode::invalid_input;
  const gc_dl<double> scheme({.placement = place_samples({.workers = 4, .samples = 8, .replication = 2}), .dimension = 10});
  std::vector<one_bit_vector<double>> msgs(2);
  scheme.quantize(0, 0, vector<double>::Ones(10), msgs[0]);
  scheme.quantize(1, 0, vector<double>::Ones(10), msgs[1]);
  vector<double> out(10);
  const std::span<const one_bit_vector<double>> view(msgs);
  CHECK_THROWS_MATCHES(scheme.decode(std::vector<Index>{1, 1}, view, out), invalid_input, what_contains("node 1 appears twice"));
  CHECK_THROWS_MATCHES(scheme.decode(std::vector<Index>{0, 4}, view, out), invalid_input, what_contains("4"));
  CHECK_THROWS_MATCHES(scheme.decode(std::vector<Index>{0}, view, out), invalid_input,
                       what_contains("1 worker ids for 2 messages"));
  msgs[1].scale = std::numeric_limits<double>::quiet_NaN();
  try {
    scheme.decode(std::vector<Index>{0, 3}, view, out);
    FAIL("no throw");
  } catch (const invalid_input& e) {
    CHECK(e.node() == 3);
  }
  msgs[1].scale = 1;
  vector<double> short_out(9);
  CHECK_THROWS_AS(scheme.decode(std::vector<Index>{0, 3}, view, short_out), invalid_input);
  CHECK_THROWS_MATCHES(scheme.decode(std::vector<Index>{0}, matrix<double>::Ones(10, 1), out), invalid_input,
                       what_contains("1-bit"));
  CHECK_THROWS_MATCHES(scheme.encode(5, matrix<double>::Ones(10, 8), out), invalid_input, what_contains("worker id 5"));
  CHECK_THROWS_MATCHES(scheme.encode(0, matrix<double>::Ones(10, 7), out), invalid_input, what_contains("w × m = 10 × 8"));
  matrix<double> G = matrix<double>::Ones(10, 8);
  G(3, scheme.placement().partitions_of(2)[0]) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_MATCHES(scheme.encode(2, G, out), invalid_input, what_contains("worker 2"));
  const gc_dl<double> sgc({.placement = scheme.placement(), .dimension = 10, .method = gc_dl_method::sgc});
  matrix<double> M = matrix<double>::Ones(10, 2);
  M(0, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(sgc.decode(std::vector<Index>{2, 3}, M, out), invalid_input, what_contains("worker 3"));
  CHECK_THROWS_AS(sgc.quantize(0, 0, vector<double>::Ones(10), msgs[0]), invalid_input);
}

TEST_CASE(
    "gc_dl: invalid parameters throw invalid_parameters (p not in 0 ≤ p < 1, w < 1, an uncovered sample, ignore-stragglers with "
    "d_i > 1)",
    "[gc_dl][errors]") {
  using gradcode::invalid_parameters;
  const auto placement = place_samples({.workers = 4, .samples = 8, .replication = 2});
  CHECK_THROWS_MATCHES(gc_dl<double>({.placement = placement, .dimension = 10, .straggler_probability = 1.0}), invalid_parameters,
                       what_contains("p = 1"));
  CHECK_THROWS_AS(gc_dl<double>({.placement = placement, .dimension = 10, .straggler_probability = -0.1}), invalid_parameters);
  CHECK_THROWS_MATCHES(gc_dl<double>({.placement = placement, .dimension = 0}), invalid_parameters, what_contains("w = 0"));
  CHECK_THROWS_MATCHES(gc_dl<double>({.placement = gradcode::assignment(3, {{0}, {2}}), .dimension = 4}), invalid_parameters,
                       what_contains("sample 1 is on no worker"));
  CHECK_THROWS_MATCHES(gc_dl<double>({.placement = placement, .dimension = 10, .method = gc_dl_method::ignore_stragglers}),
                       invalid_parameters, what_contains("d_i = 2"));
  CHECK_THROWS_AS(gc_dl<double>({.dimension = 10}), invalid_parameters);
}

TEMPLATE_TEST_CASE(
    "gc_dl: decode and step of valid messages whose norms sum past the Scalar range throw invalid_input naming the worker",
    "[gc_dl][errors][extreme]", float, double) {
  using T = TestType;
  using gradcode::invalid_input;
  const Index w = 1;  // h_0 = +1 always for f = (0.6·max): every message adds +0.6·max
  const T scale = std::numeric_limits<T>::max() / 4 * T(2.4);
  const auto placement = place_samples({.workers = 4, .samples = 8, .replication = 2});
  const gc_dl<T> scheme({.placement = placement, .dimension = w});
  vector<T> f = vector<T>::Zero(w);
  f[0] = scale;
  std::vector<one_bit_vector<T>> msgs(3);
  for (Index j = 0; j < 3; ++j) scheme.quantize(j, 0, f, msgs[static_cast<std::size_t>(j)]);
  vector<T> out = vector<T>::Constant(w, T(5));
  try {
    scheme.decode(std::vector<Index>{2, 0, 1}, std::span<const one_bit_vector<T>>(msgs), out);
    FAIL("decode returned a sum with +inf");
  } catch (const invalid_input& e) {
    CHECK(e.node() == 0);  // the second message in arrival order overflows
    CHECK_THAT(std::string(e.what()), Catch::Matchers::Contains("coordinate 0"));
  }
  CHECK(out == vector<T>::Constant(w, T(5)));  // untouched
  CHECK_NOTHROW(scheme.decode(std::vector<Index>{3}, std::span<const one_bit_vector<T>>(msgs.data(), 1), out));
  CHECK(out[0] == scale);
  // step(): every worker responds (p = 0) with the same huge f.
  CHECK_THROWS_MATCHES(scheme.step(
                           0, [&](Index, Eigen::Ref<vector<T>> fj) { fj = f; }, out),
                       invalid_input, what_contains("step") && what_contains("(node 1)"));
  const gc_dl<T> sgc({.placement = placement, .dimension = w, .method = gc_dl_method::sgc});
  matrix<T> M = matrix<T>::Zero(w, 2);
  M.col(0) = f;
  M.col(1) = f;
  CHECK_THROWS_MATCHES(sgc.decode(std::vector<Index>{3, 1}, M, out), invalid_input, what_contains("worker 1"));
  CHECK_THROWS_MATCHES(sgc.step(
                           0, [&](Index, Eigen::Ref<vector<T>> fj) { fj = f; }, out),
                       invalid_input, what_contains("worker 1"));
  M.col(1) = -f;  // cancels: no overflow, no false alarm
  sgc.decode(std::vector<Index>{3, 1}, M, out);
  CHECK(out.isZero(0));
}

TEST_CASE(
    "gc_dl: second_moment_bound with n = 0, p = 1, d_i = 0 or another argument out of range throws invalid_parameters naming it",
    "[gc_dl][errors]") {
  using gradcode::invalid_parameters;
  using gradcode::second_moment_bound;
  const std::vector<Index> zero{0}, ok{2, 2};
  CHECK_THROWS_MATCHES(second_moment_bound(1, 0, 1, 4, zero), invalid_parameters, what_contains("workers n = 0"));
  CHECK_THROWS_MATCHES(second_moment_bound(1, 4, 1, 4, ok), invalid_parameters, what_contains("p = 1"));
  CHECK_THROWS_MATCHES(second_moment_bound(1, 4, 0.1, 4, zero), invalid_parameters, what_contains("replications[0] = d_i = 0"));
  CHECK_THROWS_MATCHES(second_moment_bound(1, 4, 0.1, 4, std::vector<Index>{2, 5}), invalid_parameters,
                       what_contains("replications[1] = d_i = 5 is outside [1, n = 4]"));
  CHECK_THROWS_MATCHES(second_moment_bound(std::numeric_limits<double>::quiet_NaN(), 4, 0.1, 4, ok), invalid_parameters,
                       what_contains("C = nan"));
  CHECK_THROWS_MATCHES(second_moment_bound(1, 4, 0.1, 0, ok), invalid_parameters, what_contains("dimension w = 0"));
  CHECK_THROWS_MATCHES(second_moment_bound(1e308, 4, 0.1, 4, ok), invalid_parameters, what_contains("exceeds the double range"));
  // (1·4 + (4 − 0.9)(4 − 2)/(4·0.9) + (4 − 0.9)/0.9·(1/2 + 1/2)) for C = 1, m = 2.
  CHECK(second_moment_bound(1, 4, 0.1, 4, ok) == Approx(4 + 3.1 * 2 / 3.6 + 3.1 / 0.9));
}

TEST_CASE(
    "gc_dl: sample_weight and replication of an out-of-range sample and NaN or overflowing updates in expected_squared_norm "
    "throw invalid_input",
    "[gc_dl][errors]") {
  using gradcode::invalid_input;
  const gc_dl<double> scheme({.placement = place_samples({.workers = 4, .samples = 8, .replication = 2}), .dimension = 5});
  CHECK_THROWS_MATCHES(scheme.sample_weight(8), invalid_input, what_contains("sample 8 is outside [0, m = 8)"));
  CHECK_THROWS_AS(scheme.sample_weight(-1), invalid_input);
  CHECK_THROWS_AS(scheme.replication(-1), invalid_input);
  matrix<double> U = matrix<double>::Ones(5, 4);
  CHECK(std::isfinite(scheme.expected_squared_norm(U)));
  U(2, 3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(scheme.expected_squared_norm(U), invalid_input, what_contains("worker 3"));
  U(2, 3) = 1e300;
  CHECK_THROWS_MATCHES(scheme.expected_squared_norm(U), invalid_input, what_contains("exceeds the double range"));
}
