// SPDX-License-Identifier: MIT
// One shared const linear code (codes/*.hpp) decoded from several threads at once: every thread
// with its own straggler patterns (half of them common to all threads, so a plan is missed by one
// thread while another solves or reads it), responders in its own order, under the default plan
// cache, a 2-entry cache (constant eviction while plans are in use) and no cache. Each decode is
// checked against the exact sum and against the outcome a serial run on a twin gives.
// Also plan(), decodable() and decode() racing on the same few patterns.
#include <catch2/catch.hpp>

#include "codes/code_properties.hpp"
#include "concurrency/concurrency_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/codes/linear_code.hpp>

using gradcode::decode_options;
using gradcode::Index;
using gradcode::linear_code;
using gradcode::matrix;
using gradcode::pattern;
using gradcode::vector;
using gradcode::test::outcome;
using gradcode::test::outcome_kind;

namespace {

template <class Scalar>
std::vector<std::pair<std::string, linear_code<Scalar>>> shared_codes(const decode_options& o) {
  std::vector<std::pair<std::string, linear_code<Scalar>>> out;
  out.emplace_back("cyclic repetition n = 10 s = 2",
                   gradcode::cyclic_repetition_code<Scalar>({.nodes = 10, .partitions = 10, .tolerance = 2}, o));
  out.emplace_back("fractional repetition n = 9 s = 2",
                   gradcode::fractional_repetition_code<Scalar>({.nodes = 9, .partitions = 9, .tolerance = 2}, o));
  out.emplace_back("cyclic MDS n = 9 s = 2", gradcode::cyclic_mds_code<Scalar>({.nodes = 9, .partitions = 9, .tolerance = 2}, o));
  out.emplace_back("heterogeneous n = 10 K = 12 s = 2",
                   gradcode::heterogeneous_code<Scalar>(
                       {.capacities = {1, 2, 1, 3, 1, 2, 1, 1, 2, 1}, .partitions = 12, .tolerance = 2, .seed = 5}, o));
  return out;
}

struct pattern_job {
  std::vector<Index> stragglers;
  bool tolerated = true;   ///< at most s stragglers: must decode (in double)
  std::uint64_t seed = 0;  ///< responder order (mixed with the thread index)
};

/// Every pattern of ≤ s stragglers and every third pattern of s + 1, shared out to the threads.
std::vector<std::vector<pattern_job>> pattern_jobs(Index n, Index s, std::uint64_t seed) {
  std::vector<pattern_job> all;
  for (Index f = 0; f <= s; ++f)
    gradcode::test::for_each_subset(n, f, [&](const std::vector<Index>& st) { all.push_back({st, true, all.size() + 1}); });
  Index count = 0;
  gradcode::test::for_each_subset(n, s + 1, [&](const std::vector<Index>& st) {
    if (count++ % 3 == 0) all.push_back({st, false, all.size() + 1});
  });
  return gradcode::test::share_out(all, gradcode::test::concurrency_threads, seed);
}

template <class Scalar>
outcome decode_job(const linear_code<Scalar>& code, const gradcode::test::encoded_gradients<Scalar>& data, std::size_t thread,
                   const pattern_job& job) {
  std::vector<Index> ids = pattern::all_except(code.nodes(), job.stragglers).ids();
  std::mt19937_64 rng(job.seed * 0x9e3779b97f4a7c15ull + thread);
  std::shuffle(ids.begin(), ids.end(), rng);
  matrix<Scalar> received(data.messages.rows(), static_cast<Index>(ids.size()));
  for (std::size_t j = 0; j < ids.size(); ++j) received.col(static_cast<Index>(j)) = data.messages.col(ids[j]);
  vector<Scalar> out(data.messages.rows());
  code.decode(ids, received, out);
  return {outcome_kind::decoded, data.relative_error(out), {}};
}

}  // namespace

