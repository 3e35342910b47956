// SPDX-License-Identifier: MIT
// Hierarchical gradient code (include/gradcode/hierarchical/hgc.hpp, tang2024 §III): the three
// streaming kernels of one round — worker encode (eq. 22), edge decode (eq. 25), master decode
// (eq. 27) — at d ∈ {1e5, 1e6, 1e7, 3e7} floats, and the decoding-vector solves cold vs. cached.
// d = 3e7 is the out-of-cache size (LLC 260 MiB): 0.84 / 1.08 / 0.48 GB per encode / edge decode /
// master decode call, so the ratios read against DRAM; 1e5 and 1e6 stay in cache.
//
// Topology: tang2024 §V, n = 4 edges × m = 10 workers, K = 40, s_e = 1, s_w = 2, so n_i = 20
// partitions per edge, every worker computes D = (s_e+1)(s_w+1) = 6 (Theorem 1 tight), an edge
// decodes from f = m − s_w = 8 workers and the master from f = n − s_e = 3 edges.
// Stragglers: workers 0 … s_w−1 of the decoding edge (edge 1), edges 0 … s_e−1 at the master.
//
// Bytes (bench_common.hpp convention: every d-vector read once + the output written once):
//   BM_hgc_encode<float>         (D + 1)·d·4 = 7·d·4   worker (1, s_w) from its D held columns
//                                                      (encode_held: what a worker has in memory)
//   BM_hgc_edge_decode<float>    (f + 1)·d·4 = 9·d·4   8 worker messages → G_1
//   BM_hgc_master_decode<float>  (f + 1)·d·4 = 4·d·4   3 edge results → g
// items = d per call; the `inputs` counter is D or f.
// Flops (set_work): 2·D·d for the encode, 2·f·d for a decode — one multiply-add per input
// element in detail::weighted_sum (the finiteness scan of the result is not counted), so the
// intensity is 2·inputs / ((inputs + 1)·4) ≈ 0.4–0.45 flop/byte: bandwidth-bound, of_roofline =
// of_triad unless the kernel beat the triad.
// Before timing, each size is checked once end to end: the encoded messages decode at edge 1 to
// G_1 = Σ_k B_1k g_k, and the master decodes Σ_k g_k from the exact G_i (relative error ≤ 1e-4,
// references summed in double). Decodes run with their plan cached.
//
// Memory: partial gradients are generated column by column from a fixed hash (never the whole
// d × K matrix); one size at a time holds the worker's 6 columns, the 8 messages, the 3 edge
// results and the output (≈ 0.74 GB at d = 1e7, 2.2 GB at 3e7, plus the double references while
// it is built: 1.2 GB at 3e7). Registered d-major so each size is built once.
//
// Solves (per call, no d): the decoding vector of one edge (c^i, an 8 × 20 system at §V) and of
// the master (a_F, 3 × 40), with plan_cache_size = 0 (solve + residual/amplification checks +
// plan construction every call) vs. a warm cache (pattern hash + lookup), at §V and at
// n = m = 20, K = 400, s_e = s_w = 2:
//   BM_hgc_edge_plan_cold<float>/n:…/m:…/K:…/s_e:…/s_w:…     BM_hgc_edge_plan_cached<float>/…
//   BM_hgc_master_plan_cold<float>/…                          BM_hgc_master_plan_cached<float>/…
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include <gradcode/core/pattern.hpp>
#include <gradcode/hierarchical/hgc.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;
using gradcode::worker_id;
using scalar = float;
using code_type = gradcode::hgc_code<scalar>;

