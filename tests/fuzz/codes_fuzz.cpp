// SPDX-License-Identifier: MIT
// Fuzz target over the linear gradient codes: every single-layer code of codes/
// (fractional_repetition, cyclic_repetition with the spectral and Tandon's random H, cyclic_mds,
// heterogeneous from capacities and from an arbitrary support) and the hierarchical code
// (hierarchical/hgc.hpp, tang2024). The input chooses small parameters (n ≤ 8, K ≤ 16, d ≤ 16),
// the decode options, the partial gradients (moderate, full-range or raw IEEE values), and for
// each decode which messages arrive, in which order, under which ids (out of range, repeated),
// with which shapes and alterations (NaN, ±Inf, huge, one ulp, relative, zeroed, another node's).
//
// Properties (each violation aborts with a message):
//   - every exception is one of gradcode's typed errors with its tag;
//   - encode equals the plain sum Σ_k B_ik g_k (long double oracle) to rounding, or refuses with
//     invalid_input exactly when the node holds a non-finite partial or its message overflows;
//   - bad ids or shapes → invalid_input (or not_decodable before the output length is looked at),
//     `out` untouched; not_decodable ⇔ !decodable(pattern), `out` untouched;
//   - every arriving message untouched → the exact sum within the stated tolerance
//     (max_relative_error + the plan's residual) · Σ_k‖g_k‖ (two-layer: the compounded estimate,
//     see check_sum), or a typed error; a NaN/Inf message is never decoded into a result; a
//     finite altered message may give another finite sum (a linear code detects nothing);
//   - double, default construction (fractional repetition, spectral cyclic repetition, cyclic
//     MDS) and default options: every pattern of ≤ s stragglers decodes (DESIGN.md accuracy);
//   - a code accepting decode_options with residual_tolerance = +Inf is a violation (issue 13);
//   - HGC: simulate_round agrees with the explicit worker → edge → master path.
// fuzz-claim: every checked-in corpus input gives the exact sum or a typed error
// fuzz-max-len: 1024
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/fractional_repetition.hpp>
#include <gradcode/codes/heterogeneous.hpp>
#include <gradcode/codes/linear_code.hpp>
#include <gradcode/hierarchical/hgc.hpp>

#include "fuzz_support.hpp"

