// SPDX-License-Identifier: MIT
// JNCSS (include/gradcode/optimize/jncss.hpp, tang2024 Algorithm 2): the exact branch-and-bound
// solver against the literal transcription of the paper's loop, on the same instances.
//
//   BM_jncss_fast/n:…/m:…/K:…      jncss(model, K) — validation, search and selection
//   BM_jncss_literal/n:…/m:…/K:…   jncss_literal(model, K) — sorts every edge for every pair
//
// Instances: n edges × m workers with tang2024 §V's types drawn in the §V proportions (edges
// 25/50/25 %, workers 50/20/20/10 %) and every parameter jittered by ±20 % (fixed seed, so no
// exact ties). K = Σm_i gives the §V ratio K/N = 1 (D = (s_e+1)(s_w+1)); K = 40 at n = m = 1000
// is the §V K with 25 000 times the workers — a flat landscape with many near-optimal pairs, the
// slowest family found (see the jncss.hpp header). Counters: `pairs` = n·min m_i searched pairs;
// for the fast solver `blocks` (block decisions) and `exact` (pairs evaluated exactly), from one
// untimed run. No bytes are set (this is not a streaming kernel), so no of_triad ratio applies
// and no triad is registered.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gradcode/optimize/jncss.hpp>
#include <gradcode/optimize/runtime_model.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;

gradcode::runtime_model sec5_like_model(Index n, Index m, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  auto jitter = [&] { return 0.8 + 0.4 * u(rng); };
  gradcode::runtime_model model;
  for (Index i = 0; i < n; ++i) {
    const double x = u(rng);
    gradcode::edge_timing e = x < 0.25   ? gradcode::edge_timing{50, 0.1}
                              : x < 0.75 ? gradcode::edge_timing{100, 0.1}
                                         : gradcode::edge_timing{500, 0.2};
    e.link_time *= jitter();
    model.edges.push_back(e);
    std::vector<gradcode::worker_timing> ws;
    for (Index j = 0; j < m; ++j) {
      const double y = u(rng);
      gradcode::worker_timing w = y < 0.5   ? gradcode::worker_timing{10, 0.1, 50, 0.1}
                                  : y < 0.7 ? gradcode::worker_timing{10, 0.1, 100, 0.5}
                                  : y < 0.9 ? gradcode::worker_timing{50, 0.01, 50, 0.1}
                                            : gradcode::worker_timing{50, 0.01, 100, 0.5};
      w.compute_per_partition *= jitter();
      w.compute_rate *= jitter();
      w.link_time *= jitter();
      ws.push_back(w);
    }
    model.workers.push_back(std::move(ws));
  }
  return model;
}

void BM_jncss_fast(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1), K = state.range(2);
  const auto model = sec5_like_model(n, m, 2024);
  {  // search statistics, untimed
    const auto p = gradcode::detail::jncss_prepare(model, K, {});
    gradcode::detail::jncss_solver solver(p);
    double t = 0;
    Index se = 0, sw = 0;
    solver.solve(t, se, sw);
    state.counters["blocks"] = static_cast<double>(solver.blocks_tested);
    state.counters["exact"] = static_cast<double>(solver.pairs_evaluated);
  }
  for (auto _ : state) {
    auto r = gradcode::jncss(model, K);
    benchmark::DoNotOptimize(r.time);
  }
  state.counters["pairs"] = static_cast<double>(n * m);
}

void BM_jncss_literal(benchmark::State& state) {
  const Index n = state.range(0), m = state.range(1), K = state.range(2);
  const auto model = sec5_like_model(n, m, 2024);
  for (auto _ : state) {
    auto r = gradcode::jncss_literal(model, K);
    benchmark::DoNotOptimize(r.time);
  }
  state.counters["pairs"] = static_cast<double>(n * m);
}

BENCHMARK(BM_jncss_fast)
    ->ArgNames({"n", "m", "K"})
    ->Args({10, 10, 100})
    ->Args({30, 30, 900})
    ->Args({100, 100, 10'000})
    ->Args({1000, 1000, 1'000'000})
    ->Args({1000, 1000, 40})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_jncss_literal)->ArgNames({"n", "m", "K"})->Args({10, 10, 100})->Args({30, 30, 900})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_jncss_literal)->ArgNames({"n", "m", "K"})->Args({100, 100, 10'000})->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

GRADCODE_BENCHMARK_MAIN();