const std::vector<std::int64_t> sizes = {100'000, 1'000'000, 10'000'000, 30'000'000};
constexpr Index sec5_n = 4, sec5_m = 10, sec5_k = 40, sec5_se = 1, sec5_sw = 2;
constexpr Index bench_edge = 1;

// Triads first (static-init order within this file), at the sizes used below.
[[maybe_unused]] const bool triads_registered = gradcode_bench::register_triad<scalar>(sizes);

/// One code per (n, m, K, s_e, s_w, plan cache size), built on first use and kept.
const code_type& code_for(Index n, Index m, Index k, Index se, Index sw, std::size_t cache = 4096) {
  static std::map<std::tuple<Index, Index, Index, Index, Index, std::size_t>, std::unique_ptr<code_type>> codes;
  auto& slot = codes[std::make_tuple(n, m, k, se, sw, cache)];
  if (!slot) {
    gradcode::decode_options options;
    options.plan_cache_size = cache;
    slot = std::make_unique<code_type>(gradcode::hgc_params{.workers = std::vector<Index>(static_cast<std::size_t>(n), m),
                                                            .partitions = k,
                                                            .edge_tolerance = se,
                                                            .worker_tolerance = sw},
                                       options);
  }
  return *slot;
}

/// Partial gradient g_k, element x: uniform in [-1, 1) from a fixed hash (splitmix64).
scalar partial_value(Index k, Index x) {
  std::uint64_t z = (static_cast<std::uint64_t>(k) << 40) ^ static_cast<std::uint64_t>(x);
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<scalar>(static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0);
}

void fill_partial(Index k, Eigen::Ref<gradcode::vector<scalar>> out) {
  for (Index x = 0; x < out.size(); ++x) out[x] = partial_value(k, x);
}

/// Stragglers 0 … s−1 of `nodes`: the responders s … nodes−1.
std::vector<Index> responders(Index nodes, Index s) {
  std::vector<Index> stragglers(static_cast<std::size_t>(s));
  std::iota(stragglers.begin(), stragglers.end(), Index{0});
  return gradcode::pattern::all_except(nodes, stragglers).ids();
}

/// The streaming data of one d at the §V topology.
struct stream_data {
  Index d = 0;
  worker_id encoder{bench_edge, sec5_sw};
  gradcode::matrix<scalar> held;  // d × D: the encoding worker's partitions
  std::vector<Index> worker_ids, edge_ids;
  gradcode::matrix<scalar> messages;      // d × (m − s_w): edge 1's live workers, eq. (22)
  gradcode::matrix<scalar> edge_results;  // d × (n − s_e): G_i of the live edges (exact, rounded to float)
  gradcode::vector<scalar> out;
  bool ok = false;
  std::string why;
};

std::unique_ptr<stream_data>& current_data() {
  static std::unique_ptr<stream_data> data;
  return data;
}

double relative_error(const gradcode::vector<scalar>& got, const gradcode::vector<double>& want) {
  return (got.cast<double>() - want).norm() / want.norm();
}

stream_data& data_for(Index d) {
  auto& data = current_data();
  if (data && data->d == d) return *data;
  data.reset();  // free the previous size first
  data = std::make_unique<stream_data>();
  auto& s = *data;
  s.d = d;
  const auto& code = code_for(sec5_n, sec5_m, sec5_k, sec5_se, sec5_sw);
  const auto& B = code.edge_encoding();
  s.worker_ids = responders(sec5_m, sec5_sw);
  s.edge_ids = responders(sec5_n, sec5_se);
  s.out = gradcode::vector<scalar>::Zero(d);
  // References in double: g = Σ_k g_k and G_i = Σ_k B_ik g_k for the live edges, one g_k at a time.
  gradcode::vector<double> sum = gradcode::vector<double>::Zero(d);
  gradcode::matrix<double> edge_sums = gradcode::matrix<double>::Zero(d, static_cast<Index>(s.edge_ids.size()));
  gradcode::vector<scalar> column(d);
  for (Index k = 0; k < code.partitions(); ++k) {
    fill_partial(k, column);
    const gradcode::vector<double> g = column.cast<double>();
    sum += g;
    for (std::size_t e = 0; e < s.edge_ids.size(); ++e)
      if (const double b = B.coeff(s.edge_ids[e], k); b != 0.0) edge_sums.col(static_cast<Index>(e)) += b * g;
  }
  s.edge_results = edge_sums.cast<scalar>();
  // Messages of edge 1's live workers from their held partitions (encode_held), and the timed
  // worker's held columns.
  s.messages.resize(d, static_cast<Index>(s.worker_ids.size()));
  for (std::size_t j = 0; j < s.worker_ids.size(); ++j) {
    const worker_id w{bench_edge, s.worker_ids[j]};
    const auto mine = code.worker_partitions(w);
    s.held.resize(d, static_cast<Index>(mine.size()));
    for (std::size_t t = 0; t < mine.size(); ++t) fill_partial(mine[t], s.held.col(static_cast<Index>(t)));
    code.encode_held(w, s.held, s.messages.col(static_cast<Index>(j)));
  }
  const auto mine = code.worker_partitions(s.encoder);
  s.held.resize(d, static_cast<Index>(mine.size()));
  for (std::size_t t = 0; t < mine.size(); ++t) fill_partial(mine[t], s.held.col(static_cast<Index>(t)));
  // End-to-end check before any timing.
  const std::size_t bench_col =
      static_cast<std::size_t>(std::find(s.edge_ids.begin(), s.edge_ids.end(), bench_edge) - s.edge_ids.begin());
  code.edge_decode(bench_edge, s.worker_ids, s.messages, s.out);
  const double edge_error = relative_error(s.out, edge_sums.col(static_cast<Index>(bench_col)));
  code.master_decode(s.edge_ids, s.edge_results, s.out);
  const double master_error = relative_error(s.out, sum);
  s.ok = edge_error <= 1e-4 && master_error <= 1e-4;
  if (!s.ok)
    s.why = "decode check failed: edge relative error " + std::to_string(edge_error) + ", master " + std::to_string(master_error);
  return s;
}

void set_stream_counters(benchmark::State& state, Index d, Index inputs) {
  // (inputs + 1) d-vectors; one multiply-add (2 flops) per input element
  gradcode_bench::set_work(state, (inputs + 1) * d * static_cast<std::int64_t>(sizeof(scalar)),
                           2.0 * static_cast<double>(inputs) * static_cast<double>(d));
  state.SetItemsProcessed(state.iterations() * d);
  state.counters["inputs"] = static_cast<double>(inputs);
}

void BM_hgc_encode(benchmark::State& state) {
  const Index d = state.range(0);
  const auto& code = code_for(sec5_n, sec5_m, state.range(1), state.range(2), state.range(3));
  auto& data = data_for(d);
  if (!data.ok) return state.SkipWithError(data.why.c_str());
  for (auto _ : state) {
    code.encode_held(data.encoder, data.held, data.out);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, d, code.load(data.encoder));
}

void BM_hgc_edge_decode(benchmark::State& state) {
  const Index d = state.range(0);
  const auto& code = code_for(sec5_n, sec5_m, state.range(1), state.range(2), state.range(3));
  auto& data = data_for(d);
  if (!data.ok) return state.SkipWithError(data.why.c_str());
  for (auto _ : state) {
    code.edge_decode(bench_edge, data.worker_ids, data.messages, data.out);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, d, static_cast<Index>(data.worker_ids.size()));
}

void BM_hgc_master_decode(benchmark::State& state) {
  const Index d = state.range(0);
  const auto& code = code_for(sec5_n, sec5_m, state.range(1), state.range(2), state.range(3));
  auto& data = data_for(d);
  if (!data.ok) return state.SkipWithError(data.why.c_str());
  for (auto _ : state) {
    code.master_decode(data.edge_ids, data.edge_results, data.out);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, d, static_cast<Index>(data.edge_ids.size()));
}

enum class layer { edge, master };

void BM_hgc_plan(benchmark::State& state, layer which, bool cached) {
  current_data().reset();
  const Index n = state.range(0), m = state.range(1), k = state.range(2), se = state.range(3), sw = state.range(4);
  const auto& code = code_for(n, m, k, se, sw, cached ? 4096 : 0);
  const auto& single = which == layer::edge ? code.worker_layer(bench_edge) : code.edge_layer();
  const auto who = which == layer::edge ? gradcode::pattern::from_ids(m, responders(m, sw))
                                        : gradcode::pattern::from_ids(n, responders(n, se));
  single.plan(who);  // warm (a no-op for the uncached code)
  for (auto _ : state) {
    auto plan = single.plan(who);
    benchmark::DoNotOptimize(plan.get());
  }
  state.SetItemsProcessed(state.iterations());
}

[[maybe_unused]] const bool hgc_registered = [] {
  for (auto d : sizes) {
    const std::vector<std::int64_t> args = {d, sec5_k, sec5_se, sec5_sw};
    benchmark::RegisterBenchmark("BM_hgc_encode<float>", &BM_hgc_encode)
        ->ArgNames({"d", "K", "s_e", "s_w"})
        ->Args(args)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_hgc_edge_decode<float>", &BM_hgc_edge_decode)
        ->ArgNames({"d", "K", "s_e", "s_w"})
        ->Args(args)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_hgc_master_decode<float>", &BM_hgc_master_decode)
        ->ArgNames({"d", "K", "s_e", "s_w"})
        ->Args(args)
        ->Unit(benchmark::kMicrosecond);
  }
  const std::vector<std::vector<std::int64_t>> topologies = {{sec5_n, sec5_m, sec5_k, sec5_se, sec5_sw}, {20, 20, 400, 2, 2}};
  struct variant {
    const char* name;
    layer which;
    bool cached;
  };
  const variant variants[] = {{"BM_hgc_edge_plan_cold<float>", layer::edge, false},
                              {"BM_hgc_edge_plan_cached<float>", layer::edge, true},
                              {"BM_hgc_master_plan_cold<float>", layer::master, false},
                              {"BM_hgc_master_plan_cached<float>", layer::master, true}};
  for (const auto& t : topologies)
    for (const auto& v : variants)
      benchmark::RegisterBenchmark(v.name, &BM_hgc_plan, v.which, v.cached)
          ->ArgNames({"n", "m", "K", "s_e", "s_w"})
          ->Args(t)
          ->Unit(v.cached ? benchmark::kNanosecond : benchmark::kMicrosecond);
  return true;
}();

}  // namespace

GRADCODE_BENCHMARK_MAIN();
