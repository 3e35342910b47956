// SPDX-License-Identifier: MIT
// Shared driver of the code property tests (tests/codes/*_test.cpp): encode a random d × K set of
// partial gradients at every node once, then decode from every (or many random) responder sets
// and measure the relative error ‖ĝ − Σ_k g_k‖ / ‖Σ_k g_k‖ against the exact sum in double.
// A decode either returns a sum within the bound, or throws not_decodable; anything else (a wrong
// sum, another exception) is counted as wrong and fails the calling test.
#pragma once

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gradcode/codes/linear_code.hpp>
#include <gradcode/core/errors.hpp>
#include <gradcode/core/pattern.hpp>
#include <gradcode/core/types.hpp>

namespace gradcode::test {

/// Random partial gradients, every node's message, and the exact sum (in double, from the very
/// Scalar values the code encodes).
template <class Scalar>
struct encoded_gradients {
  matrix<Scalar> partials;  ///< d × K
  matrix<Scalar> messages;  ///< d × n, column i = node i's message
  vector<double> exact;     ///< Σ_k g_k

  encoded_gradients(const linear_code<Scalar>& code, Index d, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    partials.resize(d, code.partitions());
    for (Index i = 0; i < partials.size(); ++i) partials.data()[i] = static_cast<Scalar>(normal(rng));
    exact = partials.template cast<double>().rowwise().sum();
    messages.resize(d, code.nodes());
    for (Index i = 0; i < code.nodes(); ++i) {
      vector<Scalar> m(d);
      code.encode(i, partials, m);
      messages.col(i) = m;
    }
  }

