// SPDX-License-Identifier: MIT
// The 1-bit quantizer of li-skoglund eq. (6) (include/gradcode/quantize/one_bit.hpp, its kernels in
// one_bit_kernels.hpp): quantize + pack, the pack kernel alone, and unpack + weighted accumulate
// (eq. (8)), at w = d ∈ {1e4, 1e6, 1e7, 1e8}, float and double, beside the triad and the GEMM
// peak (bench_common.hpp) and a memcpy baseline in the same run. d = 1e8 is the out-of-cache
// size: f alone is 0.4 GB (float) / 0.8 GB (double) against the 260 MiB LLC; it runs the
// dispatched kernels only (memcpy, quantize, norm, pack, accumulate), not the per-ISA packs.
//
// Bytes (bench_common.hpp convention: every vector read once + the output written once; the
// packed bits count d/8 bytes per message):
//   BM_memcpy<T>                         2·d·sizeof(T)        read d, write d
//   BM_one_bit_quantize<T>               d·sizeof(T) + d/8    ‖f‖ pass + sign pass over f, bits out (two passes
//                                                              over f are the price of eq. (6) needing ‖f‖ first)
//   BM_one_bit_norm<T>                   d·sizeof(T)          the ‖f‖ pass alone
//   BM_one_bit_pack<T>                   d·sizeof(T) + d/8    quantize_range with ‖f‖ known: one pass
//   BM_one_bit_pack_reference<T>         d·sizeof(T) + d/8    the scalar test oracle (one draw per coordinate)
//   BM_one_bit_pack_portable<T>          d·sizeof(T) + d/8    the no-intrinsics kernel (non-x86 builds)
//   BM_one_bit_pack_sse2<T>              d·sizeof(T) + d/8    the SSE2 kernel (x86-64 builds without -mavx2)
//   BM_one_bit_pack_avx2<T>              d·sizeof(T) + d/8    the AVX2 kernel (builds with -mavx2, no AVX-512)
// The dispatched pack uses the widest kernel compiled in (AVX-512 here with -march=native).
//   BM_one_bit_accumulate<T>/messages:k  2·d·sizeof(T) + k·d/8   out += Σ_j ‖f_j‖h_j over k messages
// items = d per call (elements quantized), k·d for accumulate (elements unpacked).
// Flops (set_work): norm 2·d (square + add), pack d (the scale x·s in threshold(); the clamps
// are compares), quantize 3·d (both), accumulate k·d (one add of ±w_j per element and message;
// the blend is not a flop), memcpy none (of_roofline = of_triad). These kernels are bound by
// memory or by the integer hash (one mix64 per two coordinates), not by floating point: their
// intensity is ≤ 1.1 flop/byte, so of_roofline is of_triad unless they run near the FP peak.
// The target of issue 6 is ≥ 1e9 elements/s per core for quantize + pack.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <gradcode/quantize/one_bit.hpp>
#include <gradcode/quantize/one_bit_kernels.hpp>

#include "bench_common.hpp"