namespace {

using namespace gradcode;
using fuzz::input;
using fuzz::outcome;
using fuzz::real;

enum class family {
  fractional_repetition,
  cyclic_repetition,
  cyclic_repetition_tandon,
  cyclic_mds,
  heterogeneous,
  any_support,
  hgc
};
constexpr int family_count = 8;  // hgc twice: it has two layers to explore

family pick_family(std::uint8_t b) {
  switch (b % family_count) {
    case 0:
      return family::fractional_repetition;
    case 1:
      return family::cyclic_repetition;
    case 2:
      return family::cyclic_repetition_tandon;
    case 3:
      return family::cyclic_mds;
    case 4:
      return family::heterogeneous;
    case 5:
      return family::any_support;
    default:
      return family::hgc;
  }
}

/// decode_options from the input: mostly the defaults, sometimes odd or invalid tolerances.
decode_options pick_options(input& in, std::string& key, bool& custom) {
  decode_options o;
  const auto b = in.byte();
  custom = b >= 200;
  if (custom) {
    constexpr double residual[] = {
        1e-9, 1e-12, 1e-6, 1e-3, 0.5, 0, -1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
    constexpr double relative[] = {
        0, 1e-12, 1e-6, 1e-2, 0.5, -1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
    constexpr std::size_t cache[] = {4096, 0, 1, 2};
    o.residual_tolerance = residual[in.byte() % std::size(residual)];
    o.max_relative_error = relative[in.byte() % std::size(relative)];
    o.plan_cache_size = cache[in.byte() % std::size(cache)];
  }
  fuzz::key_add(key, o.residual_tolerance);
  fuzz::key_add(key, o.max_relative_error);
  fuzz::key_add(key, o.plan_cache_size);
  return o;
}

/// issue 13: an infinite residual tolerance accepts any "decode" (a 1-of-8 pattern decoded with
/// error ≈ 1); a code must refuse it at construction.
void require_finite_tolerance(const decode_options& o) {
  GRADCODE_FUZZ_REQUIRE(!(o.residual_tolerance == std::numeric_limits<double>::infinity()),
                        "a code was built with decode_options::residual_tolerance = +Inf (want invalid_parameters)");
}

/// One decode call as the fuzzer arranged it.
template <class Scalar>
struct arrival {
  std::vector<Index> ids;   ///< as passed to decode
  matrix<Scalar> received;  ///< d × columns
  Index out_length = 0;
  bool count_ok = true;        ///< ids.size() == columns
  bool ids_ok = true;          ///< every id in range and distinct
  bool untouched = true;       ///< every column bit-identical to its node's honest message
  bool finite = true;          ///< every received value finite
  std::vector<Index> arrived;  ///< the valid ids (for pattern checks)
};

/// Which of the n honest messages (d × n) arrive and how. `available[i]`: node i has a message.
template <class Scalar>
arrival<Scalar> draw_arrival(input& in, const matrix<Scalar>& honest, const std::vector<bool>& available) {
  const Index d = honest.rows(), n = honest.cols();
  arrival<Scalar> a;
  const Index count = in.pick(0, n + 2);
  std::vector<bool> taken(static_cast<std::size_t>(n), false);
  std::vector<vector<Scalar>> cols;
  for (Index t = 0; t < count; ++t) {
    const auto choice = fuzz::pick_id(in, n, taken, available);
    vector<Scalar> m = vector<Scalar>::Zero(d);
    if (choice.valid && available[static_cast<std::size_t>(choice.id)])
      m = honest.col(choice.id);
    else
      a.untouched = false;  // no honest message to send: zeros stand in
    if (!choice.valid) a.ids_ok = false;
    if (choice.valid) {
      if (std::find(a.arrived.begin(), a.arrived.end(), choice.id) != a.arrived.end()) a.ids_ok = false;
      a.arrived.push_back(choice.id);
    }
    const auto p = fuzz::pick_perturbation(in);
    const Index other = n > 0 && choice.valid ? (choice.id + 1) % n : 0;
    const vector<Scalar> other_message = n > 0 ? vector<Scalar>(honest.col(other)) : vector<Scalar>::Zero(d);
    if (fuzz::apply_perturbation<Scalar>(in, p, m, other_message)) a.untouched = false;
    a.ids.push_back(choice.id);
    cols.push_back(std::move(m));
  }
  a.received.resize(d, static_cast<Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j) a.received.col(static_cast<Index>(j)) = cols[j];
  a.finite = fuzz::all_finite(a.received.data(), a.received.size());
  a.out_length = d;
  const auto shape = in.byte();
  if (shape >= 240 && shape < 248) {
    a.out_length = d + 1;
  } else if (shape >= 248 && shape < 252) {
    a.ids.push_back(0);  // one id too many for the columns
    a.count_ok = false;
  } else if (shape >= 252 && !a.ids.empty()) {
    a.ids.pop_back();  // one column without an id
    a.count_ok = false;
  }
  return a;
}

constexpr double sentinel = -7.25;  // `out` before the call: a refusal must leave it so

template <class Scalar>
bool untouched_out(const vector<Scalar>& out) {
  for (Index i = 0; i < out.size(); ++i)
    if (!(out[i] == static_cast<Scalar>(sentinel))) return false;
  return true;
}

/// ‖out − exact‖₂ ≤ bound; both long double.
template <class Scalar>
real distance(const vector<Scalar>& out, const std::vector<real>& exact) {
  real s = 0;
  for (Index i = 0; i < out.size(); ++i) {
    const real e = static_cast<real>(out[i]) - exact[static_cast<std::size_t>(i)];
    s += e * e;
  }
  return std::sqrt(s);
}

/// True when Σ_j |a_j|·max|m_j| reaches the top of Scalar's range: a sum of finite messages may
/// then overflow, and invalid_input ("the decoded sum overflows") is the right answer.
template <class Scalar>
bool may_overflow(const linear_code<Scalar>& code, const pattern& p, const arrival<Scalar>& a) {
  real total = 0, biggest = 0;
  for (Index i = 0; i < a.received.size(); ++i) biggest = std::max(biggest, std::fabs(static_cast<real>(a.received.data()[i])));
  std::shared_ptr<const decoding_plan<Scalar>> plan;
  const auto got = fuzz::attempt([&] { plan = code.plan(p); });
  for (std::size_t j = 0; j < a.ids.size() && j < static_cast<std::size_t>(a.received.cols()); ++j) {
    const real c = got == outcome::ok ? std::fabs(static_cast<real>(plan->coefficient(a.ids[j]))) : 1;
    total += c * biggest;
  }
  return total >= static_cast<real>(std::numeric_limits<Scalar>::max()) / 4;
}

/// Checks one decode of a linear layer (single-layer code, an HGC edge, or the HGC master).
/// `exact`/`scale`: the true target and Σ‖h_l‖ of what the layer sums. `compound`: the master's
/// two-layer check applies with edge amplification `edge_amp` and edge residual `edge_residual`
/// (then not_decodable may also mean the product of amplifications is too large).
template <class Scalar>
void check_layer(const char* layer, outcome got, const std::string& what, const arrival<Scalar>& a, const vector<Scalar>& out,
                 const linear_code<Scalar>& code, const std::vector<real>& exact, real scale, bool must_decode,
                 bool compound = false, double edge_amp = 1, double edge_residual = 0) {
  const char* w = what.c_str();
  if (!a.count_ok || !a.ids_ok) {
    GRADCODE_FUZZ_REQUIRE(got == outcome::invalid_input,
                          "%s: bad ids (%zu ids, %lld columns, valid/distinct %d) gave %s, want invalid_input; %s", layer,
                          a.ids.size(), static_cast<long long>(a.received.cols()), a.ids_ok, fuzz::name(got), w);
    GRADCODE_FUZZ_REQUIRE(untouched_out(out), "%s: a decode refused for bad ids wrote into out", layer);
    return;
  }
  const pattern p = pattern::from_ids(code.nodes(), a.ids);
  const bool decodable = code.decodable(p);
  if (a.out_length != a.received.rows()) {
    GRADCODE_FUZZ_REQUIRE(got == outcome::invalid_input || got == outcome::not_decodable,
                          "%s: output of length %lld for messages of length %lld gave %s", layer,
                          static_cast<long long>(a.out_length), static_cast<long long>(a.received.rows()), fuzz::name(got));
    GRADCODE_FUZZ_REQUIRE(untouched_out(out), "%s: a decode refused for a wrong output length wrote into out", layer);
    return;
  }
  std::shared_ptr<const decoding_plan<Scalar>> plan;
  if (decodable) plan = code.plan(p);
  const double eps = std::numeric_limits<Scalar>::epsilon();
  const double estimate = plan ? 4 * eps * plan->amplification() * (compound ? edge_amp : 1.0) : 0.0;
  switch (got) {
    case outcome::ok: {
      GRADCODE_FUZZ_REQUIRE(decodable, "%s: decode succeeded on a pattern decodable() calls undecodable", layer);
      GRADCODE_FUZZ_REQUIRE(a.finite, "%s: a NaN/Inf message was decoded into a result (no exception)", layer);
      GRADCODE_FUZZ_REQUIRE(fuzz::all_finite(out.data(), out.size()), "%s: decode returned a non-finite sum", layer);
      if (compound)
        GRADCODE_FUZZ_REQUIRE(estimate <= code.max_relative_error(),
                              "%s: accepted a compounded estimate %.3g > max_relative_error %.3g", layer, estimate,
                              code.max_relative_error());
      if (!a.untouched) return;  // finite altered messages: any finite sum (linear codes detect nothing)
      // The stated tolerance: max_relative_error (or, when that is infinite, the estimate itself)
      // plus what the residuals leave of 1ᵀ: ‖Σ_k r_k g_k‖ ≤ r·Σ‖g_k‖; an edge's residual reaches
      // the master through its coefficients, Σ_i |a_i| max_k |B_ik| ≤ K·amplification.
      const double rel = std::isfinite(code.max_relative_error()) ? code.max_relative_error() : estimate;
      const real residual = static_cast<real>(plan->residual()) +
                            (compound ? static_cast<real>(code.partitions()) * static_cast<real>(plan->amplification()) *
                                            static_cast<real>(edge_residual)
                                      : 0.0L);
      // Below the normal range rounding is absolute (fl(x∘y) = (x∘y)(1+δ) + η, |η| ≤ denorm_min/2,
      // Higham §2.1): a sum of subnormal partials can be off by a few denorm_min whatever its size,
      // and core/decoding_plan.hpp accepts a zero decode of all-zero messages (the partials may
      // have underflowed to zero at the workers). So the bound carries an absolute term: one η per
      // product of the encode (≤ K per message) and of the decode, through |a_j|, and for the
      // master through the edges' coefficients as well. It is ~1e-320 for any normal-range input.
      real a_sum = 0;
      for (Index id : a.ids) a_sum += std::fabs(static_cast<real>(plan->coefficient(id)));
      const real products = static_cast<real>(code.partitions() + 1) * (1 + a_sum) * static_cast<real>(a.ids.size() + 1) *
                            (compound ? static_cast<real>(code.partitions() + 1) * (1 + static_cast<real>(edge_amp)) * 16 : 1.0L);
      const real underflow = static_cast<real>(std::numeric_limits<Scalar>::denorm_min()) * products *
                             std::sqrt(static_cast<real>(std::max<Index>(1, out.size())));
      const real bound = (static_cast<real>(rel) + residual) * scale + underflow;
      const real err = distance(out, exact);
      GRADCODE_FUZZ_REQUIRE(
          err <= bound,
          "%s: untouched messages of nodes [%s] decoded to a wrong sum: ‖ĝ − g‖ = %.3Lg > %.3Lg = "
          "(%.3g + %.3Lg)·Σ‖g_k‖ (Σ‖g_k‖ = %.3Lg, relative %.3Lg; amplification %.3g, residual %.3g)",
          layer,
          [&] {
            static std::string s;
            s.clear();
            for (Index id : a.ids) s += std::to_string(id) + " ";
            return s.c_str();
          }(),
          err, bound, rel, residual, scale, scale > 0 ? err / scale : err, plan->amplification(), plan->residual());
      return;
    }
    case outcome::not_decodable:
      GRADCODE_FUZZ_REQUIRE(!decodable || (compound && estimate > code.max_relative_error()),
                            "%s: not_decodable on a pattern decodable() accepts: %s", layer, w);
      GRADCODE_FUZZ_REQUIRE(!(must_decode && a.untouched),
                            "%s: a pattern of %zu of %lld nodes (≤ s = %lld stragglers) was refused: %s", layer, a.ids.size(),
                            static_cast<long long>(code.nodes()), static_cast<long long>(code.tolerance()), w);
      if (!compound) GRADCODE_FUZZ_REQUIRE(untouched_out(out), "%s: not_decodable but out was written", layer);
      return;
    case outcome::invalid_input: {
      // Legitimate for valid ids and shapes: a NaN/Inf message, a sum that overflows, or (core/
      // decoding_plan.hpp) a sum so small that underflow makes it inaccurate — below the plan's
      // stated floor smallest_accurate_norm(d) (4× for the rounding of the computed sum).
      real applied = 0;  // ‖Σ_j a_j m_j‖ of the messages as received, in long double
      if (plan) {
        for (Index e = 0; e < a.received.rows(); ++e) {
          real v = 0;
          for (Index j = 0; j < a.received.cols(); ++j)
            v += static_cast<real>(plan->coefficient(a.ids[static_cast<std::size_t>(j)])) * static_cast<real>(a.received(e, j));
          applied += v * v;
        }
        applied = std::sqrt(applied);
      }
      const double floor = plan ? plan->smallest_accurate_norm(a.received.rows()) : 0.0;
      const bool tiny = plan && applied <= 4 * static_cast<real>(floor);
      GRADCODE_FUZZ_REQUIRE(
          !a.finite || may_overflow(code, p, a) || tiny,
          "%s: invalid_input for finite messages under valid ids and shapes (‖Σ a_j m_j‖ = %.3Lg, floor %.3g): %s", layer,
          applied, floor, w);
      return;
    }
    default:
      GRADCODE_FUZZ_REQUIRE(false, "%s: decode threw %s: %s", layer, fuzz::name(got), w);
  }
}

/// Encodes every node and checks the kernel against the long double oracle Σ_k W_ik g_k.
/// `weights` is n × K (what node i multiplies partition k by). Returns the messages (d × n) and
/// which nodes produced one.
template <class Scalar, class EncodeFn>
matrix<Scalar> encode_all(const char* layer, const sparse_matrix<double>& weights, const matrix<Scalar>& g, EncodeFn&& encode,
                          std::vector<bool>& available) {
  const Index n = weights.rows(), d = g.rows();
  matrix<Scalar> messages = matrix<Scalar>::Zero(d, n);
  available.assign(static_cast<std::size_t>(n), false);
  const real eps = fuzz::epsilon<Scalar>();
  const real top = static_cast<real>(std::numeric_limits<Scalar>::max());
  const real tiny = static_cast<real>(std::numeric_limits<Scalar>::denorm_min());
  for (Index i = 0; i < n; ++i) {
    vector<Scalar> m(d);
    std::string what;
    const auto got = fuzz::attempt([&] { encode(i, m); }, &what);
    bool holds_bad = false;
    real biggest = 0;
    Index terms = 0;
    std::vector<real> oracle(static_cast<std::size_t>(d), 0), magnitude(static_cast<std::size_t>(d), 0);
    for (typename sparse_matrix<double>::InnerIterator it(weights, i); it; ++it) {
      ++terms;
      for (Index e = 0; e < d; ++e) {
        const real x = static_cast<real>(g(e, it.col()));
        if (!std::isfinite(x)) holds_bad = true;
        oracle[static_cast<std::size_t>(e)] += static_cast<real>(it.value()) * x;
        magnitude[static_cast<std::size_t>(e)] += std::fabs(static_cast<real>(it.value()) * x);
      }
    }
    for (Index e = 0; e < d; ++e) biggest = std::max(biggest, magnitude[static_cast<std::size_t>(e)]);
    if (got == outcome::invalid_input) {
      GRADCODE_FUZZ_REQUIRE(holds_bad || biggest >= top / 2, "%s encode: node %lld refused finite data well inside the range: %s",
                            layer, static_cast<long long>(i), what.c_str());
      continue;
    }
    GRADCODE_FUZZ_REQUIRE(got == outcome::ok, "%s encode: node %lld threw %s: %s", layer, static_cast<long long>(i),
                          fuzz::name(got), what.c_str());
    GRADCODE_FUZZ_REQUIRE(fuzz::all_finite(m.data(), d), "%s encode: node %lld returned a non-finite message", layer,
                          static_cast<long long>(i));
    for (Index e = 0; e < d; ++e) {
      // Cast of the weights + a sum of `terms` products: (terms + 2)·ε·Σ|w·g|, plus absolute
      // rounding for results in the subnormal range.
      const real slack =
          static_cast<real>(terms + 2) * eps * magnitude[static_cast<std::size_t>(e)] * 2 + static_cast<real>(terms + 2) * tiny;
      const real diff = std::fabs(static_cast<real>(m[e]) - oracle[static_cast<std::size_t>(e)]);
      GRADCODE_FUZZ_REQUIRE(diff <= slack,
                            "%s encode: node %lld element %lld is %.17Lg, the sum Σ_k W_ik g_k is %.17Lg (|diff| %.3Lg > %.3Lg)",
                            layer, static_cast<long long>(i), static_cast<long long>(e), static_cast<real>(m[e]),
                            oracle[static_cast<std::size_t>(e)], diff, slack);
    }
    messages.col(i) = m;
    available[static_cast<std::size_t>(i)] = true;
  }
  return messages;
}

/// Σ_k w_k g_k and Σ_k |w_k|·‖g_k‖ in long double (w_k = 1 for the full gradient).
template <class Scalar>
std::vector<real> weighted_exact(const matrix<Scalar>& g, const std::vector<real>& w, real& scale) {
  std::vector<real> exact(static_cast<std::size_t>(g.rows()), 0);
  scale = 0;
  for (Index k = 0; k < g.cols(); ++k) {
    const real wk = w[static_cast<std::size_t>(k)];
    if (wk == 0) continue;
    for (Index e = 0; e < g.rows(); ++e) exact[static_cast<std::size_t>(e)] += wk * static_cast<real>(g(e, k));
    scale += std::fabs(wk) * fuzz::norm(g.col(k));
  }
  return exact;
}

/// The single-layer codes.
template <class Scalar>
void run_single(input& in, family fam) {
  std::string key;
  fuzz::key_add(key, static_cast<int>(fam));
  const Index n = in.pick(1, 8);
  const Index s = in.pick(0, n - 1);
  const Index K = in.pick(1, 16);
  const std::uint64_t seed = 1 + in.byte() % 4;  // few seeds: the code cache keeps hitting
  fuzz::key_add(key, n);
  fuzz::key_add(key, s);
  fuzz::key_add(key, K);
  fuzz::key_add(key, seed);
  std::vector<double> capacities;
  std::vector<std::vector<Index>> holdings;
  if (fam == family::heterogeneous) {
    constexpr double special[] = {
        0, -1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), 1e308, 1e-308, 4.9e-324};
    for (Index i = 0; i < n; ++i) {
      const auto b = in.byte();
      capacities.push_back(b >= 248 ? special[b % std::size(special)] : 1 + b % 16);
      fuzz::key_add(key, capacities.back());
    }
  } else if (fam == family::any_support) {  // node i holds partition k when bit k of its mask is set
    holdings.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) {
      const auto mask = static_cast<unsigned>(in.byte()) | static_cast<unsigned>(in.byte()) << 8;
      for (Index k = 0; k < K; ++k)
        if (mask >> k & 1u) holdings[static_cast<std::size_t>(i)].push_back(k);
      fuzz::key_add(key, mask);
    }
  }
  bool custom = false;
  const decode_options options = pick_options(in, key, custom);

  static fuzz::code_cache<linear_code<Scalar>> cache;
  const auto& entry = cache.get(key, [&]() -> std::shared_ptr<const linear_code<Scalar>> {
    switch (fam) {
      case family::fractional_repetition:
        return std::make_shared<fractional_repetition_code<Scalar>>(fractional_repetition_params{n, K, s}, options);
      case family::cyclic_repetition:
        return std::make_shared<cyclic_repetition_code<Scalar>>(cyclic_repetition_params{n, K, s, seed, construction::null_space},
                                                                options);
      case family::cyclic_repetition_tandon:
        return std::make_shared<cyclic_repetition_code<Scalar>>(
            cyclic_repetition_params{n, K, s, seed, construction::tandon_random}, options);
      case family::cyclic_mds:
        return std::make_shared<cyclic_mds_code<Scalar>>(cyclic_mds_params{n, K, s}, options);
      case family::heterogeneous:
        return std::make_shared<heterogeneous_code<Scalar>>(heterogeneous_params{capacities, K, s, seed}, options);
      case family::any_support:
        return std::make_shared<heterogeneous_code<Scalar>>(assignment(K, holdings), s, seed, options);
      case family::hgc:
        break;
    }
    return nullptr;
  });
  if (entry.made != outcome::ok) {
    GRADCODE_FUZZ_REQUIRE(entry.made == outcome::invalid_parameters, "construction threw %s, want invalid_parameters",
                          fuzz::name(entry.made));
    return;
  }
  const auto& code = *entry.code;
  require_finite_tolerance(options);

  const Index d = in.pick(0, 16);
  const matrix<Scalar> g = fuzz::draw_partials<Scalar>(in, d, K);
  std::vector<bool> available;
  const matrix<Scalar> messages = encode_all<Scalar>(
      "code", code.encoding_matrix(), g, [&](Index i, vector<Scalar>& m) { code.encode(i, g, m); }, available);
  real scale = 0;
  const auto exact = weighted_exact(g, std::vector<real>(static_cast<std::size_t>(K), 1), scale);

  const int rounds = 1 + in.byte() % 3;  // several decodes per input exercise the plan cache
  for (int r = 0; r < rounds; ++r) {
    const auto a = draw_arrival(in, messages, available);
    vector<Scalar> out = vector<Scalar>::Constant(a.out_length, static_cast<Scalar>(sentinel));
    std::string what;
    const auto got = fuzz::attempt([&] { code.decode(a.ids, a.received, out); }, &what);
    // DESIGN.md: a code tolerating s stragglers decodes every pattern of ≤ s of them; held to it
    // where the construction is deterministic and well conditioned (double, default options).
    const bool strict = std::is_same_v<Scalar, double> && !custom &&
                        (fam == family::fractional_repetition || fam == family::cyclic_repetition || fam == family::cyclic_mds) &&
                        a.count_ok && a.ids_ok && static_cast<Index>(a.ids.size()) >= n - s;
    check_layer("code", got, what, a, out, code, exact, scale, strict);
  }
}

/// The hierarchical code: workers → edges → master, and simulate_round on the same round.
template <class Scalar>
void run_hgc(input& in) {
  std::string key = "hgc,";
  hgc_params params;
  const Index edges = in.pick(1, 4);
  for (Index i = 0; i < edges; ++i) params.workers.push_back(in.pick(1, 4));
  params.partitions = in.pick(1, 12);
  params.edge_tolerance = in.pick(0, edges - 1);
  params.worker_tolerance = in.pick(0, *std::min_element(params.workers.begin(), params.workers.end()) - 1);
  const auto how = in.byte();
  params.method = how % 3 == 0 ? construction::automatic : how % 3 == 1 ? construction::null_space : construction::cyclic_mds;
  params.allow_load_above_bound = how & 8u;
  params.seed = 1 + in.byte() % 4;
  for (Index m : params.workers) fuzz::key_add(key, m);
  fuzz::key_add(key, params.partitions);
  fuzz::key_add(key, params.edge_tolerance);
  fuzz::key_add(key, params.worker_tolerance);
  fuzz::key_add(key, how);
  fuzz::key_add(key, params.seed);
  bool custom = false;
  const decode_options options = pick_options(in, key, custom);
  static fuzz::code_cache<hgc_code<Scalar>> cache;
  const auto& entry = cache.get(key, [&] { return std::make_shared<const hgc_code<Scalar>>(params, options); });
  if (entry.made != outcome::ok) {
    GRADCODE_FUZZ_REQUIRE(entry.made == outcome::invalid_parameters, "HGC construction threw %s, want invalid_parameters",
                          fuzz::name(entry.made));
    return;
  }
  const auto& code = *entry.code;
  require_finite_tolerance(options);
  const Index K = code.partitions(), d = in.pick(0, 12);
  const matrix<Scalar> g = fuzz::draw_partials<Scalar>(in, d, K);
  const auto& B = code.edge_encoding();

  // Edges: each decodes G_i = Σ_k B_ik g_k from the workers the input lets arrive.
  matrix<Scalar> edge_results = matrix<Scalar>::Zero(d, edges);
  std::vector<bool> edge_ok(static_cast<std::size_t>(edges), false), edge_clean(static_cast<std::size_t>(edges), false);
  std::vector<double> edge_amp(static_cast<std::size_t>(edges), 1), edge_res(static_cast<std::size_t>(edges), 0);
  std::vector<std::vector<Index>> edge_workers(static_cast<std::size_t>(edges));
  for (Index i = 0; i < edges; ++i) {
    // W_i = D^i ∘ B_i: worker j of edge i multiplies g_k by D^i_jk B_ik.
    sparse_matrix<double> W = code.worker_encoding_global(i);
    for (Index j = 0; j < W.outerSize(); ++j)
      for (typename sparse_matrix<double>::InnerIterator it(W, j); it; ++it) it.valueRef() *= B.coeff(i, it.col());
    std::vector<bool> available;
    const matrix<Scalar> messages = encode_all<Scalar>(
        "HGC worker", W, g,
        [&](Index j, vector<Scalar>& m) {
          code.encode(worker_id{i, j}, g, m);
        },
        available);
    std::vector<real> b(static_cast<std::size_t>(K), 0);
    for (typename sparse_matrix<double>::InnerIterator it(B, i); it; ++it) b[static_cast<std::size_t>(it.col())] = it.value();
    real scale = 0;
    const auto exact = weighted_exact(g, b, scale);
    const auto a = draw_arrival(in, messages, available);
    vector<Scalar> out = vector<Scalar>::Constant(a.out_length, static_cast<Scalar>(sentinel));
    std::string what;
    const auto got = fuzz::attempt([&] { code.edge_decode(i, a.ids, a.received, out); }, &what);
    check_layer("HGC edge", got, what, a, out, code.worker_layer(i), exact, scale, false);
    const bool decodable = a.count_ok && a.ids_ok && code.edge_decodable(i, pattern::from_ids(code.workers(i), a.ids));
    GRADCODE_FUZZ_REQUIRE(!(a.count_ok && a.ids_ok) || decodable == (got != outcome::not_decodable),
                          "HGC edge %lld: edge_decodable() disagrees with edge_decode (%s)", static_cast<long long>(i),
                          fuzz::name(got));
    if (got == outcome::ok && out.size() == d) {
      edge_ok[static_cast<std::size_t>(i)] = true;
      edge_clean[static_cast<std::size_t>(i)] = a.untouched;
      edge_results.col(i) = out;
      edge_workers[static_cast<std::size_t>(i)] = a.ids;
      std::string w2;
      const auto amp = fuzz::attempt([&] { edge_amp[static_cast<std::size_t>(i)] = code.edge_amplification(i, a.ids); }, &w2);
      GRADCODE_FUZZ_REQUIRE(amp == outcome::ok, "HGC edge %lld decoded but edge_amplification threw %s: %s",
                            static_cast<long long>(i), fuzz::name(amp), w2.c_str());
      edge_res[static_cast<std::size_t>(i)] = code.worker_layer(i).plan(pattern::from_ids(code.workers(i), a.ids))->residual();
    }
  }

  // Master: the edge results the input lets arrive (an edge that failed sends nothing).
  auto a = draw_arrival(in, edge_results, edge_ok);
  bool clean = a.untouched;
  double amp = 1, residual = 0;
  for (std::size_t j = 0; j < a.ids.size() && j < static_cast<std::size_t>(a.received.cols()); ++j) {
    const Index e = a.ids[j];
    if (e < 0 || e >= edges) continue;
    clean = clean && edge_clean[static_cast<std::size_t>(e)];
    amp = std::max(amp, edge_amp[static_cast<std::size_t>(e)]);
    residual = std::max(residual, edge_res[static_cast<std::size_t>(e)]);
  }
  a.untouched = clean;  // an edge result is honest only when its workers' messages were
  const auto how_amp = in.byte();
  const bool bad_amp = how_amp >= 248;
  const double passed_amp = !bad_amp           ? amp
                            : how_amp % 3 == 0 ? -1.0
                            : how_amp % 3 == 1 ? std::numeric_limits<double>::quiet_NaN()
                                               : std::numeric_limits<double>::infinity();
  vector<Scalar> out = vector<Scalar>::Constant(a.out_length, static_cast<Scalar>(sentinel));
  std::string what;
  const auto got = fuzz::attempt([&] { code.master_decode(a.ids, a.received, out, passed_amp); }, &what);
  real scale = 0;
  const auto exact = weighted_exact(g, std::vector<real>(static_cast<std::size_t>(K), 1), scale);
  if (bad_amp) {
    GRADCODE_FUZZ_REQUIRE(got == outcome::invalid_input, "HGC master: edge amplification %g gave %s, want invalid_input",
                          passed_amp, fuzz::name(got));
    return;
  }
  check_layer("HGC master", got, what, a, out, code.edge_layer(), exact, scale, false, true, amp, residual);

  // simulate_round on the same stragglers must agree with the explicit path when every arriving
  // edge and worker was honest and valid.
  if (!(a.count_ok && a.ids_ok && clean && a.out_length == d)) return;
  std::vector<worker_id> slow_workers;
  for (Index e : a.ids)
    for (Index j = 0; j < code.workers(e); ++j) {
      const auto& live = edge_workers[static_cast<std::size_t>(e)];
      if (std::find(live.begin(), live.end(), j) == live.end()) slow_workers.push_back({e, j});
    }
  std::vector<Index> straggling_edges;
  for (Index e = 0; e < edges; ++e)
    if (std::find(a.ids.begin(), a.ids.end(), e) == a.ids.end()) straggling_edges.push_back(e);
  vector<Scalar> simulated;
  std::string w2;
  const auto sim = fuzz::attempt([&] { simulated = code.simulate_round(g, slow_workers, straggling_edges); }, &w2);
  GRADCODE_FUZZ_REQUIRE(sim == got, "HGC: simulate_round gave %s, the explicit worker → edge → master path %s (%s | %s)",
                        fuzz::name(sim), fuzz::name(got), w2.c_str(), what.c_str());
  if (sim == outcome::ok) {
    arrival<Scalar> whole = a;
    check_layer("HGC simulate_round", sim, w2, whole, simulated, code.edge_layer(), exact, scale, false, true, amp, residual);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const auto head = in.byte();
  const family fam = pick_family(head);
  const bool single = head & 0x80u;  // the float/double bit, independent of the family bits
  if (fam == family::hgc) {
    if (single)
      run_hgc<float>(in);
    else
      run_hgc<double>(in);
  } else if (single) {
    run_single<float>(in, fam);
  } else {
    run_single<double>(in, fam);
  }
  return 0;
}
