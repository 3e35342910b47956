// SPDX-License-Identifier: MIT
// One shared const hierarchical code decoded from several threads at once:
//   - HGC (hierarchical/hgc.hpp): every thread runs whole rounds — edge_decode of each live edge
//     from its own worker pattern, edge_amplification, master_decode with the compounded check —
//     so the n + 1 plan caches (one per edge, one at the master) are missed, hit and (2-entry
//     cache) evicted by several threads at once;
//   - polynomial HGC (hierarchical/polynomial.hpp): simulate_round with stragglers and
//     adversaries at both layers (worker encode, relay and server Reed–Solomon decode, whose
//     interpolation plans are cached per kept set).
// Every result is checked against the exact sum (and the located adversaries against the true
// ones) and against the outcome of the same round run serially on a twin.
#include <catch2/catch.hpp>

#include "concurrency/concurrency_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gradcode/core/worker_id.hpp>
#include <gradcode/hierarchical/hgc.hpp>
#include <gradcode/hierarchical/polynomial.hpp>

using gradcode::decode_options;
using gradcode::hgc_code;
using gradcode::Index;
using gradcode::matrix;
using gradcode::pattern;
using gradcode::polynomial_hgc;
using gradcode::vector;
using gradcode::worker_id;
using gradcode::test::outcome;
using gradcode::test::outcome_kind;
using gradcode::test::random_partials;
using gradcode::test::relative_error;

namespace {

std::vector<Index> random_subset(Index n, Index size, std::mt19937_64& rng, const std::vector<Index>& avoid = {}) {
  std::vector<Index> all;
  for (Index i = 0; i < n; ++i)
    if (std::find(avoid.begin(), avoid.end(), i) == avoid.end()) all.push_back(i);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(static_cast<std::size_t>(std::min<Index>(size, static_cast<Index>(all.size()))));
  std::sort(all.begin(), all.end());
  return all;
}

// ---------------------------------------------------------------------------------------------
// HGC

struct hgc_job {
  std::vector<Index> straggling_edges;
  std::vector<std::vector<Index>> straggling_workers;  ///< per edge
  bool tolerated = true;                               ///< ≤ s_e edges and ≤ s_w workers per edge
  std::uint64_t seed = 0;                              ///< arrival order
};

std::vector<hgc_job> hgc_rounds(const std::vector<Index>& workers, Index se, Index sw, Index count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto n = static_cast<Index>(workers.size());
  std::vector<hgc_job> out;
  for (Index r = 0; r < count; ++r) {
    hgc_job job;
    job.seed = rng();
    // One round in six goes beyond the tolerance: one edge too many, or one worker too many at an edge.
    const bool beyond = r % 6 == 5;
    job.tolerated = !beyond;
    job.straggling_edges = random_subset(n, beyond && r % 12 == 5 ? se + 1 : static_cast<Index>(rng() % (se + 1)), rng);
    // The first such round loses the s_e + 1 largest edges (most partitions, n_i ∝ m_i): with the
    // parameters below the others hold fewer than K slots, so the master must refuse.
    if (r == 5) {
      std::vector<Index> order(static_cast<std::size_t>(n));
      std::iota(order.begin(), order.end(), Index{0});
      std::stable_sort(order.begin(), order.end(), [&](Index x, Index y) {
        return workers[static_cast<std::size_t>(x)] > workers[static_cast<std::size_t>(y)];
      });
      job.straggling_edges.assign(order.begin(), order.begin() + se + 1);
      std::sort(job.straggling_edges.begin(), job.straggling_edges.end());
    }
    for (Index e = 0; e < n; ++e)
      job.straggling_workers.push_back(
          random_subset(workers[static_cast<std::size_t>(e)], static_cast<Index>(rng() % (sw + 1)), rng));
    if (beyond && r % 12 == 11) {
      const Index e = static_cast<Index>(rng() % static_cast<std::uint64_t>(n));
      job.straggling_workers[static_cast<std::size_t>(e)] = random_subset(workers[static_cast<std::size_t>(e)], sw + 1, rng);
    }
    out.push_back(std::move(job));
  }
  return out;
}

template <class Scalar>
struct hgc_data {
  matrix<Scalar> partials;
  std::vector<matrix<Scalar>> messages;  ///< per edge, d × m_i: every worker's G_ij
  vector<double> exact;

