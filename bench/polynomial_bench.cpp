// SPDX-License-Identifier: MIT
// Polynomial hierarchical gradient code (include/gradcode/hierarchical/polynomial.hpp,
// gholami2025 §V) with the default unit-circle points: one worker's encode, a relay's decode
// with and without an adversary among its workers (and its two halves: error location and the
// trusted interpolation), the server's decode, at d ∈ {1e5, 1e6, 3e7}, N1 = N2 = N ∈ {4, 16, 32}.
// d = 3e7 is the out-of-cache size (LLC 260 MiB), float only and only the worker encode, relay
// decode and server decode (with double and all halves there, a run took 230 s and peaked at
// 12 GB RSS; as registered, ≈ 2 min and 4.3 GB on the 2-core machine): the worker encode reads
// 4–8 d-vectors (0.5–1 GB), the server decode 3.4–4 (0.4–0.5 GB); relay messages are d/(m1 m2)
// long, so the relay decode leaves the LLC only at N = 4 (m1 = m2 = 1).
//
// Bytes (bench_common.hpp convention: every vector read once + the output written once):
//   BM_polynomial_worker_encode<T>     (|Γ_(0,0)|·d + C2)·sizeof(T)  held partials → g̃_(0,0)
//   BM_polynomial_relay_decode<T>      (f2·C2 + C1)·sizeof(T)        locate + interpolate
//   BM_polynomial_relay_locate<T>      f2·C2·sizeof(T)               P = 3 projections + Berlekamp–Welch
//   BM_polynomial_relay_interpolate<T> (f2·C2 + C1)·sizeof(T)        decode with locate_corrupted off
//   BM_polynomial_server_decode<T>     (f1·C1 + d)·sizeof(T)         locate + interpolate
//   BM_polynomial_server_locate<T>     f1·C1·sizeof(T)
// items = d per call (the gradient length the round serves); `f`, `m` counters = messages read
// and targets evaluated (a decode does f·m complex multiply-adds per complex output unit, so it
// is compute-bound once m ≳ 4 — of_triad measures what that costs against a pure stream,
// of_roofline against the bound that applies at its intensity).
//
// Flops (set_work; complex multiply-add = 8 real flops, real = 2; w = 2 reals per complex unit
// with the default points, mac = 8 then, else w = 1, mac = 2):
//   worker encode      terms·(C2/w)·mac, terms = |Γ_(0,0)|·m1·m2 (one per sub-block of a held
//                      column; ≈ 4·|Γ|·d in complex): complex_weighted_sum's multiply-adds
//   locate             2·P·f·L, P = 3 projections of f messages of L reals (project(); the
//                      Berlekamp–Welch solve on the f × P projections is not counted)
//   interpolate        (out/w)·kept·mac: the Eigen GEMM [units × kept]·[kept × m], kept = used
//                      messages (f, or f − 1 with the adversary excluded)
//   decode             locate + interpolate (finiteness/overflow scans not counted)
//
// Topology: cyclic placement (place_partitions) with K = N, r1 = r2 = r = 4, 8, 16 for
// N = 4, 16, 32, s = a = 1 per layer, so m1 = m2 = r − 3 = 1, 5, 13; C1 = d/m1, C2 = d/(m1 m2).
// Worker (0,0) holds |Γ| = r²/N = 4, 4, 8 partitions. Decoders read f = N − 1 messages (node 0
// straggles); adv:1 replaces one of them by a random vector of 1e6 scale, which the decode must
// locate (checked once before timing, as is the decoded value). Relay and server messages are
// exact evaluations of random polynomials of the right degree (built in the Arnoldi basis), so
// the fixture does not need the d × K partial gradients. Plans are cached before timing.
#include <complex>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include <gradcode/detail/splitmix.hpp>
#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/robust/arnoldi_basis.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;
using gradcode::matrix;
using gradcode::vector;

