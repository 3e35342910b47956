// SPDX-License-Identifier: MIT
// Driver of the concurrency tests: every thread runs its own list of jobs (decodes of its own
// straggler / adversary patterns) against ONE shared const code, started together; the same jobs
// run serially on a twin (a copy: same parameters, its own cold plan cache) give the expected
// outcome of each job. A job's outcome — decoded within the error bound, or which typed error —
// must not depend on which thread ran it or what ran beside it.
//
// Catch2 2.13 assertions are not thread-safe, so threads only record outcomes; the main thread
// asserts after join().
#pragma once

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <latch>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gradcode/core/errors.hpp>
#include <gradcode/core/types.hpp>

namespace gradcode::test {

/// Threads every concurrency test starts (≥ 4: the brief of issue 13; the machine has 2 cores, so
/// they also interleave on one core).
inline constexpr int concurrency_threads = 4;

enum class outcome_kind {
  decoded,  ///< returned a result (its error is in outcome::error)
  not_decodable,
  corrupted_result,
  invalid_input,
  misreported,  ///< decoded, but a report (e.g. the located adversaries) is wrong
  other,        ///< any other exception: always a failure
};

inline const char* kind_name(outcome_kind k) {
  switch (k) {
    case outcome_kind::decoded:
      return "decoded";
    case outcome_kind::not_decodable:
      return "not_decodable";
    case outcome_kind::corrupted_result:
      return "corrupted_result";
    case outcome_kind::invalid_input:
      return "invalid_input";
    case outcome_kind::misreported:
      return "misreported";
    case outcome_kind::other:
      return "other exception";
  }
  return "?";
}

struct outcome {
  outcome_kind kind = outcome_kind::other;
  double error = 0;  ///< relative error ‖ĝ − g‖/‖g‖ of a decoded result
  /// Exception message or what was misreported; for a decoded result an optional fingerprint of
  /// what must be bit for bit the serial result (empty: only the error bound is checked).
  std::string what;
};

/// FNV-1a over `bytes` bytes at `data`, continuing from `h`: a fingerprint of a
/// result that must come out bit for bit the same however the threads interleave.
inline std::uint64_t fnv1a(const void* data, std::size_t bytes, std::uint64_t h = 0xcbf29ce484222325ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/// Runs `decode` (returns an outcome, usually {decoded, relative error}) and turns gradcode's typed
/// errors into outcomes; nothing escapes.
template <class F>
outcome attempt(F&& decode) {
  try {
    return decode();
  } catch (const not_decodable& e) {
    return {outcome_kind::not_decodable, 0, e.what()};
  } catch (const corrupted_result& e) {
    return {outcome_kind::corrupted_result, 0, e.what()};
  } catch (const invalid_input& e) {
    return {outcome_kind::invalid_input, 0, e.what()};
  } catch (const std::exception& e) {
    return {outcome_kind::other, 0, e.what()};
  } catch (...) {
    return {outcome_kind::other, 0, "non-std exception"};
  }
}

/// jobs[t] is thread t's list; run(t, job) → outcome. Starts one std::jthread per list, all
/// released together by a latch so their first decodes (cache misses) collide.
template <class Job, class Run>
std::vector<std::vector<outcome>> run_concurrently(const std::vector<std::vector<Job>>& jobs, Run&& run) {
  std::vector<std::vector<outcome>> out(jobs.size());
  std::latch start(static_cast<std::ptrdiff_t>(jobs.size()));
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < jobs.size(); ++t)
      pool.emplace_back([&, t] {
        auto& mine = out[t];
        mine.reserve(jobs[t].size());
        start.arrive_and_wait();
        for (const auto& job : jobs[t]) mine.push_back(attempt([&] { return run(t, job); }));
      });
  }  // jthreads join here
  return out;
}

/// The same jobs, one after the other on the calling thread (the serial reference).
template <class Job, class Run>
std::vector<std::vector<outcome>> run_serially(const std::vector<std::vector<Job>>& jobs, Run&& run) {
  std::vector<std::vector<outcome>> out(jobs.size());
  for (std::size_t t = 0; t < jobs.size(); ++t)
    for (const auto& job : jobs[t]) out[t].push_back(attempt([&] { return run(t, job); }));
  return out;
}

/// What a concurrent run did against its serial reference.
struct concurrency_summary {
  Index jobs = 0, decoded = 0, refused = 0;
  Index differ = 0;        ///< jobs whose outcome kind differs from the serial run's
  Index bad = 0;           ///< decoded beyond the bound, misreported, or another exception
  double worst_error = 0;  ///< over every decoded result
  std::string first_problem;
};