  hgc_data(const hgc_code<Scalar>& code, Index d, std::uint64_t seed)
      : partials(random_partials<Scalar>(d, code.partitions(), seed)) {
    exact = partials.template cast<double>().rowwise().sum();
    for (Index e = 0; e < code.edges(); ++e) {
      matrix<Scalar> m(d, code.workers(e));
      for (Index j = 0; j < code.workers(e); ++j) m.col(j) = code.encode(worker_id{e, j}, partials);
      messages.push_back(std::move(m));
    }
  }
};

/// One round: every live edge decodes G_i from its workers (an edge that cannot is dropped), the
/// master decodes from the edges that delivered, checking the compounded amplification.
template <class Scalar>
outcome hgc_round(const hgc_code<Scalar>& code, const hgc_data<Scalar>& data, std::size_t thread, const hgc_job& job) {
  std::mt19937_64 rng(job.seed + thread);
  const Index d = data.partials.rows();
  auto live = pattern::all_except(code.edges(), job.straggling_edges).ids();
  std::shuffle(live.begin(), live.end(), rng);
  matrix<Scalar> results(d, static_cast<Index>(live.size()));
  std::vector<Index> delivered;
  double edge_amplification = 1;
  for (Index e : live) {
    auto ids = pattern::all_except(code.workers(e), job.straggling_workers[static_cast<std::size_t>(e)]).ids();
    std::shuffle(ids.begin(), ids.end(), rng);
    matrix<Scalar> received(d, static_cast<Index>(ids.size()));
    for (std::size_t j = 0; j < ids.size(); ++j)
      received.col(static_cast<Index>(j)) = data.messages[static_cast<std::size_t>(e)].col(ids[j]);
    if (!code.edge_decodable(e, pattern::from_ids(code.workers(e), ids))) continue;  // the edge sends nothing
    code.edge_decode(e, ids, received, results.col(static_cast<Index>(delivered.size())));
    edge_amplification = std::max(edge_amplification, code.edge_amplification(e, ids));
    delivered.push_back(e);
  }
  vector<Scalar> out(d);
  code.master_decode(delivered, results.leftCols(static_cast<Index>(delivered.size())), out, edge_amplification);
  return {outcome_kind::decoded, relative_error(out, data.exact), {}};
}

// ---------------------------------------------------------------------------------------------
// Polynomial HGC

struct polynomial_job {
  std::vector<Index> slow_relays, bad_relays;
  std::vector<std::vector<Index>> slow_workers, bad_workers;  ///< per cluster
  int attack = 0;
  bool tolerated = true;
  std::uint64_t seed = 0;
};

std::vector<polynomial_job> polynomial_rounds(Index n1, Index n2, Index s, Index a, Index count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<polynomial_job> out;
  for (Index r = 0; r < count; ++r) {
    polynomial_job job;
    job.seed = rng();
    job.attack = static_cast<int>(r % 3);
    job.slow_relays = random_subset(n1, static_cast<Index>(rng() % (s + 1)), rng);
    job.bad_relays = random_subset(n1, static_cast<Index>(rng() % (a + 1)), rng, job.slow_relays);
    for (Index c = 0; c < n1; ++c) {
      job.slow_workers.push_back(random_subset(n2, static_cast<Index>(rng() % (s + 1)), rng));
      job.bad_workers.push_back(random_subset(n2, static_cast<Index>(rng() % (a + 1)), rng, job.slow_workers.back()));
    }
    // One round in six loses too many nodes: fewer than K messages reach the server or a relay.
    if (r % 6 == 5) {
      job.tolerated = false;
      if (r % 12 == 5) {
        job.slow_relays = random_subset(n1, n1 - 2, rng);
        job.bad_relays.clear();
      } else {
        // ... at a relay that does not straggle itself, so it must decode and cannot
        const auto live = random_subset(n1, 1, rng, job.slow_relays);
        const auto c = static_cast<std::size_t>(live.front());
        job.slow_workers[c] = random_subset(n2, n2 - 2, rng);
        job.bad_workers[c].clear();
      }
    }
    out.push_back(std::move(job));
  }
  return out;
}

template <class Scalar>
void corrupt(int attack, std::uint64_t seed, Eigen::Ref<vector<Scalar>> m) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  switch (attack) {
    case 0:
      m.array() += Scalar(1);
      break;
    case 1:
      for (Index i = 0; i < m.size(); ++i) m[i] = static_cast<Scalar>(10 * normal(rng));
      break;
    default:
      m[static_cast<Index>(rng() % static_cast<std::uint64_t>(m.size()))] += Scalar(1000);
      break;
  }
}