namespace {

using gradcode::Index;

const std::vector<std::int64_t> sizes = {10'000, 1'000'000, 10'000'000, 100'000'000};

[[maybe_unused]] const bool triads_registered = gradcode_bench::register_triad(sizes);

/// f with entries in [−1, 1) from a fixed counter stream (no std:: distribution: reproducible).
template <class T>
gradcode::vector<T> input(Index d) {
  const gradcode::counter_rng rng(12345);
  gradcode::vector<T> f(d);
  for (Index k = 0; k < d; ++k) f[k] = static_cast<T>(rng.uniform(static_cast<std::uint64_t>(k)) * 2 - 1);
  return f;
}

template <class T>
std::int64_t vector_bytes(std::int64_t d) {
  return d * static_cast<std::int64_t>(sizeof(T));
}

template <class T>
void BM_memcpy(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  gradcode_bench::aligned_buffer<T> a(d), b(d);
  std::memset(a.get(), 1, d * sizeof(T));
  std::memset(b.get(), 0, d * sizeof(T));
  for (auto _ : state) {
    std::memcpy(b.get(), a.get(), d * sizeof(T));
    benchmark::DoNotOptimize(b.get());
    benchmark::ClobberMemory();
  }
  gradcode_bench::set_work(state, 2 * vector_bytes<T>(static_cast<std::int64_t>(d)), 0);  // no flops
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(d));
}

template <class T>
void BM_one_bit_quantize(benchmark::State& state) {
  const Index d = state.range(0);
  const gradcode::one_bit_quantizer<T> q({.length = d, .seed = 1});
  const gradcode::vector<T> f = input<T>(d);
  std::vector<std::uint64_t> words(static_cast<std::size_t>(q.word_count()));
  std::uint64_t t = 0;
  for (auto _ : state) {
    T norm = q.quantize(f, {.worker = 0, .iteration = t++}, std::span<std::uint64_t>(words));
    benchmark::DoNotOptimize(norm);
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
  }
  // the norm's square + add and the pack's scale: 3 flops per element
  gradcode_bench::set_work(state, vector_bytes<T>(d) + d / 8, 3.0 * static_cast<double>(d));
  state.SetItemsProcessed(state.iterations() * d);
}

template <class T>
void BM_one_bit_norm(benchmark::State& state) {
  const Index d = state.range(0);
  const gradcode::vector<T> f = input<T>(d);
  for (auto _ : state) {
    double norm = gradcode::detail::checked_norm(f.data(), d, -1);
    benchmark::DoNotOptimize(norm);
  }
  gradcode_bench::set_work(state, vector_bytes<T>(d), 2.0 * static_cast<double>(d));  // square + add
  state.SetItemsProcessed(state.iterations() * d);
}

enum class pack_kernel { dispatched, reference, portable, sse2, avx2 };

template <class T, pack_kernel K>
void BM_one_bit_pack(benchmark::State& state) {
  const Index d = state.range(0);
  const gradcode::one_bit_quantizer<T> q({.length = d, .seed = 1});
  const gradcode::vector<T> f = input<T>(d);
  const auto norm = static_cast<T>(f.template cast<double>().norm());
  const T s = static_cast<T>(2147483648.0) / norm;
  std::vector<std::uint64_t> words(static_cast<std::size_t>(q.word_count()));
  std::uint64_t t = 0;
  for (auto _ : state) {
    const gradcode::draw_stream stream{.worker = 0, .iteration = t++};
    const std::uint64_t key = q.rng(stream).key();
    if constexpr (K == pack_kernel::dispatched)
      q.quantize_range(std::span<const T>(f.data(), static_cast<std::size_t>(d)), norm, stream, 0,
                       std::span<std::uint64_t>(words));
    else if constexpr (K == pack_kernel::reference)
      gradcode::detail::quantize_reference<T>(f.data(), d, s, key, 0, words.data());
    else if constexpr (K == pack_kernel::portable)
      gradcode::detail::quantize_portable<T>(f.data(), d, s, key, 0, words.data());
#if defined(__SSE2__)
    else if constexpr (K == pack_kernel::sse2)
      gradcode::detail::quantize_sse2<T>(f.data(), d, s, key, 0, words.data());
#endif
#if defined(__AVX2__)
    else if constexpr (K == pack_kernel::avx2)
      gradcode::detail::quantize_avx2<T>(f.data(), d, s, key, 0, words.data());
#endif
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
  }
  gradcode_bench::set_work(state, vector_bytes<T>(d) + d / 8, static_cast<double>(d));  // the scale x·s
  state.SetItemsProcessed(state.iterations() * d);
}

template <class T>
void BM_one_bit_accumulate(benchmark::State& state) {
  const Index d = state.range(0), k = state.range(1);
  const gradcode::one_bit_quantizer<T> q({.length = d, .seed = 1});
  const gradcode::vector<T> f = input<T>(d);
  std::vector<gradcode::one_bit_vector<T>> messages;
  for (Index j = 0; j < k; ++j) messages.push_back(q.quantize(f, {.worker = static_cast<std::uint64_t>(j)}));
  gradcode::vector<T> out = gradcode::vector<T>::Zero(d);
  for (auto _ : state) {
    q.accumulate(std::span<const gradcode::one_bit_vector<T>>(messages), out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  // one add of ±‖f_j‖ per element and message
  gradcode_bench::set_work(state, 2 * vector_bytes<T>(d) + k * (d / 8), static_cast<double>(k) * static_cast<double>(d));
  state.SetItemsProcessed(state.iterations() * d * k);
  state.counters["messages"] = static_cast<double>(k);
}

template <class T>
void register_all() {
  const std::string tag = std::string("<") + gradcode_bench::scalar_name<T>() + ">";
  // The out-of-cache size (sizes.back()) only for the dispatched kernels, not the per-ISA ones.
  auto one = [&](const std::string& name, auto fn, bool out_of_cache = true) {
    auto* b = benchmark::RegisterBenchmark((name + tag).c_str(), fn);
    b->ArgName("d")->Unit(benchmark::kMicrosecond);
    for (auto d : sizes)
      if (out_of_cache || d != sizes.back()) b->Arg(d);
  };
  one("BM_memcpy", &BM_memcpy<T>);
  one("BM_one_bit_quantize", &BM_one_bit_quantize<T>);
  one("BM_one_bit_norm", &BM_one_bit_norm<T>);
  one("BM_one_bit_pack", &BM_one_bit_pack<T, pack_kernel::dispatched>);
  one("BM_one_bit_pack_reference", &BM_one_bit_pack<T, pack_kernel::reference>, false);
  one("BM_one_bit_pack_portable", &BM_one_bit_pack<T, pack_kernel::portable>, false);
#if defined(__SSE2__)
  one("BM_one_bit_pack_sse2", &BM_one_bit_pack<T, pack_kernel::sse2>, false);
#endif
#if defined(__AVX2__)
  one("BM_one_bit_pack_avx2", &BM_one_bit_pack<T, pack_kernel::avx2>, false);
#endif
  auto* acc = benchmark::RegisterBenchmark(("BM_one_bit_accumulate" + tag).c_str(), &BM_one_bit_accumulate<T>);
  acc->ArgNames({"d", "messages"})->Unit(benchmark::kMicrosecond);
  for (auto d : sizes)
    for (std::int64_t k : {1, 10}) acc->Args({d, k});
}

[[maybe_unused]] const bool registered = (register_all<float>(), register_all<double>(), true);

}  // namespace

GRADCODE_BENCHMARK_MAIN();