inline concurrency_summary compare(const std::vector<std::vector<outcome>>& concurrent,
                                   const std::vector<std::vector<outcome>>& serial, double bound) {
  concurrency_summary s;
  auto note = [&](std::size_t t, std::size_t j, const std::string& what) {
    if (s.first_problem.empty()) s.first_problem = "thread " + std::to_string(t) + " job " + std::to_string(j) + ": " + what;
  };
  for (std::size_t t = 0; t < concurrent.size(); ++t) {
    if (concurrent[t].size() != serial[t].size()) {
      ++s.differ;
      note(t, 0, "ran " + std::to_string(concurrent[t].size()) + " jobs, serial " + std::to_string(serial[t].size()));
      continue;
    }
    for (std::size_t j = 0; j < concurrent[t].size(); ++j) {
      const outcome& c = concurrent[t][j];
      const outcome& r = serial[t][j];
      ++s.jobs;
      if (c.kind == outcome_kind::decoded) {
        ++s.decoded;
        s.worst_error = std::max(s.worst_error, c.error);
        if (!(c.error <= bound)) ++s.bad, note(t, j, "decoded with relative error " + std::to_string(c.error));
      } else if (c.kind == outcome_kind::misreported || c.kind == outcome_kind::other) {
        ++s.bad, note(t, j, std::string(kind_name(c.kind)) + ": " + c.what);
      } else {
        ++s.refused;
      }
      if (c.kind != r.kind)
        ++s.differ,
            note(t, j,
                 std::string(kind_name(c.kind)) + " (" + c.what + ") but serially " + kind_name(r.kind) + " (" + r.what + ")");
      else if (c.kind == outcome_kind::decoded && c.what != r.what)
        ++s.differ, note(t, j, "decoded to fingerprint " + c.what + ", serially " + r.what);
    }
  }
  return s;
}

/// The assertions every concurrency test makes on a run (main thread only).
inline void check_summary(const concurrency_summary& s, const std::string& what, Index expected_jobs) {
  std::printf("[gradcode concurrency] %-44s jobs %5lld decoded %5lld refused %4lld differ %lld bad %lld  worst %.3e\n",
              what.c_str(), static_cast<long long>(s.jobs), static_cast<long long>(s.decoded), static_cast<long long>(s.refused),
              static_cast<long long>(s.differ), static_cast<long long>(s.bad), s.worst_error);
  std::fflush(stdout);
  INFO(what << ": " << s.jobs << " jobs, " << s.decoded << " decoded, " << s.refused << " refused, worst relative error "
            << s.worst_error << "; first problem: " << (s.first_problem.empty() ? "none" : s.first_problem));
  CHECK(s.jobs == expected_jobs);
  CHECK(s.differ == 0);
  CHECK(s.bad == 0);
  CHECK(s.decoded > 0);
}

/// Thread t's share of `items` (a list every thread walks): the items at even positions are common
/// to all threads (so plans are missed and hit concurrently), each odd-position item belongs to
/// one thread only; the result is shuffled with a per-thread seed.
template <class Item>
std::vector<std::vector<Item>> share_out(const std::vector<Item>& items, int threads, std::uint64_t seed) {
  std::vector<std::vector<Item>> out(static_cast<std::size_t>(threads));
  for (std::size_t i = 0; i < items.size(); ++i)
    for (int t = 0; t < threads; ++t)
      if (i % 2 == 0 || (i / 2) % static_cast<std::size_t>(threads) == static_cast<std::size_t>(t))
        out[static_cast<std::size_t>(t)].push_back(items[i]);
  for (int t = 0; t < threads; ++t) {
    std::mt19937_64 rng(seed + 0x9e37u * static_cast<std::uint64_t>(t + 1));
    std::shuffle(out[static_cast<std::size_t>(t)].begin(), out[static_cast<std::size_t>(t)].end(), rng);
  }
  return out;
}

/// Plan-cache sizes every shared code is tested with: the default (no eviction at these sizes), a
/// tiny cache (threads evict each other's plans while others read them) and none.
inline const std::vector<std::size_t>& cache_sizes() {
  static const std::vector<std::size_t> sizes{4096, 2, 0};
  return sizes;
}

/// rows × cols standard normal entries from `seed` (each job draws its own data).
template <class Scalar>
matrix<Scalar> random_partials(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return random_partials<Scalar>(rows, cols, rng);
}

/// ‖decoded − exact‖ / ‖exact‖ against a sum computed beforehand in double.
template <class Scalar>
double relative_error(const vector<Scalar>& decoded, const vector<double>& exact) {
  return (decoded.template cast<double>() - exact).norm() / exact.norm();
}

}  // namespace gradcode::test