template <class Scalar>
outcome polynomial_round(const polynomial_hgc<Scalar>& code, const matrix<Scalar>& partials, const vector<double>& exact,
                         const polynomial_job& job) {
  gradcode::polynomial_round<Scalar> f;
  f.straggling_relays = job.slow_relays;
  f.adversarial_relays = job.bad_relays;
  for (Index c = 0; c < code.relays(); ++c) {
    for (Index j : job.slow_workers[static_cast<std::size_t>(c)]) f.straggling_workers.push_back({c, j});
    for (Index j : job.bad_workers[static_cast<std::size_t>(c)]) f.adversarial_workers.push_back({c, j});
  }
  f.corrupt_worker = [&](worker_id w, Eigen::Ref<vector<Scalar>> m) {
    corrupt<Scalar>(job.attack, job.seed + 1000 * static_cast<std::uint64_t>(w.edge) + static_cast<std::uint64_t>(w.worker), m);
  };
  f.corrupt_relay = [&](Index r, Eigen::Ref<vector<Scalar>> m) {
    corrupt<Scalar>(job.attack, job.seed + 77 * static_cast<std::uint64_t>(r), m);
  };
  const auto result = code.simulate_round(partials, f);
  outcome o{outcome_kind::decoded, relative_error(result.gradient, exact), {}};
  if (result.server.corrupted != job.bad_relays) o = {outcome_kind::misreported, o.error, "server located the wrong relays"};
  for (Index c = 0; c < code.relays(); ++c)
    if (!std::binary_search(job.slow_relays.begin(), job.slow_relays.end(), c) &&
        result.relays[static_cast<std::size_t>(c)].corrupted != job.bad_workers[static_cast<std::size_t>(c)])
      o = {outcome_kind::misreported, o.error, "relay " + std::to_string(c) + " located the wrong workers"};
  return o;
}

}  // namespace

TEMPLATE_TEST_CASE(
    "hgc: 4 threads running rounds on one shared code — edge_decode of every live edge then master_decode — "
    "with their own straggler patterns get the exact sum or the serial outcome under the default and a "
    "2-entry and no plan cache",
    "[concurrency][hgc][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1303);
  const std::vector<Index> workers{3, 4, 5, 4};
  for (const std::size_t cache : gradcode::test::cache_sizes()) {
    decode_options options;
    options.plan_cache_size = cache;
    const hgc_code<Scalar> code({.workers = workers, .partitions = 16, .edge_tolerance = 1, .worker_tolerance = 1}, options);
    const hgc_code<Scalar> twin(code);  // copies get their own (cold) caches
    const hgc_data<Scalar> data(code, 48, seed);
    const auto jobs = gradcode::test::share_out(hgc_rounds(workers, 1, 1, 96, seed), gradcode::test::concurrency_threads, seed);
    auto run_on = [&data](const hgc_code<Scalar>& c) {
      return [shared = &c, &data](std::size_t t, const hgc_job& job) { return hgc_round(*shared, data, t, job); };
    };
    const auto serial = gradcode::test::run_serially(jobs, run_on(twin));
    const auto concurrent = gradcode::test::run_concurrently(jobs, run_on(code));
    const auto summary = gradcode::test::compare(concurrent, serial, gradcode::test::error_bound<Scalar>());
    Index expected_jobs = 0, tolerated_refused = 0;
    for (std::size_t t = 0; t < jobs.size(); ++t) {
      expected_jobs += static_cast<Index>(jobs[t].size());
      for (std::size_t j = 0; j < jobs[t].size(); ++j)
        tolerated_refused += jobs[t][j].tolerated && concurrent[t][j].kind != outcome_kind::decoded;
    }
    INFO("HGC m = {3,4,5,4} K = 16 s_e = s_w = 1 <" << gradcode::test::scalar_name<Scalar>() << ">, plan cache " << cache
                                                    << ", seed " << seed);
    gradcode::test::check_summary(
        summary, std::string("hgc <") + gradcode::test::scalar_name<Scalar>() + "> cache " + std::to_string(cache),
        expected_jobs);
    if constexpr (sizeof(Scalar) >= sizeof(double)) CHECK(tolerated_refused == 0);
    CHECK(summary.refused > 0);  // the rounds beyond the tolerance were refused, concurrently too
    CHECK(code.edge_layer().cached_plans() <= cache);
    for (Index e = 0; e < code.edges(); ++e) CHECK(code.worker_layer(e).cached_plans() <= cache);
    if (cache >= 4096) {
      CHECK(code.edge_layer().cached_plans() == twin.edge_layer().cached_plans());
      for (Index e = 0; e < code.edges(); ++e) CHECK(code.worker_layer(e).cached_plans() == twin.worker_layer(e).cached_plans());
    }
  }
}

