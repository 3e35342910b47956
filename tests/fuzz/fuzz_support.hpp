// SPDX-License-Identifier: MIT
// Shared by the fuzz targets (tests/fuzz/*_fuzz.cpp): the byte reader that turns a fuzzer input
// into parameters and data, the typed-error classifier ("exact result or one of gradcode's typed
// errors"), property checks that abort with a message, value generators that reach NaN, Inf,
// subnormal and huge values, and a bounded cache of constructed codes (so each run costs a
// decode, not a construction — the campaigns need ≥ 1000 executions per second).
#pragma once

#include <cmath>
#include <complex>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/core/types.hpp>

namespace gradcode::fuzz {

/// Prints what failed and aborts: libFuzzer saves the input as a crash, the replay main fails.
[[noreturn]] inline void violation(const char* file, int line, const char* format, ...) {
  std::fprintf(stderr, "\n==gradcode-fuzz== property violated at %s:%d: ", file, line);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

/// With GRADCODE_FUZZ_TRACE set in the environment, prints how an input was read (to diagnose a
/// saved crash: `GRADCODE_FUZZ_TRACE=1 gradcode_fuzz_<target> <input>`).
inline bool tracing() {
  static const bool on = std::getenv("GRADCODE_FUZZ_TRACE") != nullptr;
  return on;
}
inline void trace(const char* format, ...) {
  if (!tracing()) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

#define GRADCODE_FUZZ_REQUIRE(cond, ...)                                       \
  do {                                                                         \
    if (!(cond)) ::gradcode::fuzz::violation(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

/// Marks harness arithmetic (oracles) that is not code under test: excluded from libFuzzer's
/// coverage instrumentation, whose comparison tracing in those loops took ~25 % of the run time.
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_coverage)
#define GRADCODE_FUZZ_ORACLE __attribute__((no_sanitize_coverage))
#endif
#endif
#ifndef GRADCODE_FUZZ_ORACLE
#define GRADCODE_FUZZ_ORACLE
#endif

/// Reads an input from both ends: structure (sizes, choices, ids) from the front, bulk data (the
/// values of gradients and messages) from the back, so a mutation of the data does not shift
/// every later decision. An exhausted input reads zeros.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : m_data(data), m_front(0), m_back(size) {}

  std::size_t remaining() const noexcept { return m_back - m_front; }
  std::uint8_t byte() noexcept { return m_front < m_back ? m_data[m_front++] : 0; }
  std::uint8_t tail_byte() noexcept { return m_back > m_front ? m_data[--m_back] : 0; }
  bool flag() noexcept { return byte() & 1u; }
  /// An integer in [lo, hi] (one byte when the range fits, else eight).
  Index pick(Index lo, Index hi) noexcept {
    if (hi <= lo) return lo;
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    std::uint64_t raw = 0;
    if (span <= 256)
      raw = byte();
    else
      for (int b = 0; b < 8; ++b) raw = raw << 8 | byte();
    return lo + static_cast<Index>(raw % span);
  }
  /// Raw bits for a value of type T, from the back.
  template <class T>
  T tail_bits() noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    unsigned char b[sizeof(T)];
    for (auto& c : b) c = tail_byte();
    T v;
    std::memcpy(&v, b, sizeof v);
    return v;
  }
  /// The rest of the front as bytes (consumes it).
  std::vector<std::uint8_t> rest() {
    std::vector<std::uint8_t> out(m_data + m_front, m_data + m_back);
    m_front = m_back;
    return out;
  }

 private:
  const std::uint8_t* m_data;
  std::size_t m_front, m_back;
};

/// What a call to gradcode did.
enum class outcome { ok, invalid_parameters, invalid_input, not_decodable, corrupted_result };

inline const char* name(outcome o) {
  switch (o) {
    case outcome::ok:
      return "ok";
    case outcome::invalid_parameters:
      return "invalid_parameters";
    case outcome::invalid_input:
      return "invalid_input";
    case outcome::not_decodable:
      return "not_decodable";
    case outcome::corrupted_result:
      return "corrupted_result";
  }
  return "?";
}

/// Runs f; returns how it ended. Any exception that is not one of gradcode's typed errors
/// (core/errors.hpp), or a typed error whose message lacks its stable tag, is a violation.
/// `what` receives the message of a typed error.
template <class F>
outcome attempt(F&& f, std::string* what = nullptr) {
  auto tagged = [&](const std::exception& e, const char* tag) {
    GRADCODE_FUZZ_REQUIRE(std::strncmp(e.what(), tag, std::strlen(tag)) == 0, "typed error without its tag '%s': %s", tag,
                          e.what());
    if (what) *what = e.what();
  };
  try {
    f();
    return outcome::ok;
  } catch (const gradcode::invalid_parameters& e) {
    tagged(e, "gradcode::invalid_parameters: ");
    return outcome::invalid_parameters;
  } catch (const gradcode::invalid_input& e) {
    tagged(e, "gradcode::invalid_input: ");
    return outcome::invalid_input;
  } catch (const gradcode::not_decodable& e) {
    tagged(e, "gradcode::not_decodable: ");
    return outcome::not_decodable;
  } catch (const gradcode::corrupted_result& e) {
    tagged(e, "gradcode::corrupted_result: ");
    return outcome::corrupted_result;
  } catch (const std::exception& e) {
    violation(__FILE__, __LINE__, "untyped exception (not a gradcode error): %s", e.what());
  } catch (...) {
    violation(__FILE__, __LINE__, "exception not derived from std::exception");
  }
}

/// Oracle arithmetic: long double has 64 mantissa bits and the exponent range of 1e±4932, so
/// the reference sums neither overflow nor lose what double computes.
using real = long double;

template <class Scalar>
constexpr real epsilon() {
  return static_cast<real>(std::numeric_limits<Scalar>::epsilon());
}

template <class Scalar>
bool all_finite(const Scalar* x, Index n) {
  for (Index i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

/// How partial gradients / coefficients are drawn from the input.
enum class value_mode {
  moderate,  ///< int16/256 · 2^e, e ∈ [−20, 20] per column: well inside every code's safe region
  wide,      ///< int16/256 · 2^e, e over the whole exponent range of Scalar (subnormal and huge values)
  raw,       ///< raw IEEE bits: NaN, ±Inf, subnormals, anything
};

inline value_mode pick_mode(input& in) {
  const auto b = in.byte();
  return b < 192 ? value_mode::moderate : b < 240 ? value_mode::wide : value_mode::raw;
}

/// The column exponent of `mode` (ignored for raw).
template <class Scalar>
int pick_exponent(input& in, value_mode mode) {
  const auto b = static_cast<int>(in.byte());
  if (mode == value_mode::moderate) return b % 41 - 20;
  constexpr int lo = std::numeric_limits<Scalar>::min_exponent - std::numeric_limits<Scalar>::digits;  // smallest subnormal
  constexpr int hi = std::numeric_limits<Scalar>::max_exponent - 8;  // int16/256 < 2^8: stays finite
  const int two = b << 8 | static_cast<int>(in.byte());
  return lo + two % (hi - lo + 1);
}

template <class Scalar>
Scalar draw_value(input& in, value_mode mode, int exponent) {
  if (mode == value_mode::raw) {
    using bits = std::conditional_t<sizeof(Scalar) == 4, std::uint32_t, std::uint64_t>;
    const auto b = in.tail_bits<bits>();
    Scalar v;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
  const auto lo = in.tail_byte(), hi = in.tail_byte();
  const auto mantissa = static_cast<std::int16_t>(static_cast<std::uint16_t>(hi << 8 | lo));
  return static_cast<Scalar>(std::ldexp(static_cast<double>(mantissa) / 256.0, exponent));
}

/// d × K partial gradients from the input (a column exponent each, values from the back).
template <class Scalar>
matrix<Scalar> draw_partials(input& in, Index d, Index K) {
  const value_mode mode = pick_mode(in);
  matrix<Scalar> g(d, K);
  for (Index k = 0; k < K; ++k) {
    const int e = pick_exponent<Scalar>(in, mode);
    for (Index i = 0; i < d; ++i) g(i, k) = draw_value<Scalar>(in, mode, e);
  }
  return g;
}

/// The ways a message is altered on its way (the fuzzer picks one per arriving message).
enum class perturbation { none, nan, pos_inf, neg_inf, huge, ulp, relative, zero, other_node, add_noise, scale };

inline const char* name(perturbation p) {
  switch (p) {
    case perturbation::none:
      return "none";
    case perturbation::nan:
      return "NaN";
    case perturbation::pos_inf:
      return "+Inf";
    case perturbation::neg_inf:
      return "-Inf";
    case perturbation::huge:
      return "huge";
    case perturbation::ulp:
      return "1 ulp";
    case perturbation::relative:
      return "relative";
    case perturbation::zero:
      return "zero";
    case perturbation::other_node:
      return "other node's message";
    case perturbation::add_noise:
      return "add noise";
    case perturbation::scale:
      return "scale";
  }
  return "?";
}

/// Mostly untouched (5 in 8), else one of the alterations.
inline perturbation pick_perturbation(input& in) {
  const auto b = in.byte();
  if (b < 160) return perturbation::none;
  constexpr perturbation kinds[] = {
      perturbation::nan,      perturbation::pos_inf, perturbation::neg_inf,    perturbation::huge,      perturbation::ulp,
      perturbation::relative, perturbation::zero,    perturbation::other_node, perturbation::add_noise, perturbation::scale};
  return kinds[(b - 160) % (sizeof kinds / sizeof kinds[0])];
}

/// Applies `p` to column `col` (length d) in place; `other` is another honest message (same
/// length) for other_node. Reads its element index and magnitudes from the input. Returns false
/// when the alteration left the message bit-identical (e.g. zero on a zero message).
template <class Scalar, class Col, class Other>
bool apply_perturbation(input& in, perturbation p, Col&& col, const Other& other) {
  const Index d = col.size();
  if (p == perturbation::none || d == 0) return false;
  const vector<Scalar> before = col;
  const Index e = in.pick(0, d - 1);
  const auto b = in.byte();
  switch (p) {
    case perturbation::none:
      break;
    case perturbation::nan:
      col[e] = std::numeric_limits<Scalar>::quiet_NaN();
      break;
    case perturbation::pos_inf:
      col[e] = std::numeric_limits<Scalar>::infinity();
      break;
    case perturbation::neg_inf:
      col[e] = -std::numeric_limits<Scalar>::infinity();
      break;
    case perturbation::huge: {
      // ±2^x with x up to the top of the range (1e155…1e308 in double overflow squared norms).
      constexpr int top = std::numeric_limits<Scalar>::max_exponent - 1;
      const int x = top / 2 + b % (top - top / 2 + 1);
      col[e] += static_cast<Scalar>((b & 1u ? -1.0L : 1.0L) * std::ldexp(1.0L, x));
      break;
    }
    case perturbation::ulp:
      col[e] =
          std::nextafter(col[e], b & 1u ? std::numeric_limits<Scalar>::infinity() : -std::numeric_limits<Scalar>::infinity());
      break;
    case perturbation::relative:  // × (1 ± 2^−k), k ∈ [1, 60]: from gross to below rounding
      col[e] = static_cast<Scalar>(static_cast<real>(col[e]) * (1 + (b & 1u ? -1 : 1) * std::ldexp(1.0L, -(1 + (b >> 1) % 60))));
      break;
    case perturbation::zero:
      col.setZero();
      break;
    case perturbation::other_node:
      col = other;
      break;
    case perturbation::add_noise: {  // every element += 2^−k·(max |message| or 1)·u, u from the input
      real scale = 0;
      for (Index i = 0; i < d; ++i) scale = std::max(scale, std::fabs(static_cast<real>(col[i])));
      if (!(scale > 0) || !std::isfinite(scale)) scale = 1;
      const int k = b % 64;
      for (Index i = 0; i < d; ++i)
        col[i] = static_cast<Scalar>(static_cast<real>(col[i]) +
                                     std::ldexp(scale, -k) * (static_cast<real>(in.tail_byte()) - 127.5L) / 128.0L);
      break;
    }
    case perturbation::scale:  // the whole message × c, c = ±2^(k − 32)
      col *= static_cast<Scalar>((b & 1u ? -1.0L : 1.0L) * std::ldexp(1.0L, (b >> 1) % 64 - 32));
      break;
  }
  for (Index i = 0; i < d; ++i)
    if (std::memcmp(&before[i], &col[i], sizeof(Scalar)) != 0) return true;
  return false;
}

/// Node ids a fuzzer may send: mostly valid and distinct, sometimes repeated or out of range.
struct id_choice {
  Index id;
  bool valid;  ///< in [0, n)
};

/// Picks one arriving id over n nodes. `taken` marks ids already chosen; `usable` (may be empty)
/// marks ids that have a message at all. Distinct picks skip taken/unusable ids when they can.
inline id_choice pick_id(input& in, Index n, std::vector<bool>& taken, const std::vector<bool>& usable) {
  const auto sel = in.byte();
  if (sel >= 244 || n == 0) {  // out of range
    constexpr Index wild[] = {-1, -2, std::numeric_limits<Index>::min(), std::numeric_limits<Index>::max()};
    const Index id = sel % 2 ? n + (sel % 5) : wild[sel % 4];
    return {id, false};
  }
  Index id = sel % n;
  if (sel < 208) {  // distinct: the next free usable id at or after sel % n
    for (Index t = 0; t < n; ++t) {
      const Index c = (sel % n + t) % n;
      if (!taken[static_cast<std::size_t>(c)] && (usable.empty() || usable[static_cast<std::size_t>(c)])) {
        id = c;
        break;
      }
    }
  }
  taken[static_cast<std::size_t>(id)] = true;
  return {id, true};
}

/// ‖x‖₂ in long double.
template <class V>
real norm(const V& x) {
  real s = 0;
  for (Index i = 0; i < x.size(); ++i) s += static_cast<real>(x[i]) * static_cast<real>(x[i]);
  return std::sqrt(s);
}

/// Constructed codes by parameter key (a code is immutable apart from its plan cache, so reusing
/// one across inputs changes nothing observable). Construction failures are cached too.
template <class Code>
class code_cache {
 public:
  struct entry {
    outcome made = outcome::ok;
    std::shared_ptr<const Code> code;
  };
  template <class Make>
  const entry& get(const std::string& key, Make&& make) {
    auto it = m_entries.find(key);
    if (it != m_entries.end()) return it->second;
    if (m_entries.size() >= 512) m_entries.clear();  // bounded memory over a long campaign
    entry e;
    e.made = attempt([&] { e.code = make(); });
    return m_entries.emplace(key, std::move(e)).first->second;
  }

 private:
  std::map<std::string, entry> m_entries;
};

/// Appends "v," to a cache key.
template <class T>
void key_add(std::string& key, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%a,", static_cast<double>(v));
    key += buf;
  } else {
    key += std::to_string(v);
    key += ',';
  }
}

}  // namespace gradcode::fuzz