TEMPLATE_TEST_CASE(
    "linear codes: 4 threads decoding one shared code with their own overlapping straggler patterns get the "
    "exact sum or the serial outcome — cyclic repetition and fractional repetition and cyclic MDS and "
    "heterogeneous — under the default and a 2-entry and no plan cache",
    "[concurrency][linear_code][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1301);
  for (const std::size_t cache : gradcode::test::cache_sizes()) {
    decode_options options;
    options.plan_cache_size = cache;
    for (const auto& [name, code] : shared_codes<Scalar>(options)) {
      const linear_code<Scalar> twin(code);  // same code, its own (cold) cache
      const gradcode::test::encoded_gradients<Scalar> data(code, 64, seed);
      const auto jobs = pattern_jobs(code.nodes(), code.tolerance(), seed);
      auto run_on = [&data](const linear_code<Scalar>& c) {
        return [shared = &c, &data](std::size_t t, const pattern_job& job) { return decode_job(*shared, data, t, job); };
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
      INFO(name << " <" << gradcode::test::scalar_name<Scalar>() << ">, plan cache " << cache << ", seed " << seed);
      gradcode::test::check_summary(
          summary, name + " <" + gradcode::test::scalar_name<Scalar>() + "> cache " + std::to_string(cache), expected_jobs);
      // double decodes every tolerated pattern; float may refuse one the serial run refuses too
      // (amplification beyond float, checked by tests/codes), which `differ` already compares.
      if constexpr (sizeof(Scalar) >= sizeof(double)) CHECK(tolerated_refused == 0);
      CHECK(code.cached_plans() <= cache);
      if (cache >= 4096) CHECK(code.cached_plans() == twin.cached_plans());  // same distinct decodable patterns
    }
  }
}

TEST_CASE(
    "linear codes: plan() and decodable() and decode() racing on the same patterns from 8 threads agree with a "
    "serial solve — one shared cached plan per pattern — and a refused pattern is never cached",
    "[concurrency][linear_code][plan][threads]") {
  const std::uint64_t seed = gradcode::test::test_seed(1302);
  const Index n = 12, s = 3;
  // Tolerated patterns, plus one whose stragglers hold every copy of a partition (refused).
  const std::vector<std::vector<Index>> stragglers{{}, {0}, {5, 11}, {1, 4, 9}, {2, 3, 4}, {0, 6, 7}, {0, 1, 2, 3}};
  const std::size_t refused = stragglers.size() - 1;
  constexpr int threads = 8;
  using plan_ptr = std::shared_ptr<const gradcode::decoding_plan<double>>;
  struct record {
    std::vector<std::vector<plan_ptr>> plans;  // per pattern, every plan() result
    std::vector<bool> touched;                 // per pattern, some call solved or read its plan
    Index calls = 0, wrong = 0;
    double worst = 0;
    std::string first;
  };
  for (const std::size_t cache : {std::size_t{4096}, std::size_t{1}}) {
    decode_options options;
    options.plan_cache_size = cache;
    const gradcode::cyclic_repetition_code<double> code({.nodes = n, .partitions = n, .tolerance = s}, options);
    REQUIRE(gradcode::test::uncovers_a_partition(code.support(), stragglers[refused]));
    const linear_code<double> twin(code);
    const gradcode::test::encoded_gradients<double> data(code, 96, seed);
    std::vector<pattern> patterns;
    for (const auto& st : stragglers) patterns.push_back(pattern::all_except(n, st));

    std::vector<record> rec(threads);
    {
      std::latch start(threads);
      std::vector<std::jthread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          record& r = rec[static_cast<std::size_t>(t)];
          r.plans.resize(patterns.size());
          r.touched.assign(patterns.size(), false);
          auto fail = [&](const std::string& what) {
            ++r.wrong;
            if (r.first.empty()) r.first = what;
          };
          std::mt19937_64 rng(seed + 0x51ed27u * static_cast<std::uint64_t>(t + 1));
          start.arrive_and_wait();
          for (int op = 0; op < 150; ++op, ++r.calls) {
            const std::size_t p = rng() % patterns.size();
            const bool ok = p != refused;
            r.touched[p] = true;
            const auto which = rng() % 3;
            const std::string where = "pattern " + gradcode::test::to_string(stragglers[p]) + " op " + std::to_string(which);
            if (which == 0) {
              const outcome o = gradcode::test::attempt([&] {
                r.plans[p].push_back(code.plan(patterns[p]));
                return outcome{outcome_kind::decoded, 0, {}};
              });
              if (o.kind != (ok ? outcome_kind::decoded : outcome_kind::not_decodable))
                fail(where + ": plan() gave " + gradcode::test::kind_name(o.kind) + " " + o.what);
            } else if (which == 1) {
              if (code.decodable(patterns[p]) != ok) fail(where + ": decodable() is wrong");
            } else {
              const outcome o = gradcode::test::attempt([&] {
                return decode_job(code, data, static_cast<std::size_t>(t), {stragglers[p], ok, rng()});
              });
              if (o.kind != (ok ? outcome_kind::decoded : outcome_kind::not_decodable))
                fail(where + ": decode() gave " + gradcode::test::kind_name(o.kind) + " " + o.what);
              if (o.kind == outcome_kind::decoded) r.worst = std::max(r.worst, o.error);
            }
          }
        });
    }
    INFO("plan cache " << cache << ", seed " << seed);
    Index calls = 0, wrong = 0, plans = 0, same_object = 0, equal_to_serial = 0, touched = 0;
    double worst = 0;
    std::string first;
    std::vector<bool> any_touch(patterns.size(), false);
    for (const auto& r : rec) {
      calls += r.calls;
      wrong += r.wrong;
      worst = std::max(worst, r.worst);
      if (first.empty()) first = r.first;
      for (std::size_t p = 0; p < patterns.size(); ++p) any_touch[p] = any_touch[p] || r.touched[p];
    }
    for (std::size_t p = 0; p < patterns.size(); ++p) {
      if (p != refused) touched += any_touch[p];
      const plan_ptr serial = p == refused ? nullptr : twin.plan(patterns[p]);
      const gradcode::decoding_plan<double>* shared = nullptr;
      for (const auto& r : rec)
        for (const auto& pl : r.plans[p]) {
          ++plans;
          if (!shared) shared = pl.get();
          same_object += pl.get() == shared;
          equal_to_serial += serial && pl->coefficients() == serial->coefficients() && pl->responders() == patterns[p];
        }
    }
    INFO("first wrong call: " << (first.empty() ? "none" : first) << ", worst decode error " << worst);
    CHECK(calls == threads * 150);
    CHECK(wrong == 0);
    CHECK(worst <= gradcode::test::error_bound<double>());
    CHECK(plans > 0);
    CHECK(equal_to_serial == plans);  // no plan() result for the refused pattern either
    if (cache >= 4096) {
      CHECK(same_object == plans);  // every thread got the one cached object
      CHECK(code.cached_plans() == static_cast<std::size_t>(touched));
    } else {
      CHECK(code.cached_plans() <= cache);
    }
  }
}
