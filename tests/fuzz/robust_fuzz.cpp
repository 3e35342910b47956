// SPDX-License-Identifier: MIT
// Fuzz target over the adversary-tolerant decoders: the Reed–Solomon code over R and C
// (include/gradcode/robust/reed_solomon.hpp) and the polynomial hierarchical code of gholami2025
// (include/gradcode/hierarchical/polynomial.hpp), with arbitrary corruptions of any number of
// messages (NaN, ±Inf, huge values up to 2^1023, one ulp, relative changes, zeroed, another
// node's message, added noise, scaling), stragglers, repeated / out-of-range ids and bad shapes.
//
// Each arriving message is classified against the exact value (long double oracle): honest
// (bit-identical to what the sender computed), subtle (changed by less than G of the largest
// honest message; G = max(1e-2, 1e3·τ)), gross (changed by more) or non-finite. With f messages,
// E non-finite and C + S gross + subtle ones, the decoder's budget holds when f − E − K ≥ 2(C+S).
// Properties (each violation aborts with a message):
//   - only typed errors; bad ids / shapes → invalid_input;
//   - a result is finite, `used` ∪ `corrupted` = the ids (disjoint), |used| ≥ K, every
//     non-finite message is in `corrupted`;
//   - when `used` holds ≥ K honest messages: no gross or non-finite message is in `used`, and the
//     result is exact within amplification × (the largest error of a used message + rounding) —
//     so a wrong sum is never reported as clean; with < K honest ones in `used` the budget must
//     have been exceeded (the corruptions then may form another consistent codeword: the limit
//     of any decoder);
//   - within budget and without subtle corruptions (default τ): no corrupted_result, no
//     not_decodable for the stable point families, and `corrupted` is exactly the gross and
//     non-finite senders (every corrupted node reported, no honest node accused);
//   - polynomial HGC end to end: when every used message at both layers is honest, the gradient
//     is Σ_k g_k within DESIGN.md's accuracy target (1e-9 double, 1e-4 float) · Σ_k‖g_k‖, or the
//     decoder refuses with a typed error;
//   - a code built with corruption_tolerance = +Inf is a violation (issue 13: nothing is ever
//     located).
// fuzz-claim: every checked-in corpus input gives the exact result, the corrupted nodes, or a typed error
// fuzz-max-len: 2048
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gradcode/hierarchical/polynomial.hpp>
#include <gradcode/robust/evaluation_points.hpp>
#include <gradcode/robust/reed_solomon.hpp>

#include "fuzz_support.hpp"

