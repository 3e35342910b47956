// SPDX-License-Identifier: MIT
// Bounded LRU cache of decoding plans keyed by responder pattern (reedsolomon caches its decode
// matrices per erasure pattern the same way). Safe for concurrent use from const members.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "gradcode/core/pattern.hpp"

namespace gradcode::detail {

template <class Plan>
class plan_cache {
 public:
  explicit plan_cache(std::size_t capacity) : m_capacity(capacity) {}

  /// Cached plan for `key`, or `make()`'s result (then cached). `make` runs outside the lock, so
  /// concurrent misses on different patterns solve in parallel; it may throw, nothing is cached.
  template <class Make>
  std::shared_ptr<const Plan> get_or_make(const pattern& key, Make&& make) {
    {
      std::lock_guard lock(m_mutex);
      if (auto it = m_index.find(key); it != m_index.end()) {
        m_order.splice(m_order.begin(), m_order, it->second);
        return it->second->second;
      }
    }
    std::shared_ptr<const Plan> plan = make();
    if (m_capacity == 0) return plan;
    std::lock_guard lock(m_mutex);
    if (auto it = m_index.find(key); it != m_index.end()) return it->second->second;  // raced
    m_order.emplace_front(key, plan);
    m_index.emplace(key, m_order.begin());
    if (m_order.size() > m_capacity) {
      m_index.erase(m_order.back().first);
      m_order.pop_back();
    }
    return plan;
  }

  std::size_t size() const {
    std::lock_guard lock(m_mutex);
    return m_order.size();
  }

 private:
  using entry = std::pair<pattern, std::shared_ptr<const Plan>>;
  std::size_t m_capacity;
  mutable std::mutex m_mutex;
  std::list<entry> m_order;  // most recently used first
  std::unordered_map<pattern, typename std::list<entry>::iterator> m_index;
};

}  // namespace gradcode::detail
