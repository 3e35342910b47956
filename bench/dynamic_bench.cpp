// SPDX-License-Identifier: MIT
// Two-stage dynamic code (include/gradcode/dynamic/two_stage.hpp): the per-epoch construction
// cost the master pays at the deadline T_comp, and the master's decode.
//
//   BM_tsdcfl_stage_two_construct/M:…/K:…/s:…   two_stage_code::stage_two(finished, s): K_c and
//       the C vector of T3, the eq. (16) loads, the support, the null-space B2 and the linear code
//       (items = constructions). M ∈ {6, 50, 200}, K ∈ {40, 400}; M1 = M − s workers start, s = 2,
//       3, 4 for M = 6, 50, 200, and the first half of the stage-1 workers (by id) finished, so
//       stage 2 codes ≈ K/2 partitions over ≈ M/2 workers. Counters: stage2_workers, remaining.
//   BM_tsdcfl_stage_one_construct/M:…/K:…        two_stage_code construction (stage-1 blocks ∝ W_m).
//   BM_tsdcfl_decode<float>/d:…/M:50/K:400/s:3   stage_two_code::decode(ids, messages, out) (the
//       gradcode::codec form) from the M_c stage-1 and the M − M_c − s stage-2 messages, stage-2
//       plan cached. Bytes (bench_common.hpp convention): the minimum (f + 1)·d·4 with f = the
//       number of messages read; items = d. The decode also writes and copies a scratch d-vector
//       (so a refusal leaves out untouched), which this figure does not count. Flops (set_work):
//       2·f·d, one multiply-add per message element in decoding_plan::apply's weighted_sum (the
//       finiteness and underflow scans are not counted): ≈ 0.5 flop/byte, bandwidth-bound.
//       d ∈ {1e4, 1e6, 1e7}: f ≈ 47 messages make 0.19 GB per call at 1e6 (about the 260 MiB LLC)
//       and 1.9 GB at 1e7, the out-of-cache size, where the triad (0.12 GB) also runs at the DRAM
//       rate on this machine (it does from d = 1e7 up; measured to 1e8). The partial gradients
//       (d × K, 16 GB at 1e7) are never held whole: the messages and the exact sum are built
//       65 536 rows at a time.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include <gradcode/detail/splitmix.hpp>
#include <gradcode/dynamic/two_stage.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;

const std::vector<std::int64_t> sizes = {10'000, 1'000'000, 10'000'000};
[[maybe_unused]] const bool triads_registered = gradcode_bench::register_triad<float>(sizes);

Index tolerance_for(Index M) { return M <= 6 ? 2 : M <= 50 ? 3 : 4; }

std::vector<double> throughputs(Index M) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> w(1.0, 8.0);
  std::vector<double> out(static_cast<std::size_t>(M));
  for (auto& x : out) x = w(rng);
  return out;
}

struct setup {
  gradcode::two_stage_code<float> code;
  std::vector<Index> finished;
  Index s;
};

setup make_setup(Index M, Index K) {
  const Index s = tolerance_for(M);
  std::vector<Index> stage_one(static_cast<std::size_t>(M - s));
  std::iota(stage_one.begin(), stage_one.end(), Index{0});
  std::vector<Index> finished(stage_one.begin(), stage_one.begin() + static_cast<std::ptrdiff_t>(stage_one.size() / 2));
  return {gradcode::two_stage_code<float>({.throughputs = throughputs(M), .partitions = K, .stage_one_workers = stage_one}),
          std::move(finished), s};
}