namespace {

using namespace gradcode;
using fuzz::input;
using fuzz::outcome;
using fuzz::real;
using creal = std::complex<real>;

point_family pick_family(std::uint8_t b) {
  return b < 160 ? point_family::unit_circle : b < 224 ? point_family::chebyshev : point_family::paper;
}

/// robust_options from the input: mostly defaults; sometimes other τ, P, or no location.
robust_options pick_options(input& in, std::string& key) {
  robust_options o;
  const auto b = in.byte();
  if (b >= 208) {
    constexpr double tau[] = {
        0, 1e-14, 1e-8, 1e-3, -1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
    o.corruption_tolerance = tau[in.byte() % std::size(tau)];
    o.projections = in.pick(0, 9);
    o.locate_corrupted = in.byte() >= 32;
    o.plan_cache_size = in.byte() % 3;
  }
  fuzz::key_add(key, o.corruption_tolerance);
  fuzz::key_add(key, o.projections);
  fuzz::key_add(key, static_cast<int>(o.locate_corrupted));
  fuzz::key_add(key, o.plan_cache_size);
  return o;
}

void require_finite_tolerance(const robust_options& o) {
  GRADCODE_FUZZ_REQUIRE(!(o.corruption_tolerance == std::numeric_limits<double>::infinity()),
                        "a code was built with robust_options::corruption_tolerance = +Inf (want invalid_parameters)");
}

enum class kind { honest, subtle, gross, nonfinite };
/// One robust decode call as the fuzzer arranged it.
template <class Scalar>
struct rs_call {
  std::vector<Index> ids;
  matrix<Scalar> received;
  Index out_length = 0;
  bool count_ok = true, ids_ok = true, rows_ok = true;
  std::vector<kind> kinds;  ///< per column
  std::vector<real> error;  ///< per column: ‖received − exact‖_∞ (honest: the sender's rounding)
  std::vector<real> size;   ///< per column: ‖exact‖_∞, or the sum of |terms| it was computed from when larger
  /// per column: an honest message whose own rounding reaches τ/10 of its size (subnormal data,
  /// cancellation): a locator cannot tell it from a corruption, so the within-budget rules relax.
  std::vector<bool> noisy;
  real biggest = 0;         ///< max |received| over finite entries
  real value_scale = 0;     ///< max |exact value| over the arriving nodes: what the locator's τ is relative to
  std::vector<real> value;  ///< per column: ‖exact‖_∞
};

/// `sent` (L × n): what each node sent when honest; `exact` (L × n, long double): the exact values;
/// `magnitude[i]`: max over elements of Σ|terms| behind node i's value (its rounding scale);
/// `available[i]`: node i sent something. `gross` is G above.
template <class Scalar>
rs_call<Scalar> draw_call(input& in, const matrix<Scalar>& sent, const std::vector<std::vector<real>>& exact,
                          const std::vector<real>& magnitude, const std::vector<bool>& available, Index out_length, double gross,
                          double tau) {
  const Index L = sent.rows(), n = sent.cols();
  rs_call<Scalar> c;
  real scale = 0;  // the largest honest message of all nodes
  for (Index i = 0; i < n; ++i)
    for (Index r = 0; r < L; ++r)
      scale = std::max(scale, std::fabs(exact[static_cast<std::size_t>(i)][static_cast<std::size_t>(r)]));
  // Changes below min_normal/ε are noise of the subnormal range: no floating-point locator sees
  // them (their projections underflow), so they count as subtle whatever the data's scale.
  const real floor = static_cast<real>(std::numeric_limits<Scalar>::min()) / fuzz::epsilon<Scalar>();
  const Index count = in.pick(0, n + 2);
  std::vector<bool> taken(static_cast<std::size_t>(n), false);
  std::vector<vector<Scalar>> cols;
  for (Index t = 0; t < count; ++t) {
    const auto choice = fuzz::pick_id(in, n, taken, available);
    const bool has = choice.valid && available[static_cast<std::size_t>(choice.id)];
    if (!choice.valid) c.ids_ok = false;
    if (choice.valid && std::find(c.ids.begin(), c.ids.end(), choice.id) != c.ids.end()) c.ids_ok = false;
    vector<Scalar> m = has ? vector<Scalar>(sent.col(choice.id)) : vector<Scalar>::Zero(L);
    const auto p = fuzz::pick_perturbation(in);
    const vector<Scalar> other =
        n > 0 ? vector<Scalar>(sent.col(choice.valid ? (choice.id + 1) % n : 0)) : vector<Scalar>::Zero(L);
    const bool changed = fuzz::apply_perturbation<Scalar>(in, p, m, other) || !has;
    kind k = kind::honest;
    real err = 0, sz = 0;
    if (choice.valid) {
      const auto& x = exact[static_cast<std::size_t>(choice.id)];
      sz = magnitude[static_cast<std::size_t>(choice.id)];
      real delta = 0;
      for (Index r = 0; r < L; ++r) {
        sz = std::max(sz, std::fabs(x[static_cast<std::size_t>(r)]));
        err = std::max(err, std::fabs(static_cast<real>(m[r]) - x[static_cast<std::size_t>(r)]));
        if (has)
          delta = std::max(delta, std::fabs(static_cast<real>(m[r]) - static_cast<real>(sent(r, choice.id))));
        else
          delta = std::max(delta, std::fabs(static_cast<real>(m[r]) - x[static_cast<std::size_t>(r)]));
      }
      // Nothing sent (zeros stand in): classified by their distance from the exact value.
      if (!fuzz::all_finite(m.data(), L))
        k = kind::nonfinite;
      else if (changed && delta > 0)
        k = delta >= std::max(static_cast<real>(gross) * scale, floor) ? kind::gross : kind::subtle;
    } else {
      k = fuzz::all_finite(m.data(), L) ? kind::gross : kind::nonfinite;
    }
    fuzz::trace("  id %lld%s: %s, %s, error %.3Lg, size %.3Lg", static_cast<long long>(choice.id),
                choice.valid ? "" : " (invalid)", fuzz::name(p),
                k == kind::honest   ? "honest"
                : k == kind::subtle ? "subtle"
                : k == kind::gross  ? "gross"
                                    : "non-finite",
                err, sz);
    for (Index r = 0; r < L; ++r)
      if (std::isfinite(m[r])) c.biggest = std::max(c.biggest, std::fabs(static_cast<real>(m[r])));
    c.ids.push_back(choice.id);
    real v = 0;
    if (choice.valid)
      for (real x : exact[static_cast<std::size_t>(choice.id)]) v = std::max(v, std::fabs(x));
    c.value.push_back(v);
    c.value_scale = std::max(c.value_scale, v);
    c.noisy.push_back(false);  // set below, once the arriving scale is known
    c.kinds.push_back(k);
    c.error.push_back(err);
    c.size.push_back(sz);
    cols.push_back(std::move(m));
  }
  for (std::size_t j = 0; j < c.ids.size(); ++j)
    c.noisy[j] = c.kinds[j] == kind::honest && c.error[j] > 0.1L * static_cast<real>(tau) * c.value_scale;
  Index rows = L;
  const auto shape = in.byte();
  c.out_length = out_length;
  if (shape >= 236 && shape < 240) {
    rows = L + 1;  // messages one real too long
    c.rows_ok = false;
  } else if (shape >= 240 && shape < 244 && L > 1) {
    rows = L - 1;
    c.rows_ok = false;
  } else if (shape >= 244 && shape < 248) {
    c.out_length = out_length + 1;  // more than the code can write
  } else if (shape >= 248 && shape < 252) {
    c.ids.push_back(0);
    c.count_ok = false;
  } else if (shape >= 252 && !c.ids.empty()) {
    c.ids.pop_back();
    c.count_ok = false;
  }
  c.received = matrix<Scalar>::Zero(rows, static_cast<Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j)
    c.received.col(static_cast<Index>(j)).head(std::min(rows, L)) = cols[j].head(std::min(rows, L));
  return c;
}

struct layer_facts {
  const char* layer;
  Index dimension;     ///< K of the layer's Reed–Solomon code
  bool stable_points;  ///< unit circle / Chebyshev: well-conditioned, held to "must decode"
  bool trust_tau;      ///< τ at least the default: honest rounding is never located
  bool locate;         ///< robust_options::locate_corrupted
};

/// What one checked robust decode established (for the layer above).
struct layer_verdict {
  bool ok = false;
  bool clean = false;  ///< ok, and every used message was honest
};

/// The properties of one Reed–Solomon decode (RS mode, a relay, or the server). `exact` holds the
/// first out-length reals the decode should return.
template <class Scalar>
layer_verdict check_decode(const layer_facts& L, outcome got, const std::string& what, const robust_report& report,
                           const vector<Scalar>& out, const rs_call<Scalar>& c, const std::vector<real>& exact, Index max_out) {
  layer_verdict v;
  const char* w = what.c_str();
  const char* layer = L.layer;
  if (!c.count_ok || !c.ids_ok || !c.rows_ok) {
    GRADCODE_FUZZ_REQUIRE(got == outcome::invalid_input,
                          "%s: bad ids or shapes (count %d, ids %d, rows %d) gave %s, want invalid_input: %s", layer, c.count_ok,
                          c.ids_ok, c.rows_ok, fuzz::name(got), w);
    return v;
  }
  const auto f = static_cast<Index>(c.ids.size());
  Index E = 0, C = 0, S = 0;
  for (auto k : c.kinds) E += k == kind::nonfinite, C += k == kind::gross, S += k == kind::subtle;
  const bool within = f - E - L.dimension >= 2 * (C + S) && f - E >= L.dimension &&
                      std::none_of(c.noisy.begin(), c.noisy.end(), [](bool b) { return b; });
  if (c.out_length > max_out) {
    GRADCODE_FUZZ_REQUIRE(got != outcome::ok, "%s: an output of %lld reals (> %lld) was accepted", layer,
                          static_cast<long long>(c.out_length), static_cast<long long>(max_out));
    return v;
  }
  const real top = static_cast<real>(std::numeric_limits<Scalar>::max());
  switch (got) {
    case outcome::ok:
      break;
    case outcome::not_decodable:
      GRADCODE_FUZZ_REQUIRE(
          f < L.dimension || !within || !L.stable_points || !L.trust_tau || !L.locate,
          "%s: not_decodable with %lld messages (K = %lld) within the budget (%lld non-finite, %lld gross, %lld subtle): %s",
          layer, static_cast<long long>(f), static_cast<long long>(L.dimension), static_cast<long long>(E),
          static_cast<long long>(C), static_cast<long long>(S), w);
      return v;
    case outcome::corrupted_result:
      GRADCODE_FUZZ_REQUIRE(L.locate, "%s: corrupted_result with locate_corrupted off: %s", layer, w);
      GRADCODE_FUZZ_REQUIRE(!within || S > 0 || !L.trust_tau || !L.stable_points,
                            "%s: corrupted_result within the budget (%lld messages, K = %lld, %lld non-finite, %lld gross): %s",
                            layer, static_cast<long long>(f), static_cast<long long>(L.dimension), static_cast<long long>(E),
                            static_cast<long long>(C), w);
      return v;
    case outcome::invalid_input:
      // Legitimate for valid calls only as "a non-finite message" with location off, or a sum of
      // finite messages that overflows.
      GRADCODE_FUZZ_REQUIRE((!L.locate && E > 0) || c.biggest * 1e9L * static_cast<real>(f + 1) >= top,
                            "%s: invalid_input for a valid call (%lld messages, largest %.3Lg): %s", layer,
                            static_cast<long long>(f), c.biggest, w);
      return v;
    default:
      GRADCODE_FUZZ_REQUIRE(false, "%s: decode threw %s: %s", layer, fuzz::name(got), w);
  }
  // Success.
  GRADCODE_FUZZ_REQUIRE(fuzz::all_finite(out.data(), out.size()), "%s: decode returned non-finite values", layer);
  std::vector<Index> all = c.ids, both = report.used;
  std::sort(all.begin(), all.end());
  both.insert(both.end(), report.corrupted.begin(), report.corrupted.end());
  std::sort(both.begin(), both.end());
  GRADCODE_FUZZ_REQUIRE(both == all, "%s: used ∪ corrupted is not the set of ids (or they overlap)", layer);
  GRADCODE_FUZZ_REQUIRE(static_cast<Index>(report.used.size()) >= L.dimension, "%s: interpolated from %zu < K = %lld messages",
                        layer, report.used.size(), static_cast<long long>(L.dimension));
  GRADCODE_FUZZ_REQUIRE(std::isfinite(report.amplification) && report.amplification >= 0, "%s: amplification %g", layer,
                        report.amplification);
  Index honest_used = 0;
  bool noisy_used = false;
  real worst_error = 0, largest = 0;
  std::string kept_bad;
  for (std::size_t j = 0; j < c.ids.size(); ++j) {
    const bool used = std::binary_search(report.used.begin(), report.used.end(), c.ids[j]);
    if (c.kinds[j] == kind::nonfinite)
      GRADCODE_FUZZ_REQUIRE(!used, "%s: the non-finite message of node %lld was used", layer, static_cast<long long>(c.ids[j]));
    if (!used) continue;
    honest_used += c.kinds[j] == kind::honest;
    noisy_used = noisy_used || c.noisy[j];
    if (c.kinds[j] == kind::gross) kept_bad += std::to_string(c.ids[j]) + " ";
    worst_error = std::max(worst_error, c.error[j]);
    largest = std::max(largest, c.size[j]);
  }
  if (L.locate && L.trust_tau && L.stable_points && within && S == 0) {
    std::vector<Index> bad;
    for (std::size_t j = 0; j < c.ids.size(); ++j)
      if (c.kinds[j] == kind::gross || c.kinds[j] == kind::nonfinite) bad.push_back(c.ids[j]);
    std::sort(bad.begin(), bad.end());
    std::string got_list, want_list;
    for (Index i : report.corrupted) got_list += std::to_string(i) + " ";
    for (Index i : bad) want_list += std::to_string(i) + " ";
    GRADCODE_FUZZ_REQUIRE(report.corrupted == bad,
                          "%s: within the budget the decoder reported corrupted [%s], the corrupted nodes are [%s]", layer,
                          got_list.c_str(), want_list.c_str());
  }
  if (honest_used >= L.dimension && L.locate) {
    // K honest messages pin the polynomial: a kept gross message means an inconsistent set was
    // accepted as clean.
    GRADCODE_FUZZ_REQUIRE(kept_bad.empty() || noisy_used,
                          "%s: kept the corrupted messages of nodes [%s] although %lld honest ones contradict them (residual %g)",
                          layer, kept_bad.c_str(), static_cast<long long>(honest_used), report.residual);
  } else if (L.locate) {
    GRADCODE_FUZZ_REQUIRE(!within, "%s: within the budget only %lld honest messages were used (K = %lld)", layer,
                          static_cast<long long>(honest_used), static_cast<long long>(L.dimension));
    return v;  // beyond the budget the kept set may be another consistent codeword
  } else if (honest_used < static_cast<Index>(c.ids.size())) {
    return v;  // trusting decode of altered messages: any finite result
  }
  // Exact within amplification × (the largest error of a used message + the decoder's rounding):
  // each output unit is Σ_j D_lj y_j with Σ_j |D_lj| ≤ amplification; a complex unit errs by ≤ √2
  // times its reals' error; the rounding slack covers the GEMM in Scalar and the interpolation
  // matrix computed in double.
  const real amp = std::max<real>(static_cast<real>(report.amplification), 1);
  const real slack = 64 * static_cast<real>(f + 2) * (fuzz::epsilon<Scalar>() + fuzz::epsilon<double>()) * largest;
  const real bound = 1.5L * amp * (worst_error + slack) + static_cast<real>(std::numeric_limits<Scalar>::denorm_min()) * amp * 4;
  real err = 0;
  for (Index i = 0; i < out.size(); ++i)
    err = std::max(err, std::fabs(static_cast<real>(out[i]) - exact[static_cast<std::size_t>(i)]));
  GRADCODE_FUZZ_REQUIRE(
      err <= bound,
      "%s: wrong result reported as clean: max error %.3Lg > %.3Lg (amplification %.3g, worst used message error %.3Lg, "
      "largest %.3Lg, %zu used of %lld, checked %d)",
      layer, err, bound, report.amplification, worst_error, largest, report.used.size(), static_cast<long long>(f),
      report.checked);
  v.ok = true;
  v.clean = honest_used == static_cast<Index>(report.used.size());
  return v;
}

/// Reals of a complex-unit (w = 2) or real (w = 1) vector.
GRADCODE_FUZZ_ORACLE void push_unit(std::vector<real>& out, creal v, Index w) {
  out.push_back(v.real());
  if (w == 2) out.push_back(v.imag());
}

/// The stand-alone Reed–Solomon code.
template <class Scalar>
void run_reed_solomon(input& in) {
  std::string key = "rs,";
  const auto fam = pick_family(in.byte());
  const Index n = in.pick(1, fam == point_family::paper ? 8 : 10);  // paper points: safe to N ≈ 8 only
  const Index K = in.pick(1, n), m = in.pick(1, n), units = in.pick(1, 4);
  const robust_options options = pick_options(in, key);
  fuzz::key_add(key, static_cast<int>(fam));
  fuzz::key_add(key, n);
  fuzz::key_add(key, K);
  fuzz::key_add(key, m);
  fuzz::key_add(key, units);
  static fuzz::code_cache<reed_solomon_code<Scalar>> cache;
  const auto& entry = cache.get(key, [&] {
    const auto p = make_evaluation_points(fam, n, m);
    const Index w = p.real ? 1 : 2;
    return std::make_shared<const reed_solomon_code<Scalar>>(reed_solomon_params{p.nodes, p.targets, K, w * units, !p.real},
                                                             options);
  });
  if (entry.made != outcome::ok) {
    GRADCODE_FUZZ_REQUIRE(entry.made == outcome::invalid_parameters, "Reed–Solomon construction threw %s",
                          fuzz::name(entry.made));
    return;
  }
  require_finite_tolerance(options);
  const auto& code = *entry.code;
  const Index w = code.real() ? 1 : 2, L = code.message_length();
  fuzz::trace("Reed–Solomon <%s>: %s points, n = %lld, K = %lld, m = %lld, L = %lld, τ = %g, P = %lld, locate %d",
              sizeof(Scalar) == 4 ? "float" : "double", to_string(fam).c_str(), static_cast<long long>(n),
              static_cast<long long>(K), static_cast<long long>(m), static_cast<long long>(L), options.corruption_tolerance,
              static_cast<long long>(options.projections), options.locate_corrupted);
  // p(x) = Σ_t c_t x^t, c_t ∈ C^units (real when the points are).
  const auto mode = fuzz::pick_mode(in);
  const int e = fuzz::pick_exponent<Scalar>(in, mode);
  std::vector<std::vector<creal>> coef(static_cast<std::size_t>(K), std::vector<creal>(static_cast<std::size_t>(units)));
  for (auto& c : coef)
    for (auto& u : c) {
      const real re = fuzz::draw_value<Scalar>(in, mode, e);
      const real im = w == 2 ? static_cast<real>(fuzz::draw_value<Scalar>(in, mode, e)) : 0;
      u = creal(re, im);
    }
  auto eval = [&](std::complex<double> x, Index u) {
    creal v = 0;
    const creal xl(x.real(), x.imag());
    for (Index t = K - 1; t >= 0; --t) v = v * xl + coef[static_cast<std::size_t>(t)][static_cast<std::size_t>(u)];
    return v;
  };
  auto magnitude_at = [&](std::complex<double> x) {  // max_u Σ_t |c_t[u]|·|x|^t: the rounding scale of p(x)
    real best = 0;
    for (Index u = 0; u < units; ++u) {
      real v = 0;
      for (Index t = K - 1; t >= 0; --t)
        v = v * std::abs(creal(x.real(), x.imag())) + std::abs(coef[static_cast<std::size_t>(t)][static_cast<std::size_t>(u)]);
      best = std::max(best, v);
    }
    return best;
  };
  matrix<Scalar> sent(L, n);
  std::vector<std::vector<real>> exact(static_cast<std::size_t>(n));
  std::vector<real> magnitude(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) {
    magnitude[static_cast<std::size_t>(j)] = magnitude_at(code.node_points()[static_cast<std::size_t>(j)]);
    for (Index u = 0; u < units; ++u)
      push_unit(exact[static_cast<std::size_t>(j)], eval(code.node_points()[static_cast<std::size_t>(j)], u), w);
    for (Index r = 0; r < L; ++r)
      sent(r, j) = static_cast<Scalar>(exact[static_cast<std::size_t>(j)][static_cast<std::size_t>(r)]);
  }
  if (!fuzz::all_finite(sent.data(), sent.size())) return;  // honest messages must be representable
  std::vector<real> target;
  for (Index l = 0; l < code.targets(); ++l)
    for (Index u = 0; u < units; ++u) push_unit(target, eval(code.target_points()[static_cast<std::size_t>(l)], u), w);
  const double tau =
      options.corruption_tolerance > 0 ? options.corruption_tolerance : detail::default_corruption_tolerance<Scalar>();
  const layer_facts facts{
      "Reed–Solomon", K, fam != point_family::paper,
      options.corruption_tolerance == 0 || options.corruption_tolerance >= detail::default_corruption_tolerance<Scalar>(),
      options.locate_corrupted};
  const std::vector<bool> available(static_cast<std::size_t>(n), true);
  const Index out_length = in.byte() < 200 ? code.output_length() : in.pick(0, code.output_length());
  const auto c = draw_call(in, sent, exact, magnitude, available, out_length, std::max(1e-2, 1e3 * tau), tau);
  vector<Scalar> out = vector<Scalar>::Zero(c.out_length);
  robust_report report;
  std::string what;
  const auto got = fuzz::attempt([&] { report = code.decode(c.ids, c.received, out); }, &what);
  check_decode(facts, got, what, report, out, c, target, code.output_length());
}

/// A polynomial code with its coefficients u_n(k, l1) and c_(n,j)(k, l1, l2) read once through
/// the public accessors (the oracle below needs them for every input; computing them per input
/// would cost more than the decode).
template <class Scalar>
struct polynomial_bundle {
  polynomial_hgc<Scalar> code;
  std::vector<std::vector<creal>> relay;                ///< [n][kpos·m1 + l1], kpos indexes relay_partitions(n)
  std::vector<std::vector<std::vector<creal>>> worker;  ///< [n][j][(kpos·m1 + l1)·m2 + l2], kpos indexes worker_partitions

  polynomial_bundle(polynomial_hgc_params params, const robust_options& options) : code(std::move(params), options) {
    const Index m1 = code.relay_parts();
    for (Index n = 0; n < code.relays(); ++n) {
      auto& r = relay.emplace_back();
      for (Index k : code.relay_partitions(n))
        for (Index l1 = 0; l1 < m1; ++l1) {
          const auto c = code.relay_coefficient(n, k, l1);
          r.emplace_back(c.real(), c.imag());
        }
      auto& ws = worker.emplace_back();
      const Index m2 = code.worker_parts(n);
      for (Index j = 0; j < code.workers(n); ++j) {
        auto& wc = ws.emplace_back();
        for (Index k : code.worker_partitions({n, j}))
          for (Index l1 = 0; l1 < m1; ++l1)
            for (Index l2 = 0; l2 < m2; ++l2) {
              const auto c = code.worker_coefficient({n, j}, k, l1, l2);
              wc.emplace_back(c.real(), c.imag());
            }
      }
    }
  }
};

/// g_k as complex units (pairs of reals, or reals when w = 1), zero padded to `total` units:
/// units[k·total + P] is unit P of g_k.
template <class Scalar>
GRADCODE_FUZZ_ORACLE std::vector<creal> as_units(const matrix<Scalar>& g, Index w, Index total) {
  const Index d = g.rows(), K = g.cols();
  std::vector<creal> units(static_cast<std::size_t>(K * total));
  for (Index k = 0; k < K; ++k)
    for (Index P = 0; P < total; ++P) {
      const Index r = w * P;
      const real re = r < d ? static_cast<real>(g(r, k)) : 0;
      const real im = w == 2 && r + 1 < d ? static_cast<real>(g(r + 1, k)) : 0;
      units[static_cast<std::size_t>(k * total + P)] = creal(re, im);
    }
  return units;
}

/// Relay n's exact message g̃_n[u] = Σ_{k∈Γ_n} Σ_l1 u_n(k, l1) g_k[l1][u] and max_u Σ|terms|.
GRADCODE_FUZZ_ORACLE void relay_oracle(const std::vector<creal>& coef, std::span<const Index> held, Index m1, Index p1,
                                       const std::vector<creal>& units, Index total, Index w, std::vector<real>& exact,
                                       real& magnitude) {
  for (Index u = 0; u < p1; ++u) {
    creal v = 0;
    real mag = 0;
    for (std::size_t kp = 0; kp < held.size(); ++kp)
      for (Index l1 = 0; l1 < m1; ++l1) {
        const creal term = coef[kp * static_cast<std::size_t>(m1) + static_cast<std::size_t>(l1)] *
                           units[static_cast<std::size_t>(held[kp] * total + l1 * p1 + u)];
        v += term;
        mag += std::abs(term);
      }
    push_unit(exact, v, w);
    magnitude = std::max(magnitude, mag);
  }
}

/// Worker (n,j)'s exact message f_intraC^(n)(α_j)[u] = Σ_k Σ_l1 Σ_l2 c_(n,j)(k,l1,l2) g_k[l1,l2][u]
/// (sub-part l2 of part l1 starts at unit l1·p1 + l2·p2 and stops at the end of the part) and
/// max_u Σ|terms|.
GRADCODE_FUZZ_ORACLE void worker_oracle(const std::vector<creal>& coef, std::span<const Index> mine, Index m1, Index m2, Index p1,
                                        Index p2, const std::vector<creal>& units, Index total, Index w, std::vector<real>& exact,
                                        real& magnitude) {
  for (Index u = 0; u < p2; ++u) {
    creal v = 0;
    real mag = 0;
    for (std::size_t kp = 0; kp < mine.size(); ++kp)
      for (Index l1 = 0; l1 < m1; ++l1)
        for (Index l2 = 0; l2 < m2; ++l2) {
          if (l2 * p2 + u >= p1) continue;
          const creal term =
              coef[(kp * static_cast<std::size_t>(m1) + static_cast<std::size_t>(l1)) * static_cast<std::size_t>(m2) +
                   static_cast<std::size_t>(l2)] *
              units[static_cast<std::size_t>(mine[kp] * total + l1 * p1 + l2 * p2 + u)];
          v += term;
          mag += std::abs(term);
        }
    push_unit(exact, v, w);
    magnitude = std::max(magnitude, mag);
  }
}

/// The polynomial hierarchical code: workers → relays → server, corruptions at both layers.
template <class Scalar>
void run_polynomial(input& in) {
  std::string key = "poly,";
  polynomial_placement placement;
  const Index n1 = in.pick(1, 13);
  const bool uniform = in.flag();
  const Index n2 = in.pick(1, 5);
  for (Index i = 0; i < n1; ++i) placement.workers.push_back(uniform ? n2 : in.pick(1, 5));
  placement.partitions = in.pick(1, 12);
  placement.relay_replication = in.pick(1, n1);
  const Index min_n2 = *std::min_element(placement.workers.begin(), placement.workers.end());
  placement.worker_replication = {in.pick(1, min_n2)};
  polynomial_hgc_params params;
  params.dimension = in.pick(1, 12);
  // Tolerances mostly inside m ≥ 1 (a code exists), sometimes anything.
  const bool wild = in.byte() >= 240;
  const Index r1 = placement.relay_replication, r2 = placement.worker_replication[0];
  params.relay_stragglers = wild ? in.pick(0, 4) : in.pick(0, r1 - 1);
  params.relay_adversaries = wild ? in.pick(0, 3) : in.pick(0, (r1 - 1 - params.relay_stragglers) / 2);
  const Index s2 = wild ? in.pick(0, 4) : in.pick(0, r2 - 1);
  params.worker_stragglers = {s2};
  params.worker_adversaries = {wild ? in.pick(0, 3) : in.pick(0, (r2 - 1 - s2) / 2)};
  params.points = pick_family(in.byte());
  params.order_points = in.byte() >= 32;
  for (Index m : placement.workers) fuzz::key_add(key, m);
  for (Index v : {placement.partitions, r1, r2, params.dimension, params.relay_stragglers, params.relay_adversaries, s2,
                  params.worker_adversaries[0], static_cast<Index>(params.points), static_cast<Index>(params.order_points)})
    fuzz::key_add(key, v);
  const robust_options options = pick_options(in, key);
  static fuzz::code_cache<polynomial_bundle<Scalar>> cache;
  const auto& entry = cache.get(key, [&] {
    params.clusters = place_partitions(placement);
    return std::make_shared<const polynomial_bundle<Scalar>>(params, options);
  });
  if (entry.made != outcome::ok) {
    GRADCODE_FUZZ_REQUIRE(entry.made == outcome::invalid_parameters, "polynomial HGC construction threw %s",
                          fuzz::name(entry.made));
    return;
  }
  require_finite_tolerance(options);
  const auto& bundle = *entry.code;
  const auto& code = bundle.code;
  const Index d = code.dimension(), K = code.partitions(), m1 = code.relay_parts();
  if (fuzz::tracing()) {
    std::string ws;
    for (Index m : placement.workers) ws += std::to_string(m) + " ";
    fuzz::trace(
        "polynomial HGC <%s>: %s points (ordered %d), N2 = [%s], K = %lld, r1 = %lld, r2 = %lld, d = %lld, s1 = %lld, a1 = %lld, "
        "s2 = %lld, a2 = %lld, m1 = %lld, τ = %g, locate %d",
        sizeof(Scalar) == 4 ? "float" : "double", to_string(params.points).c_str(), params.order_points, ws.c_str(),
        static_cast<long long>(K), static_cast<long long>(r1), static_cast<long long>(r2), static_cast<long long>(d),
        static_cast<long long>(params.relay_stragglers), static_cast<long long>(params.relay_adversaries),
        static_cast<long long>(s2), static_cast<long long>(params.worker_adversaries[0]), static_cast<long long>(m1),
        options.corruption_tolerance, options.locate_corrupted);
  }
  const Index C1 = code.relay_message_length();
  const Index w = code.relay_points().real ? 1 : 2, p1 = C1 / w;
  const matrix<Scalar> g = fuzz::draw_partials<Scalar>(in, d, K);
  if (!fuzz::all_finite(g.data(), g.size())) return;  // NaN partials: the encode's invalid_input is covered by codes_fuzz
  // Unit P of g_k as a complex number (zero padded past d; the imaginary part past d too).
  const Index total = m1 * p1;  // units per gradient, padded
  const std::vector<creal> units = as_units(g, w, total);
  const double tau =
      options.corruption_tolerance > 0 ? options.corruption_tolerance : detail::default_corruption_tolerance<Scalar>();
  const bool trust_tau =
      options.corruption_tolerance == 0 || options.corruption_tolerance >= detail::default_corruption_tolerance<Scalar>();
  const bool stable = params.points != point_family::paper;
  const double gross = std::max(1e-2, 1e3 * tau);

  // Relays.
  const Index n1c = code.relays();
  matrix<Scalar> relay_sent = matrix<Scalar>::Zero(C1, n1c);
  std::vector<std::vector<real>> relay_exact(static_cast<std::size_t>(n1c));
  std::vector<real> relay_magnitude(static_cast<std::size_t>(n1c), 0);
  std::vector<bool> relay_ok(static_cast<std::size_t>(n1c), false), relay_clean(static_cast<std::size_t>(n1c), false);
  for (Index n = 0; n < n1c; ++n) {
    relay_oracle(bundle.relay[static_cast<std::size_t>(n)], code.relay_partitions(n), m1, p1, units, total, w,
                 relay_exact[static_cast<std::size_t>(n)], relay_magnitude[static_cast<std::size_t>(n)]);
    const Index n2c = code.workers(n), m2 = code.worker_parts(n), C2 = code.worker_message_length(n), p2 = C2 / w;
    matrix<Scalar> sent(C2, n2c);
    std::vector<std::vector<real>> exact(static_cast<std::size_t>(n2c));
    std::vector<real> magnitudes(static_cast<std::size_t>(n2c), 0);
    for (Index j = 0; j < n2c; ++j) {
      const worker_id wid{n, j};
      vector<Scalar> msg(C2);
      std::string what;
      const auto got = fuzz::attempt([&] { code.encode(wid, g, msg); }, &what);
      real magnitude = 0;  // the dense oracle
      worker_oracle(bundle.worker[static_cast<std::size_t>(n)][static_cast<std::size_t>(j)], code.worker_partitions(wid), m1, m2,
                    p1, p2, units, total, w, exact[static_cast<std::size_t>(j)], magnitude);
      magnitudes[static_cast<std::size_t>(j)] = magnitude;
      if (got == outcome::invalid_input) {  // finite partials: only an overflowing message may be refused
        GRADCODE_FUZZ_REQUIRE(magnitude >= static_cast<real>(std::numeric_limits<Scalar>::max()) / 4,
                              "polynomial encode of worker (%lld,%lld) refused finite data (Σ|terms| %.3Lg): %s",
                              static_cast<long long>(n), static_cast<long long>(j), magnitude, what.c_str());
        return;
      }
      GRADCODE_FUZZ_REQUIRE(got == outcome::ok, "polynomial encode of worker (%lld,%lld) threw %s: %s", static_cast<long long>(n),
                            static_cast<long long>(j), fuzz::name(got), what.c_str());
      sent.col(j) = msg;
      real diff = 0;
      for (Index r = 0; r < C2; ++r)
        diff = std::max(diff,
                        std::fabs(static_cast<real>(msg[r]) - exact[static_cast<std::size_t>(j)][static_cast<std::size_t>(r)]));
      const real terms = static_cast<real>(K * m1 * m2 + 2);
      GRADCODE_FUZZ_REQUIRE(diff <= 4 * terms * fuzz::epsilon<Scalar>() * magnitude +
                                        terms * static_cast<real>(std::numeric_limits<Scalar>::denorm_min()),
                            "polynomial encode of worker (%lld,%lld) differs from the dense oracle by %.3Lg (Σ|terms| %.3Lg)",
                            static_cast<long long>(n), static_cast<long long>(j), diff, magnitude);
    }
    const std::vector<bool> available(static_cast<std::size_t>(n2c), true);
    fuzz::trace(" relay %lld:", static_cast<long long>(n));
    const auto c = draw_call(in, sent, exact, magnitudes, available, C1, gross, tau);
    vector<Scalar> out = vector<Scalar>::Zero(c.out_length);
    robust_report report;
    std::string what;
    const auto got = fuzz::attempt([&] { report = code.relay_decode(n, c.ids, c.received, out); }, &what);
    const std::string layer = "relay " + std::to_string(n);
    const layer_facts facts{layer.c_str(), code.relay_code(n).dimension(), stable, trust_tau, options.locate_corrupted};
    const auto verdict = check_decode(facts, got, what, report, out, c, relay_exact[static_cast<std::size_t>(n)], C1);
    if (verdict.ok && out.size() == C1) {
      relay_ok[static_cast<std::size_t>(n)] = true;
      relay_clean[static_cast<std::size_t>(n)] = verdict.clean;
      relay_sent.col(n) = out;
    }
  }

  // Server: the relay messages the input lets arrive, perturbed or not; a relay whose own decode
  // used a non-honest message sends a message that is classified by its actual error.
  std::vector<real> sum(static_cast<std::size_t>(d), 0);
  real scale = 0;
  for (Index k = 0; k < K; ++k) {
    for (Index i = 0; i < d; ++i) sum[static_cast<std::size_t>(i)] += static_cast<real>(g(i, k));
    scale += fuzz::norm(g.col(k));
  }
  fuzz::trace(" server:");
  auto c = draw_call(in, relay_sent, relay_exact, relay_magnitude, relay_ok, d, gross, tau);
  for (std::size_t j = 0; j < c.ids.size() && j < static_cast<std::size_t>(c.received.cols()); ++j) {
    const Index r = c.ids[j];
    if (r < 0 || r >= n1c || !relay_ok[static_cast<std::size_t>(r)] || c.kinds[j] != kind::honest) continue;
    if (relay_clean[static_cast<std::size_t>(r)]) continue;
    // Decoded from altered worker messages: honest only if it came out right to rounding anyway
    // (anything the server's locator could see counts as an alteration).
    const real size = c.size[j];
    c.kinds[j] = c.error[j] <= 16 * fuzz::epsilon<Scalar>() * size ? kind::honest
                 : c.error[j] < static_cast<real>(gross) * size    ? kind::subtle
                                                                   : kind::gross;
  }
  for (std::size_t j = 0; j < c.ids.size() && j < static_cast<std::size_t>(c.received.cols());
       ++j) {  // a relay's rounding, amplified
    if (c.kinds[j] == kind::honest) c.noisy[j] = c.error[j] > 0.1L * static_cast<real>(tau) * c.value_scale;
  }
  vector<Scalar> out = vector<Scalar>::Zero(c.out_length);
  robust_report report;
  std::string what;
  const auto got = fuzz::attempt([&] { report = code.server_decode(c.ids, c.received, out); }, &what);
  const layer_facts facts{"server", code.server_code().dimension(), stable, trust_tau, options.locate_corrupted};
  const auto verdict = check_decode(facts, got, what, report, out, c, sum, d);
  // End to end: every message used at both layers honest → DESIGN.md's accuracy target.
  if (!verdict.clean) return;
  for (Index r : report.used)
    if (!relay_clean[static_cast<std::size_t>(r)]) return;
  bool honest = true;
  for (std::size_t j = 0; j < c.ids.size(); ++j)
    if (std::binary_search(report.used.begin(), report.used.end(), c.ids[j]) && c.kinds[j] != kind::honest) honest = false;
  if (!honest) return;
  const real target = std::is_same_v<Scalar, float> ? 1e-4L : 1e-9L;
  real err = 0;
  for (Index i = 0; i < d; ++i) {
    const real e = static_cast<real>(out[i]) - sum[static_cast<std::size_t>(i)];
    err += e * e;
  }
  err = std::sqrt(err);
  GRADCODE_FUZZ_REQUIRE(
      err <= target * scale,
      "polynomial HGC: honest round decoded with relative error %.3Lg > %.0Lg (‖ĝ − g‖ = %.3Lg, Σ‖g_k‖ = %.3Lg; "
      "%s points, N1 = %lld, server amplification %.3g, checked %d)",
      scale > 0 ? err / scale : err, target, err, scale, to_string(params.points).c_str(), static_cast<long long>(n1c),
      report.amplification, report.checked);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const auto head = in.byte();
  const bool single = head & 1u;
  if (head & 2u) {
    if (single)
      run_polynomial<float>(in);
    else
      run_polynomial<double>(in);
  } else if (single) {
    run_reed_solomon<float>(in);
  } else {
    run_reed_solomon<double>(in);
  }
  return 0;
}
