// SPDX-License-Identifier: MIT
// The set of nodes whose results arrived (the responders F of a decoding step), stored as a
// bitset so that it doubles as the key of the per-pattern decoding-plan caches.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gradcode/core/errors.hpp"
#include "gradcode/core/types.hpp"

namespace gradcode {

/// Responders among `nodes()` nodes. Equality and hash look only at the set, so a pattern is a
/// compact cache key (n/64 words).
class pattern {
 public:
  /// Empty pattern over `nodes` nodes. Throws invalid_parameters unless 0 ≤ nodes ≤
  /// limits::max_nodes (checked before the bitset is allocated).
  explicit pattern(Index nodes = 0) : m_nodes(checked_nodes(nodes)), m_words(static_cast<std::size_t>((nodes + 63) / 64), 0) {}

  /// Pattern of the given responder ids. Throws invalid_input on an id outside [0, nodes) or a
  /// repeated id (a node's result must not be counted twice).
  static pattern from_ids(Index nodes, std::span<const Index> ids) {
    pattern p(nodes);
    for (Index id : ids) {
      p.check_range(id);
      if (p.contains(id)) throw invalid_input("node " + std::to_string(id) + " appears twice among the responders", id);
      p.insert(id);
    }
    return p;
  }

  /// All nodes except `stragglers` (repeats among the stragglers are rejected too).
  static pattern all_except(Index nodes, std::span<const Index> stragglers) {
    pattern missing = from_ids(nodes, stragglers);
    pattern p(nodes);
    for (Index i = 0; i < nodes; ++i)
      if (!missing.contains(i)) p.insert(i);
    return p;
  }

  Index nodes() const noexcept { return m_nodes; }
  bool contains(Index id) const noexcept { return id >= 0 && id < m_nodes && (m_words[word(id)] >> bit(id)) & 1u; }
  void insert(Index id) {
    check_range(id);
    m_words[word(id)] |= std::uint64_t{1} << bit(id);
  }
  void erase(Index id) {
    check_range(id);
    m_words[word(id)] &= ~(std::uint64_t{1} << bit(id));
  }
  /// Number of responders |F|.
  Index count() const noexcept {
    Index c = 0;
    for (auto w : m_words) c += std::popcount(w);
    return c;
  }
  /// Responder ids in increasing order.
  std::vector<Index> ids() const {
    std::vector<Index> out;
    out.reserve(static_cast<std::size_t>(count()));
    for (Index i = 0; i < m_nodes; ++i)
      if (contains(i)) out.push_back(i);
    return out;
  }

  friend bool operator==(const pattern& a, const pattern& b) noexcept { return a.m_nodes == b.m_nodes && a.m_words == b.m_words; }
  std::size_t hash() const noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(m_nodes);
    for (auto w : m_words) {
      h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    }
    return static_cast<std::size_t>(h);
  }

 private:
  static Index checked_nodes(Index nodes) {
    if (nodes < 0) throw invalid_parameters("pattern: node count " + std::to_string(nodes) + " is negative");
    if (nodes > limits::max_nodes)
      throw invalid_parameters("pattern: node count " + std::to_string(nodes) +
                               " exceeds limits::max_nodes = " + std::to_string(limits::max_nodes));
    return nodes;
  }
  static std::size_t word(Index id) noexcept { return static_cast<std::size_t>(id / 64); }
  static unsigned bit(Index id) noexcept { return static_cast<unsigned>(id % 64); }
  void check_range(Index id) const {
    if (id < 0 || id >= m_nodes)
      throw invalid_input("node id " + std::to_string(id) + " is outside [0, " + std::to_string(m_nodes) + ")", id);
  }

  Index m_nodes;
  std::vector<std::uint64_t> m_words;
};

}  // namespace gradcode

template <>
struct std::hash<gradcode::pattern> {
  std::size_t operator()(const gradcode::pattern& p) const noexcept { return p.hash(); }
};
