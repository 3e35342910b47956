// SPDX-License-Identifier: MIT
// Single-layer gradient codes (include/gradcode/codes/): one node's encode and the master's
// decode at d ∈ {1e4, 1e6, 1e7} floats, and the decoding-coefficient solve cold vs cached.
//
// Bytes (bench_common.hpp convention: every d-vector read once + the output written once):
//   BM_<code>_encode<float>  (load + 1)·d·4   the node's `load` held columns of the d × K partials
//   BM_<code>_decode<float>  (f + 1)·d·4      the f = n − s messages of the responders
// items = d per call; the `inputs` counter is load (encode) or f (decode).
//
// Topology: n = K = 9, s = 2 for every code, so all four are compared at the same tolerance and
// (cyclic, fractional) load s + 1 = 3, f = 7 responders; n − s = 7 is odd as the real cyclic-MDS
// code needs, and (s + 1) | n as fractional repetition needs. The heterogeneous code has
// capacities 1, 2, 3, 1, 2, 3, … (loads 1–5); its encode is timed on its most loaded node.
// Stragglers are nodes 0 … s−1. Decodes run with the pattern's plan already cached, and are
// checked once against Σ_k g_k (relative error ≤ 1e-4) before timing.
//
// Memory: the d × K partials, the d × f messages and the output of one d live in one lazily
// built fixture shared by all codes (≈ 0.72 GB at d = 1e7); it is replaced when d changes and
// freed before the solve benchmarks. Benchmarks are registered d-major so each size is built once.
//
// Solve: heterogeneous code, K = n, s = 2, n ∈ {10, 50, 100}, reported per solve:
//   BM_solve_decoding_coefficients/n:…/s:2        the bare solve on the dense (n − s) × K B_F
//   BM_heterogeneous_plan_cold<float>/n:…/s:2     plan() with plan_cache_size = 0 (solve + checks
//                                                 + plan construction every call)
//   BM_heterogeneous_plan_cached<float>/n:…/s:2   plan() on a warm cache (pattern hash + lookup)
//
// Plans at scale (issue 16): heterogeneous and cyclic repetition codes, K = n, s ∈ {1, 2}, n ∈
// {100, 1000, 3000, 8192, 10000}, plan_cache_size = 0, stragglers 0 … s−1, in ms per plan:
// (cyclic repetition: stragglers 0 and n/2, as two adjacent ones make its amplification ≈ 0.4·n,
// which float refuses):
//   BM_<code>_plan_at_scale<float>/n:…/s:…   plan() every call; f·K > 2^16 takes the sparse
//       solve (core/decoding_solver.hpp). Counters: nnz = nnz(B_F); band = the widest row span W
//       + 1 of the ordered B_Fᵀ (the solve holds f·band doubles of R and ≤ 3·K·band of rotations,
//       plus O(nnz)); maxrss_MB = growth of the process's peak RSS over the first plan (getrusage; 0
//       unless that plan sets a new peak, so run it alone: --benchmark_filter=at_scale/n:10000).
//   BM_<code>_construct<float>/n:…/s:…       building the code (null-space construction and
//       linear_code's checks, which include the band of B once n × K > limits::max_dense_entries).
// n = 10000 has n × K = 10^8 > limits::max_dense_entries = 2^26: the codes build because B is
// banded (linear_code), and their plans run on the sparse solve only (no dense re-solve).
#include <sys/resource.h>

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/codes/linear_code.hpp>
#include <gradcode/core/decoding_solver.hpp>
#include <gradcode/core/pattern.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;
using scalar = float;
using code_type = gradcode::linear_code<scalar>;