void BM_tsdcfl_stage_two_construct(benchmark::State& state) {
  const Index M = state.range(0), K = state.range(1);
  const auto su = make_setup(M, K);
  Index workers = 0, remaining = 0;
  for (auto _ : state) {
    auto two = su.code.stage_two(su.finished, su.s);
    workers = static_cast<Index>(two.stage_two_workers().size());
    remaining = two.remaining();
    benchmark::DoNotOptimize(&two);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["stage2_workers"] = static_cast<double>(workers);
  state.counters["remaining"] = static_cast<double>(remaining);
}

void BM_tsdcfl_stage_one_construct(benchmark::State& state) {
  const Index M = state.range(0), K = state.range(1);
  const auto w = throughputs(M);
  std::vector<Index> stage_one(static_cast<std::size_t>(M - tolerance_for(M)));
  std::iota(stage_one.begin(), stage_one.end(), Index{0});
  for (auto _ : state) {
    gradcode::two_stage_code<float> code({.throughputs = w, .partitions = K, .stage_one_workers = stage_one});
    benchmark::DoNotOptimize(&code);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_tsdcfl_decode(benchmark::State& state) {
  const Index d = state.range(0), M = state.range(1), K = state.range(2);
  const auto su = make_setup(M, K);
  const auto two = su.code.stage_two(su.finished, su.s);
  // One (ids, messages) set, as gradcode::codec: the finished workers' stage-1 messages, then the
  // stage-2 messages of all but the first s stage-2 workers (they straggle).
  std::vector<Index> ids(su.finished.begin(), su.finished.end());
  const auto all = two.stage_two_workers();
  ids.insert(ids.end(), all.begin() + su.s, all.end());
  gradcode::matrix<float> messages(d, static_cast<Index>(ids.size()));
  gradcode::vector<float> exact(d);
  // Partials in row blocks (uniform in [−1, 1), fixed seed): encoding is row-wise, so each block
  // of the messages is the encode of that block of the partials.
  constexpr Index rows = 65'536;
  std::uint64_t seed = 3;
  gradcode::matrix<float> partials(std::min(rows, d), K);
  for (Index r = 0; r < d; r += rows) {
    const Index len = std::min(rows, d - r);
    auto block = partials.topRows(len);
    for (Index k = 0; k < K; ++k)
      for (Index i = 0; i < len; ++i) block(i, k) = static_cast<float>(gradcode::detail::splitmix_uniform(seed));
    for (std::size_t j = 0; j < ids.size(); ++j) two.encode(ids[j], block, messages.col(static_cast<Index>(j)).segment(r, len));
    exact.segment(r, len) = block.rowwise().sum();
  }
  gradcode::vector<float> out(d);
  two.decode(ids, messages, out);
  if (!((out - exact).norm() <= 1e-4f * exact.norm())) state.SkipWithError("decode does not match the exact sum");
  for (auto _ : state) {
    two.decode(ids, messages, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const auto f = static_cast<std::int64_t>(ids.size());
  // (f + 1) d-vectors; one multiply-add (2 flops) per message element
  gradcode_bench::set_work(state, (f + 1) * d * static_cast<std::int64_t>(sizeof(float)),
                           2.0 * static_cast<double>(f) * static_cast<double>(d));
  state.SetItemsProcessed(state.iterations() * d);
  state.counters["inputs"] = static_cast<double>(f);
}

[[maybe_unused]] const bool dynamic_registered = [] {
  for (std::int64_t M : {6, 50, 200})
    for (std::int64_t K : {40, 400}) {
      benchmark::RegisterBenchmark("BM_tsdcfl_stage_two_construct", &BM_tsdcfl_stage_two_construct)
          ->ArgNames({"M", "K", "s"})
          ->Args({M, K, tolerance_for(M)})
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark("BM_tsdcfl_stage_one_construct", &BM_tsdcfl_stage_one_construct)
          ->ArgNames({"M", "K"})
          ->Args({M, K})
          ->Unit(benchmark::kMicrosecond);
    }
  for (auto d : sizes)
    benchmark::RegisterBenchmark("BM_tsdcfl_decode<float>", &BM_tsdcfl_decode)
        ->ArgNames({"d", "M", "K", "s"})
        ->Args({d, 50, 400, tolerance_for(50)})
        ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace

GRADCODE_BENCHMARK_MAIN();