  double relative_error(const vector<Scalar>& decoded) const {
    return (decoded.template cast<double>() - exact).norm() / exact.norm();
  }
};

/// What happened over a set of straggler patterns.
struct sweep_stats {
  Index patterns = 0;
  Index decoded = 0;            ///< decode returned a sum within the error bound (the others are in `wrong`)
  Index refused = 0;            ///< decode threw not_decodable
  Index refused_uncovered = 0;  ///< ... on a pattern whose stragglers hold every copy of a partition
  Index uncovered = 0;          ///< patterns whose stragglers hold every copy of some partition
  Index wrong = 0;              ///< decode returned a sum beyond the bound, or threw anything else
  double worst_error = 0;       ///< over every sum decode returned (within the bound or not)
  std::vector<Index> worst_stragglers, first_wrong, first_refused;
  std::string first_wrong_what;
};

/// True when the stragglers hold every copy of some partition (then no decoder can succeed).
inline bool uncovers_a_partition(const assignment& support, const std::vector<Index>& stragglers) {
  for (Index k = 0; k < support.partitions(); ++k) {
    const auto holders = support.holders_of(k);
    if (std::all_of(holders.begin(), holders.end(),
                    [&](Index h) { return std::find(stragglers.begin(), stragglers.end(), h) != stragglers.end(); }))
      return true;
  }
  return false;
}

/// Decode from all nodes except `stragglers` (responders passed in the order given by
/// `responder_order`, when non-empty a permutation seed) and record the outcome in `stats`.
template <class Scalar>
void decode_without(const linear_code<Scalar>& code, const encoded_gradients<Scalar>& data, const std::vector<Index>& stragglers,
                    sweep_stats& stats, std::uint64_t shuffle_seed = 0) {
  const pattern responders = pattern::all_except(code.nodes(), stragglers);
  std::vector<Index> ids = responders.ids();
  if (shuffle_seed != 0) {
    std::mt19937_64 rng(shuffle_seed);
    std::shuffle(ids.begin(), ids.end(), rng);
  }
  matrix<Scalar> received(data.messages.rows(), static_cast<Index>(ids.size()));
  for (std::size_t j = 0; j < ids.size(); ++j) received.col(static_cast<Index>(j)) = data.messages.col(ids[j]);
  const bool uncovered = uncovers_a_partition(code.support(), stragglers);
  ++stats.patterns;
  stats.uncovered += uncovered;
  try {
    const vector<Scalar> sum = code.decode(ids, received);
    const double err = data.relative_error(sum);
    if (err >= stats.worst_error) {
      stats.worst_error = err;
      stats.worst_stragglers = stragglers;
    }
    if (err <= error_bound<Scalar>()) {
      ++stats.decoded;
      if (uncovered) {  // impossible: a partition nobody sent cannot be in the sum
        ++stats.wrong;
        if (stats.first_wrong.empty()) stats.first_wrong = stragglers, stats.first_wrong_what = "decoded an uncovered pattern";
      }
    } else {
      ++stats.wrong;
      if (stats.first_wrong.empty())
        stats.first_wrong = stragglers, stats.first_wrong_what = "relative error " + std::to_string(err);
    }
  } catch (const not_decodable&) {
    ++stats.refused;
    stats.refused_uncovered += uncovered;
    if (stats.first_refused.empty()) stats.first_refused = stragglers;
  } catch (const std::exception& e) {
    ++stats.wrong;
    if (stats.first_wrong.empty()) stats.first_wrong = stragglers, stats.first_wrong_what = e.what();
  }
}

/// Every pattern of exactly `stragglers` stragglers.
template <class Scalar>
sweep_stats sweep_exactly(const linear_code<Scalar>& code, const encoded_gradients<Scalar>& data, Index stragglers) {
  sweep_stats stats;
  for_each_subset(code.nodes(), stragglers, [&](const std::vector<Index>& s) { decode_without(code, data, s, stats); });
  return stats;
}

/// Every pattern of at most `max_stragglers` stragglers (including none).
template <class Scalar>
sweep_stats sweep_up_to(const linear_code<Scalar>& code, const encoded_gradients<Scalar>& data, Index max_stragglers) {
  sweep_stats stats;
  for (Index f = 0; f <= max_stragglers; ++f)
    for_each_subset(code.nodes(), f, [&](const std::vector<Index>& s) { decode_without(code, data, s, stats); });
  return stats;
}

/// `count` uniformly random patterns of exactly `stragglers` stragglers, responders passed in a
/// random order.
template <class Scalar>
sweep_stats sweep_random(const linear_code<Scalar>& code, const encoded_gradients<Scalar>& data, Index stragglers, Index count,
                         std::uint64_t seed) {
  sweep_stats stats;
  std::mt19937_64 rng(seed);
  std::vector<Index> all(static_cast<std::size_t>(code.nodes()));
  std::iota(all.begin(), all.end(), Index{0});
  for (Index t = 0; t < count; ++t) {
    std::shuffle(all.begin(), all.end(), rng);
    std::vector<Index> s(all.begin(), all.begin() + stragglers);
    std::sort(s.begin(), s.end());
    decode_without(code, data, s, stats, rng() | 1u);
  }
  return stats;
}

inline std::string to_string(const std::vector<Index>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  out += '}';
  return out;
}

/// One line per measured parameter set, so the worst errors show in the test log.
inline void report(const char* what, const std::string& params, const sweep_stats& st) {
  std::printf("[gradcode worst error] %-22s %-40s patterns %6lld decoded %6lld refused %6lld wrong %4lld  worst %.3e\n", what,
              params.c_str(), static_cast<long long>(st.patterns), static_cast<long long>(st.decoded),
              static_cast<long long>(st.refused), static_cast<long long>(st.wrong), st.worst_error);
  std::fflush(stdout);
}

inline double binomial(Index n, Index k) {
  double c = 1;
  for (Index i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return c;
}

/// The claim of every code: each of the Σ_{j≤s} C(n, j) patterns of at most s stragglers decodes
/// to the exact sum within error_bound<Scalar>(). Prints the worst error once per parameter set.
template <class Scalar>
sweep_stats check_every_tolerated_pattern(const linear_code<Scalar>& code, const char* what, const std::string& params,
                                          Index d = 64, std::uint64_t seed = 20240601) {
  const encoded_gradients<Scalar> data(code, d, seed);
  const sweep_stats st = sweep_up_to(code, data, code.tolerance());
  report(what, params + " " + scalar_name<Scalar>(), st);
  double expected = 0;
  for (Index f = 0; f <= code.tolerance(); ++f) expected += binomial(code.nodes(), f);
  INFO(what << " " << params << " <" << scalar_name<Scalar>() << ">, d = " << d << ", data seed " << seed << ": worst error "
            << st.worst_error << " with stragglers " << to_string(st.worst_stragglers) << "; first refused "
            << to_string(st.first_refused) << "; first wrong " << to_string(st.first_wrong) << " " << st.first_wrong_what);
  CHECK(static_cast<double>(st.patterns) == expected);
  CHECK(st.wrong == 0);
  CHECK(st.worst_error <= error_bound<Scalar>());
  if (sizeof(Scalar) >= sizeof(double) || st.refused == 0) {
    CHECK(st.refused == 0);
    CHECK(st.decoded == st.patterns);
  } else {
    // float messages cannot carry every pattern of an ill-conditioned code to 1e-4: a refusal is
    // legitimate only when the pattern decodes in double (span condition holds) and its
    // amplification exceeds what float can carry.
    CHECK(st.decoded + st.refused == st.patterns);
    const linear_code<double> twin(code_definition{code.support(), code.encoding_matrix(), code.tolerance()});
    const auto plan = twin.plan(pattern::all_except(code.nodes(), st.first_refused));
    INFO("first refused pattern: amplification " << plan->amplification() << " > float limit " << code.max_amplification());
    CHECK(plan->amplification() > code.max_amplification());
    std::printf("[gradcode float refusals] %s %s: %lld of %lld tolerated patterns refused in float (decode in double)\n", what,
                params.c_str(), static_cast<long long>(st.refused), static_cast<long long>(st.patterns));
  }
  return st;
}

/// One straggler more than tolerated: every pattern of s + 1 stragglers either decodes within
/// the bound or throws not_decodable, and every pattern that loses all copies of a partition
/// throws. Returns the counts for code-specific expectations.
template <class Scalar>
sweep_stats check_one_more_straggler(const linear_code<Scalar>& code, const char* what, const std::string& params, Index d = 64,
                                     std::uint64_t seed = 20240602) {
  const encoded_gradients<Scalar> data(code, d, seed);
  const sweep_stats st = sweep_exactly(code, data, code.tolerance() + 1);
  report(what, params + " s+1 " + scalar_name<Scalar>(), st);
  INFO(what << " " << params << " <" << scalar_name<Scalar>() << "> with s + 1 stragglers: " << st.decoded << " decoded, "
            << st.refused << " refused (" << st.uncovered << " lose a whole partition); first wrong " << to_string(st.first_wrong)
            << " " << st.first_wrong_what);
  CHECK(static_cast<double>(st.patterns) == binomial(code.nodes(), code.tolerance() + 1));
  CHECK(st.wrong == 0);
  CHECK(st.decoded + st.refused == st.patterns);
  CHECK(st.refused_uncovered == st.uncovered);
  CHECK(st.worst_error <= error_bound<Scalar>());
  return st;
}

/// `count` random patterns of exactly s stragglers (seeded; --rng-seed overrides).
/// `must_decode`: every pattern must decode (else: decode correctly or throw not_decodable).
template <class Scalar>
sweep_stats check_random_patterns(const linear_code<Scalar>& code, const char* what, const std::string& params, Index count,
                                  bool must_decode, Index d = 64, std::uint64_t fallback_seed = 0x9c0de) {
  const std::uint64_t seed = test_seed(fallback_seed);
  INFO(what << " " << params << " <" << scalar_name<Scalar>() << ">: " << count << " random patterns of s = " << code.tolerance()
            << " stragglers, d = " << d << ", seed " << seed << " (--rng-seed overrides)");
  const encoded_gradients<Scalar> data(code, d, seed);
  const sweep_stats st = sweep_random(code, data, code.tolerance(), count, seed + 1);
  report(what, params + " " + scalar_name<Scalar>(), st);
  INFO("worst error " << st.worst_error << " with stragglers " << to_string(st.worst_stragglers) << "; first refused "
                      << to_string(st.first_refused) << "; first wrong " << to_string(st.first_wrong) << " "
                      << st.first_wrong_what);
  CHECK(st.patterns == count);
  CHECK(st.wrong == 0);
  CHECK(st.worst_error <= error_bound<Scalar>());
  if (must_decode && (sizeof(Scalar) >= sizeof(double) || st.refused == 0)) {
    CHECK(st.refused == 0);
  } else if (must_decode) {  // float: only justified refusals (see check_every_tolerated_pattern)
    const linear_code<double> twin(code_definition{code.support(), code.encoding_matrix(), code.tolerance()});
    const auto plan = twin.plan(pattern::all_except(code.nodes(), st.first_refused));
    INFO("first refused pattern: amplification " << plan->amplification() << " > float limit " << code.max_amplification());
    CHECK(plan->amplification() > code.max_amplification());
    std::printf("[gradcode float refusals] %s %s: %lld of %lld random patterns refused in float (decode in double)\n", what,
                params.c_str(), static_cast<long long>(st.refused), static_cast<long long>(st.patterns));
  }
  return st;
}

}  // namespace gradcode::test