const std::vector<std::int64_t> sizes = {100'000, 1'000'000, 30'000'000};
const std::vector<Index> topologies = {4, 16, 32};

[[maybe_unused]] const bool triads_registered = gradcode_bench::register_triad(sizes);

Index replication(Index n) { return n == 4 ? 4 : n / 2; }

double uniform(std::uint64_t& state) { return gradcode::detail::splitmix_uniform(state); }

/// Messages of nodes 1..n−1 of `code`: values at the nodes of a random vector polynomial of degree < K.
template <class T>
matrix<T> consistent_messages(const gradcode::reed_solomon_code<T>& code, std::uint64_t seed) {
  const Index n = code.nodes(), k = code.dimension(), w = code.real() ? 1 : 2, units = code.message_length() / w;
  const gradcode::arnoldi_basis basis(code.node_points(), k);
  matrix<std::complex<double>> coef(units, k);
  for (Index i = 0; i < coef.size(); ++i) coef.data()[i] = {uniform(seed), w == 2 ? uniform(seed) : 0.0};
  const matrix<std::complex<double>> values = coef * basis.values().transpose();  // units × n
  matrix<T> out(code.message_length(), n - 1);
  for (Index j = 1; j < n; ++j)
    for (Index u = 0; u < units; ++u) {
      out(w * u, j - 1) = static_cast<T>(values(u, j).real());
      if (w == 2) out(w * u + 1, j - 1) = static_cast<T>(values(u, j).imag());
    }
  return out;
}

template <class T>
struct fixture {
  Index d = 0, n = 0;
  std::unique_ptr<gradcode::polynomial_hgc<T>> code;
  matrix<T> held;  // d × |Γ_(0,0)|
  vector<T> worker_out, relay_out, server_out;
  matrix<T> relay_in, relay_in_bad;    // C2 × (N − 1)
  matrix<T> server_in, server_in_bad;  // C1 × (N − 1)
  std::vector<Index> ids;              // 1 … N − 1
  std::string error;                   // non-empty: the fixture failed its self-check
};

template <class T>
fixture<T>& fixture_for(Index d, Index n) {
  static std::unique_ptr<fixture<T>> slot;
  if (slot && slot->d == d && slot->n == n) return *slot;
  slot.reset();  // free the previous size first
  slot = std::make_unique<fixture<T>>();
  auto& f = *slot;
  f.d = d;
  f.n = n;
  const Index r = replication(n);
  const gradcode::polynomial_placement placement{.workers = std::vector<Index>(static_cast<std::size_t>(n), n),
                                                 .partitions = n,
                                                 .relay_replication = r,
                                                 .worker_replication = {r}};
  f.code = std::make_unique<gradcode::polynomial_hgc<T>>(
      gradcode::polynomial_hgc_params{.dimension = d,
                                      .clusters = gradcode::place_partitions(placement),
                                      .relay_stragglers = 1,
                                      .relay_adversaries = 1,
                                      .worker_stragglers = {1},
                                      .worker_adversaries = {1}});
  std::uint64_t seed = 0x5eedull + static_cast<std::uint64_t>(d * 131 + n);
  const auto load = static_cast<Index>(f.code->worker_partitions({0, 0}).size());
  f.held.resize(d, load);
  for (Index i = 0; i < f.held.size(); ++i) f.held.data()[i] = static_cast<T>(uniform(seed));
  f.worker_out.resize(f.code->worker_message_length(0));
  f.relay_out.resize(f.code->relay_message_length());
  f.server_out.resize(d);
  f.ids.resize(static_cast<std::size_t>(n - 1));
  std::iota(f.ids.begin(), f.ids.end(), Index{1});
  f.relay_in = consistent_messages(f.code->relay_code(0), seed + 1);
  f.server_in = consistent_messages(f.code->server_code(), seed + 2);
  f.relay_in_bad = f.relay_in;
  f.server_in_bad = f.server_in;
  for (Index i = 0; i < f.relay_in_bad.rows(); ++i) f.relay_in_bad(i, n / 2) = static_cast<T>(1e6 * uniform(seed));
  for (Index i = 0; i < f.server_in_bad.rows(); ++i) f.server_in_bad(i, n / 2) = static_cast<T>(1e6 * uniform(seed));
  // Self-check: honest decodes find nobody, corrupted ones find node n/2 + 1, and agree.
  try {
    vector<T> clean(f.relay_out.size()), dirty(f.relay_out.size());
    const auto a = f.code->relay_decode(0, f.ids, f.relay_in, clean);
    const auto b = f.code->relay_decode(0, f.ids, f.relay_in_bad, dirty);
    vector<T> sclean(d), sdirty(d);
    const auto c = f.code->server_decode(f.ids, f.server_in, sclean);
    const auto e = f.code->server_decode(f.ids, f.server_in_bad, sdirty);
    const std::vector<Index> expect{n / 2 + 1};
    const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-9;
    if (!a.corrupted.empty() || !c.corrupted.empty() || b.corrupted != expect || e.corrupted != expect)
      f.error = "the self-check located the wrong nodes";
    else if ((clean - dirty).template cast<double>().norm() > tol * clean.template cast<double>().norm() ||
             (sclean - sdirty).template cast<double>().norm() > tol * sclean.template cast<double>().norm())
      f.error = "the decode with an adversary differs from the honest decode";
  } catch (const std::exception& ex) {
    f.error = ex.what();
  }
  return f;
}

/// `bytes` in Scalars, `flops` per call (header comment).
template <class T>
void counters(benchmark::State& state, std::int64_t bytes, double flops, Index d, Index f, Index m) {
  gradcode_bench::set_work(state, bytes * static_cast<std::int64_t>(sizeof(T)), flops);
  state.SetItemsProcessed(state.iterations() * d);
  state.counters["f"] = static_cast<double>(f);
  state.counters["m"] = static_cast<double>(m);
}

template <class T>
void BM_worker_encode(benchmark::State& state) {
  auto& f = fixture_for<T>(state.range(0), state.range(1));
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  for (auto _ : state) {
    f.code->encode_held({0, 0}, f.held, f.worker_out);
    benchmark::DoNotOptimize(f.worker_out.data());
    benchmark::ClobberMemory();
  }
  // terms·(C2/w)·mac: one complex (real) multiply-add per unit of each of the |Γ|·m1·m2 sub-blocks.
  const Index parts = f.code->relay_parts() * f.code->worker_parts(0);
  const bool real = f.code->server_code().real();
  const double flops =
      static_cast<double>(f.held.cols() * parts) * static_cast<double>(f.worker_out.size() / (real ? 1 : 2)) * (real ? 2.0 : 8.0);
  counters<T>(state, f.held.size() + f.worker_out.size(), flops, f.d, f.held.cols(), parts);
}

/// Flops of one decode step of `rs` (header comment): locate = 2·P·f·L (the projections),
/// interpolate = (out/w)·kept·mac (the GEMM over the kept messages).
template <class T>
double decode_flops(const gradcode::reed_solomon_code<T>& rs, Index f, Index kept, Index out, bool locate, bool interpolate) {
  const bool real = rs.real();
  double flops = 0;
  if (locate && rs.options().locate_corrupted && f > rs.dimension())
    flops +=
        2.0 * static_cast<double>(rs.options().projections) * static_cast<double>(f) * static_cast<double>(rs.message_length());
  if (interpolate) flops += static_cast<double>(out / (real ? 1 : 2)) * static_cast<double>(kept) * (real ? 2.0 : 8.0);
  return flops;
}

enum class step { decode, locate, interpolate };

template <class T>
void BM_relay(benchmark::State& state, step what) {
  auto& f = fixture_for<T>(state.range(0), state.range(1));
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const auto& in = state.range(2) ? f.relay_in_bad : f.relay_in;
  const auto& rs = f.code->relay_code(0);
  const auto report = rs.locate(f.ids, in);  // also warms the plan cache
  for (auto _ : state) {
    switch (what) {
      case step::decode:
        benchmark::DoNotOptimize(f.code->relay_decode(0, f.ids, in, f.relay_out));
        break;
      case step::locate:
        benchmark::DoNotOptimize(rs.locate(f.ids, in));
        break;
      case step::interpolate:
        rs.interpolate(f.ids, in, report.used, f.relay_out);
        break;
    }
    benchmark::DoNotOptimize(f.relay_out.data());
    benchmark::ClobberMemory();
  }
  const std::int64_t bytes = in.size() + (what == step::locate ? 0 : f.relay_out.size());
  const double flops = decode_flops(rs, in.cols(), static_cast<Index>(report.used.size()), f.relay_out.size(),
                                    what != step::interpolate, what != step::locate);
  counters<T>(state, bytes, flops, f.d, in.cols(), f.code->worker_parts(0));
}

template <class T>
void BM_server(benchmark::State& state, step what) {
  auto& f = fixture_for<T>(state.range(0), state.range(1));
  if (!f.error.empty()) return state.SkipWithError(f.error.c_str());
  const auto& in = state.range(2) ? f.server_in_bad : f.server_in;
  const auto& rs = f.code->server_code();
  const auto report = rs.locate(f.ids, in);  // the kept set, for the flop count
  for (auto _ : state) {
    if (what == step::locate)
      benchmark::DoNotOptimize(rs.locate(f.ids, in));
    else
      benchmark::DoNotOptimize(f.code->server_decode(f.ids, in, f.server_out));
    benchmark::DoNotOptimize(f.server_out.data());
    benchmark::ClobberMemory();
  }
  const std::int64_t bytes = in.size() + (what == step::locate ? 0 : f.server_out.size());
  const double flops =
      decode_flops(rs, in.cols(), static_cast<Index>(report.used.size()), f.server_out.size(), true, what != step::locate);
  counters<T>(state, bytes, flops, f.d, in.cols(), f.code->relay_parts());
}

template <class T>
void register_size(std::int64_t d, Index n, bool halves = true) {
  const std::string tag = std::string("<") + gradcode_bench::scalar_name<T>() + ">";
  auto add = [&](const std::string& name, auto fn, bool adversary_arg) {
    auto* b = benchmark::RegisterBenchmark((name + tag).c_str(), fn);
    b->Unit(benchmark::kMicrosecond);
    if (adversary_arg) {
      b->ArgNames({"d", "N", "adv"})->Args({d, n, 0})->Args({d, n, 1});
    } else {
      b->ArgNames({"d", "N"})->Args({d, n});
    }
  };
  add("BM_polynomial_worker_encode", &BM_worker_encode<T>, false);
  add(
      "BM_polynomial_relay_decode", [](benchmark::State& s) { BM_relay<T>(s, step::decode); }, true);
  if (halves) {
    add(
        "BM_polynomial_relay_locate", [](benchmark::State& s) { BM_relay<T>(s, step::locate); }, true);
    auto* interp = benchmark::RegisterBenchmark(("BM_polynomial_relay_interpolate" + tag).c_str(),
                                                [](benchmark::State& s) { BM_relay<T>(s, step::interpolate); });
    interp->Unit(benchmark::kMicrosecond)->ArgNames({"d", "N", "adv"})->Args({d, n, 0});
  }
  add(
      "BM_polynomial_server_decode", [](benchmark::State& s) { BM_server<T>(s, step::decode); }, true);
  if (halves)
    add(
        "BM_polynomial_server_locate", [](benchmark::State& s) { BM_server<T>(s, step::locate); }, true);
}

// d-major, then N, then scalar: the single-slot fixture is rebuilt once per (d, N, scalar). The
// out-of-cache size runs float only and without the locate/interpolate halves (header comment).
[[maybe_unused]] const bool registered = [] {
  for (auto d : sizes)
    for (Index n : topologies) {
      const bool out_of_cache = d == sizes.back();
      register_size<float>(d, n, !out_of_cache);
      if (!out_of_cache) register_size<double>(d, n);
    }
  return true;
}();

}  // namespace

GRADCODE_BENCHMARK_MAIN();