const std::vector<std::int64_t> sizes = {10'000, 1'000'000, 10'000'000};
constexpr Index topology_n = 9, topology_k = 9, topology_s = 2;

// Triads first (static-init order within this file), at the sizes used below.
[[maybe_unused]] const bool triads_registered = gradcode_bench::register_triad(sizes);

enum class code_kind { fractional_repetition, cyclic_repetition, cyclic_mds, heterogeneous };

const char* kind_name(code_kind kind) {
  switch (kind) {
    case code_kind::fractional_repetition:
      return "fractional_repetition";
    case code_kind::cyclic_repetition:
      return "cyclic_repetition";
    case code_kind::cyclic_mds:
      return "cyclic_mds";
    case code_kind::heterogeneous:
      return "heterogeneous";
  }
  return "?";
}

std::vector<double> capacities(Index n) {
  std::vector<double> c(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) c[static_cast<std::size_t>(i)] = static_cast<double>(1 + i % 3);
  return c;
}

/// One code per (kind, n, K, s, plan cache size), built on first use and kept (they are small).
/// Stored as linear_code (the derived codes add no behaviour beyond construction).
const code_type& code_for(code_kind kind, Index n, Index k, Index s, std::size_t cache = 4096) {
  static std::map<std::tuple<code_kind, Index, Index, Index, std::size_t>, code_type> codes;
  const auto key = std::make_tuple(kind, n, k, s, cache);
  if (auto it = codes.find(key); it != codes.end()) return it->second;
  gradcode::decode_options options;
  options.plan_cache_size = cache;
  auto make = [&]() -> code_type {
    switch (kind) {
      case code_kind::fractional_repetition:
        return gradcode::fractional_repetition_code<scalar>({n, k, s}, options);
      case code_kind::cyclic_repetition:
        return gradcode::cyclic_repetition_code<scalar>({n, k, s, 1}, options);
      case code_kind::cyclic_mds:
        return gradcode::cyclic_mds_code<scalar>({n, k, s}, options);
      case code_kind::heterogeneous:
        return gradcode::heterogeneous_code<scalar>({capacities(n), k, s, 1}, options);
    }
    throw std::logic_error("unknown code kind");
  };
  return codes.emplace(key, make()).first->second;
}

/// Stragglers 0 … s−1: the responders are nodes s … n−1.
gradcode::pattern responders(Index n, Index s) {
  std::vector<Index> stragglers(static_cast<std::size_t>(s));
  std::iota(stragglers.begin(), stragglers.end(), Index{0});
  return gradcode::pattern::all_except(n, stragglers);
}

/// The streaming data of one (d, K): partials, their sum, the messages of one code's
/// responders, and the output vector.
struct stream_data {
  Index d = 0, k = 0;
  gradcode::matrix<scalar> partials;  // d × K, uniform in [-1, 1), fixed seed
  gradcode::vector<scalar> sum;       // Σ_k g_k, the decode reference
  gradcode::matrix<scalar> messages;  // d × f
  const code_type* messages_of = nullptr;
  bool messages_ok = false;  // the decode of `messages` matched `sum`
  gradcode::vector<scalar> out;
};

std::unique_ptr<stream_data>& current_data() {
  static std::unique_ptr<stream_data> data;
  return data;
}

void release_stream_data() { current_data().reset(); }

stream_data& data_for(Index d, Index k) {
  auto& data = current_data();
  if (data && data->d == d && data->k == k) return *data;
  data.reset();  // free the previous size before allocating the next
  data = std::make_unique<stream_data>();
  data->d = d;
  data->k = k;
  data->partials.resize(d, k);
  std::uint64_t state = 0x9e3779b97f4a7c15ull;  // splitmix64, fixed seed
  for (Index i = 0; i < data->partials.size(); ++i) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    data->partials.data()[i] = static_cast<scalar>(static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0);
  }
  data->sum = data->partials.rowwise().sum();
  data->out = gradcode::vector<scalar>::Zero(d);
  return *data;
}

Index most_loaded_node(const code_type& code) {
  Index best = 0;
  for (Index i = 1; i < code.nodes(); ++i)
    if (code.load(i) > code.load(best)) best = i;
  return best;
}

void set_stream_counters(benchmark::State& state, Index d, Index inputs) {
  state.SetBytesProcessed(state.iterations() * (inputs + 1) * d * static_cast<std::int64_t>(sizeof(scalar)));
  state.SetItemsProcessed(state.iterations() * d);
  state.counters["inputs"] = static_cast<double>(inputs);
}