TEMPLATE_TEST_CASE(
    "polynomial HGC: 4 threads running rounds on one shared code with their own stragglers and adversaries at "
    "both layers get the exact sum and locate every adversary — or the serial outcome — under the default "
    "and a 2-entry and no plan cache",
    "[concurrency][polynomial][adversary][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1304);
  const Index n = 6, s = 1, a = 1;
  const gradcode::polynomial_placement placement{
      .workers = std::vector<Index>(6, 6), .partitions = 6, .relay_replication = 5, .worker_replication = {5}};
  const auto clusters = gradcode::place_partitions(placement);
  for (const std::size_t cache : gradcode::test::cache_sizes()) {
    gradcode::robust_options options;
    options.plan_cache_size = cache;
    const polynomial_hgc<Scalar> code({.dimension = 96,
                                       .clusters = clusters,
                                       .relay_stragglers = s,
                                       .relay_adversaries = a,
                                       .worker_stragglers = {s},
                                       .worker_adversaries = {a}},
                                      options);
    REQUIRE(code.relay_parts() == 2);
    const polynomial_hgc<Scalar> twin(code);
    const matrix<Scalar> partials = random_partials<Scalar>(code.dimension(), code.partitions(), seed);
    const vector<double> exact = partials.template cast<double>().rowwise().sum();
    const auto jobs =
        gradcode::test::share_out(polynomial_rounds(n, n, s, a, 48, seed), gradcode::test::concurrency_threads, seed);
    auto run_on = [&](const polynomial_hgc<Scalar>& c) {
      return [shared = &c, &partials, &exact](std::size_t, const polynomial_job& job) {
        return polynomial_round(*shared, partials, exact, job);
      };
    };
    const auto serial = gradcode::test::run_serially(jobs, run_on(twin));
    const auto concurrent = gradcode::test::run_concurrently(jobs, run_on(code));
    const auto summary = gradcode::test::compare(concurrent, serial, gradcode::test::error_bound<Scalar>());
    Index expected_jobs = 0, tolerated_refused = 0, beyond_decoded = 0;
    for (std::size_t t = 0; t < jobs.size(); ++t) {
      expected_jobs += static_cast<Index>(jobs[t].size());
      for (std::size_t j = 0; j < jobs[t].size(); ++j) {
        tolerated_refused += jobs[t][j].tolerated && concurrent[t][j].kind != outcome_kind::decoded;
        beyond_decoded += !jobs[t][j].tolerated && concurrent[t][j].kind != outcome_kind::not_decodable;
      }
    }
    INFO("polynomial HGC N1 = N2 = 6 r = 5 s = a = 1 <" << gradcode::test::scalar_name<Scalar>() << ">, plan cache " << cache
                                                        << ", seed " << seed);
    gradcode::test::check_summary(
        summary, std::string("polynomial <") + gradcode::test::scalar_name<Scalar>() + "> cache " + std::to_string(cache),
        expected_jobs);
    CHECK(tolerated_refused == 0);
    CHECK(beyond_decoded == 0);  // fewer than K messages at the server or a relay: not_decodable
    CHECK(code.server_code().cached_plans() <= cache);
    for (Index c = 0; c < code.relays(); ++c) CHECK(code.relay_code(c).cached_plans() <= cache);
  }
}
