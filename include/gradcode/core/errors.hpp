// SPDX-License-Identifier: MIT
// Typed errors of gradcode (DESIGN.md "Errors"). Every message starts with a stable tag
// ("gradcode::not_decodable: ...") and carries the numbers; the objects carry them as fields.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gradcode {

namespace detail {
/// A number for an error message: 3 significant digits, exponent when needed ("2.1e-07").
inline std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace detail

/// Infeasible code parameters; thrown at construction. The message names the constraint and a
/// value that would fit.
class invalid_parameters : public std::invalid_argument {
 public:
  explicit invalid_parameters(const std::string& what) : std::invalid_argument("gradcode::invalid_parameters: " + what) {}
};

/// Bad call data: wrong dimensions, duplicate or out-of-range node ids, NaN/Inf, malformed
/// buffers. `node` is the offending node (or -1 when the error is not tied to one node).
class invalid_input : public std::invalid_argument {
 public:
  explicit invalid_input(const std::string& what, long long node = -1)
      : std::invalid_argument("gradcode::invalid_input: " + what), m_node(node) {}
  long long node() const noexcept { return m_node; }

 private:
  long long m_node;
};

/// Too few results, or a pattern outside the code's tolerance (the decoding solve's residual is
/// above tolerance). `received()` results arrived, `needed()` are sufficient for any pattern.
class not_decodable : public std::runtime_error {
 public:
  not_decodable(const std::string& what, std::size_t received, std::size_t needed)
      : std::runtime_error("gradcode::not_decodable: " + what), m_received(received), m_needed(needed) {}
  std::size_t received() const noexcept { return m_received; }
  std::size_t needed() const noexcept { return m_needed; }

 private:
  std::size_t m_received, m_needed;
};

/// Adversarial corruption detected but beyond the correction budget. `suspects()` lists the
/// nodes that could be identified (possibly empty).
class corrupted_result : public std::runtime_error {
 public:
  explicit corrupted_result(const std::string& what, std::vector<long long> suspects = {})
      : std::runtime_error("gradcode::corrupted_result: " + what), m_suspects(std::move(suspects)) {}
  const std::vector<long long>& suspects() const noexcept { return m_suspects; }

 private:
  std::vector<long long> m_suspects;
};

namespace detail {
/// e's message without its "gradcode::<kind>: " tag, to quote it inside another message (one
/// tag per message, however many layers add context).
inline std::string untagged(const std::exception& e) {
  const std::string what = e.what();
  const auto colon = what.find(": ");
  return what.rfind("gradcode::", 0) == 0 && colon != std::string::npos ? what.substr(colon + 2) : what;
}

/// f(), with every gradcode error it throws rethrown as the same type and fields, its message
/// prefixed by "`context`: " (e.g. "relay 2 (workers): 3 of 6 nodes responded …").
template <class F>
decltype(auto) with_context(const std::string& context, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const invalid_parameters& e) {
    throw invalid_parameters(context + ": " + untagged(e));
  } catch (const invalid_input& e) {
    throw invalid_input(context + ": " + untagged(e), e.node());
  } catch (const not_decodable& e) {
    throw not_decodable(context + ": " + untagged(e), e.received(), e.needed());
  } catch (const corrupted_result& e) {
    throw corrupted_result(context + ": " + untagged(e), e.suspects());
  }
}
}  // namespace detail

}  // namespace gradcode