void BM_encode(benchmark::State& state, code_kind kind) {
  const Index d = state.range(0), n = state.range(1), k = state.range(2), s = state.range(3);
  const auto& code = code_for(kind, n, k, s);
  auto& data = data_for(d, k);
  const Index node = most_loaded_node(code);
  for (auto _ : state) {
    code.encode(node, data.partials, data.out);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, d, code.load(node));
}

void BM_decode(benchmark::State& state, code_kind kind) {
  const Index d = state.range(0), n = state.range(1), k = state.range(2), s = state.range(3);
  const auto& code = code_for(kind, n, k, s);
  auto& data = data_for(d, k);
  const auto who = responders(n, s);
  const auto ids = who.ids();
  const auto f = static_cast<Index>(ids.size());
  code.plan(who);  // warm the plan cache: the loop measures the streaming decode only
  if (data.messages_of != &code) {
    data.messages.resize(d, f);
    for (Index j = 0; j < f; ++j) code.encode(ids[static_cast<std::size_t>(j)], data.partials, data.messages.col(j));
    code.decode(ids, data.messages, data.out);
    const double error = (data.out - data.sum).cast<double>().norm() / data.sum.cast<double>().norm();
    data.messages_of = &code;
    data.messages_ok = error <= 1e-4;
  }
  if (!data.messages_ok) {
    state.SkipWithError("decode does not reproduce the sum of the partial gradients (relative error > 1e-4)");
    return;
  }
  if (code.cached_plans() == 0) {
    state.SkipWithError("the plan cache is empty after plan()");
    return;
  }
  for (auto _ : state) {
    code.decode(ids, data.messages, data.out);
    benchmark::DoNotOptimize(data.out.data());
    benchmark::ClobberMemory();
  }
  set_stream_counters(state, d, f);
}

void BM_solve_decoding_coefficients(benchmark::State& state) {
  release_stream_data();
  const Index n = state.range(0), s = state.range(1);
  const auto& code = code_for(code_kind::heterogeneous, n, n, s);
  const auto ids = responders(n, s).ids();
  const gradcode::matrix<double> dense(code.encoding_matrix());
  gradcode::matrix<double> rows(static_cast<Index>(ids.size()), n);
  for (Index r = 0; r < rows.rows(); ++r) rows.row(r) = dense.row(ids[static_cast<std::size_t>(r)]);
  for (auto _ : state) {
    auto solution = gradcode::solve_decoding_coefficients(rows);
    benchmark::DoNotOptimize(solution.coefficients.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_plan(benchmark::State& state, bool cached) {
  release_stream_data();
  const Index n = state.range(0), s = state.range(1);
  const auto& code = code_for(code_kind::heterogeneous, n, n, s, cached ? 4096 : 0);
  const auto who = responders(n, s);
  code.plan(who);  // warm (a no-op for the uncached code)
  for (auto _ : state) {
    auto plan = code.plan(who);
    benchmark::DoNotOptimize(plan.get());
  }
  state.SetItemsProcessed(state.iterations());
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
}

void BM_plan_at_scale(benchmark::State& state, code_kind kind) {
  release_stream_data();
  const Index n = state.range(0), s = state.range(1);
  const code_type* code = nullptr;
  try {
    code = &code_for(kind, n, n, s, 0);
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("construction refused: ") + e.what()).c_str());
    return;
  }
  std::vector<Index> stragglers;
  for (Index i = 0; i < s; ++i) stragglers.push_back(kind == code_kind::cyclic_repetition ? i * (n / s) : i);
  const auto who = gradcode::pattern::all_except(n, stragglers);
  const auto ids = who.ids();
  double nnz = 0;
  for (const Index id : ids) nnz += static_cast<double>(code->load(id));
  const double before = peak_rss_mb();
  try {
    code->plan(who);  // the first cold plan, for the memory counter
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("plan refused: ") + e.what()).c_str());
    return;
  }
  const double grown = peak_rss_mb() - before;
  for (auto _ : state) {
    auto plan = code->plan(who);
    benchmark::DoNotOptimize(plan.get());
  }
  // the band of the ordered B_Fᵀ, as the sparse solve sees it
  std::vector<Eigen::Triplet<double, int>> entries;
  for (std::size_t r = 0; r < ids.size(); ++r)
    for (gradcode::sparse_matrix<double>::InnerIterator it(code->encoding_matrix(), ids[r]); it; ++it)
      entries.emplace_back(static_cast<int>(it.col()), static_cast<int>(r), it.value());
  gradcode::detail::sparse_qr_matrix bt(n, static_cast<Index>(ids.size()));
  bt.setFromTriplets(entries.begin(), entries.end());
  state.counters["nnz"] = nnz;
  state.counters["band"] = static_cast<double>(gradcode::detail::banded_form(bt).band);
  state.counters["maxrss_MB"] = grown;
  state.SetItemsProcessed(state.iterations());
}

void BM_construct(benchmark::State& state, code_kind kind) {
  release_stream_data();
  const Index n = state.range(0), s = state.range(1);
  gradcode::decode_options options;
  options.plan_cache_size = 0;
  for (auto _ : state) {
    try {
      if (kind == code_kind::cyclic_repetition) {
        gradcode::cyclic_repetition_code<scalar> code({n, n, s, 1}, options);
        benchmark::DoNotOptimize(&code);
      } else {
        gradcode::heterogeneous_code<scalar> code({capacities(n), n, s, 1}, options);
        benchmark::DoNotOptimize(&code);
      }
    } catch (const std::exception& e) {
      state.SkipWithError((std::string("construction refused: ") + e.what()).c_str());
      return;
    }
  }
}

[[maybe_unused]] const bool codes_registered = [] {
  const code_kind kinds[] = {code_kind::fractional_repetition, code_kind::cyclic_repetition, code_kind::cyclic_mds,
                             code_kind::heterogeneous};
  for (auto d : sizes)
    for (auto kind : kinds)
      for (const char* op : {"encode", "decode"}) {
        const std::string name = std::string("BM_") + kind_name(kind) + "_" + op + "<float>";
        auto* fn = std::string_view(op) == "encode" ? &BM_encode : &BM_decode;
        benchmark::RegisterBenchmark(name.c_str(), fn, kind)
            ->ArgNames({"d", "n", "K", "s"})
            ->Args({d, topology_n, topology_k, topology_s})
            ->Unit(benchmark::kMicrosecond);
      }
  for (auto n : {10, 50, 100}) {
    benchmark::RegisterBenchmark("BM_solve_decoding_coefficients", &BM_solve_decoding_coefficients)
        ->ArgNames({"n", "s"})
        ->Args({n, 2})
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_heterogeneous_plan_cold<float>", &BM_plan, false)
        ->ArgNames({"n", "s"})
        ->Args({n, 2})
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("BM_heterogeneous_plan_cached<float>", &BM_plan, true)
        ->ArgNames({"n", "s"})
        ->Args({n, 2})
        ->Unit(benchmark::kNanosecond);
  }
  for (auto kind : {code_kind::heterogeneous, code_kind::cyclic_repetition})
    for (auto s : {1, 2})
      for (auto n : {100, 1000, 3000, 8192, 10000}) {
        const std::string prefix = std::string("BM_") + kind_name(kind);
        benchmark::RegisterBenchmark((prefix + "_plan_at_scale<float>").c_str(), &BM_plan_at_scale, kind)
            ->ArgNames({"n", "s"})
            ->Args({n, s})
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((prefix + "_construct<float>").c_str(), &BM_construct, kind)
            ->ArgNames({"n", "s"})
            ->Args({n, s})
            ->Unit(benchmark::kMillisecond);
      }
  return true;
}();

}  // namespace

GRADCODE_BENCHMARK_MAIN();
