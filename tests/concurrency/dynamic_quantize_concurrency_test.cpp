// SPDX-License-Identifier: MIT
// Shared const objects of the dynamic and quantized schemes used from several threads at once:
//   - one stage-2 code of the two-stage scheme (dynamic/two_stage.hpp) decoded with every thread's
//     own stage-2 straggler patterns, and stage 2 built by every thread from one shared stage-1
//     code (each thread its own finished set and tolerance);
//   - one gc_dl scheme (quantize/gc_dl.hpp) stepping and aggregating overlapping iterations, whose
//     counter-based draws must give bit for bit the serial ĝ;
//   - one 1-bit quantizer filling one message from several threads by word-aligned ranges
//     (quantize_range's documented parallel use).
// Results are checked against the exact sum where the scheme is exact, and against the serial run.
#include <catch2/catch.hpp>

#include "concurrency/concurrency_support.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gradcode/dynamic/two_stage.hpp>
#include <gradcode/quantize/gc_dl.hpp>
#include <gradcode/quantize/one_bit.hpp>
#include <gradcode/quantize/placement.hpp>

using gradcode::Index;
using gradcode::matrix;
using gradcode::pattern;
using gradcode::vector;
using gradcode::test::outcome;
using gradcode::test::outcome_kind;
using gradcode::test::random_partials;
using gradcode::test::relative_error;

namespace {

std::string hex(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

template <class Scalar>
std::string fingerprint(const vector<Scalar>& v) {
  return hex(gradcode::test::fnv1a(v.data(), static_cast<std::size_t>(v.size()) * sizeof(Scalar)));
}

// ---------------------------------------------------------------------------------------------
// Two-stage

struct epoch_setup {
  std::vector<double> throughputs;
  Index partitions = 20;
  std::vector<Index> stage_one{0, 2, 3, 5, 7, 8};  ///< M1 = 6 of M = 10
};

epoch_setup make_epoch(std::uint64_t seed) {
  epoch_setup e;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> w(0.5, 8.0);
  for (int m = 0; m < 10; ++m) e.throughputs.push_back(w(rng));
  return e;
}

/// The master's decode from the finished stage-1 workers and the stage-2 workers not in
/// `stragglers` (positions in stage_two_workers()), both in a per-thread order; decodable() must
/// agree with the decode.
template <class Scalar>
outcome decode_epoch(const gradcode::two_stage_code<Scalar>& epoch, const gradcode::stage_two_code<Scalar>& two,
                     const matrix<Scalar>& partials, const vector<double>& exact, const std::vector<Index>& stragglers,
                     std::uint64_t order_seed) {
  std::mt19937_64 rng(order_seed);
  const Index d = partials.rows();
  std::vector<Index> one_ids(two.finished_workers().begin(), two.finished_workers().end());
  std::shuffle(one_ids.begin(), one_ids.end(), rng);
  matrix<Scalar> one(d, static_cast<Index>(one_ids.size()));
  for (std::size_t j = 0; j < one_ids.size(); ++j) one.col(static_cast<Index>(j)) = epoch.encode_stage_one(one_ids[j], partials);
  std::vector<Index> two_ids;
  if (two.coded()) {
    const auto workers = two.stage_two_workers();
    for (Index j = 0; j < static_cast<Index>(workers.size()); ++j)
      if (!std::binary_search(stragglers.begin(), stragglers.end(), j)) two_ids.push_back(workers[static_cast<std::size_t>(j)]);
    std::shuffle(two_ids.begin(), two_ids.end(), rng);
  }
  matrix<Scalar> msgs(d, static_cast<Index>(two_ids.size()));
  for (std::size_t j = 0; j < two_ids.size(); ++j) msgs.col(static_cast<Index>(j)) = two.encode_stage_two(two_ids[j], partials);
  const bool decodable = two.decodable(two_ids);
  vector<Scalar> out(d);
  try {
    two.decode(one_ids, one, two_ids, msgs, out);
  } catch (const gradcode::not_decodable&) {
    if (decodable) return {outcome_kind::misreported, 0, "decodable() said yes, decode() refused"};
    throw;
  }
  if (!decodable) return {outcome_kind::misreported, 0, "decodable() said no, decode() decoded"};
  return {outcome_kind::decoded, relative_error(out, exact), {}};
}

struct straggler_job {
  std::vector<Index> stragglers;  ///< positions among the stage-2 workers
  bool tolerated = true;
  std::uint64_t seed = 0;
};

struct epoch_job {
  std::vector<Index> finished;
  Index tolerance = 0;
  Index stragglers = 0;  ///< how many stage-2 workers straggle (≤ tolerance: tolerated)
  std::uint64_t seed = 0;
};

// ---------------------------------------------------------------------------------------------
// GC-DL

struct iteration_job {
  std::uint64_t iteration = 0;
  bool through_messages = false;  ///< encode + quantize + decode instead of step()
};

template <class Scalar>
outcome run_iteration(const gradcode::gc_dl<Scalar>& scheme, const matrix<Scalar>& gradients, const vector<double>& exact,
                      const iteration_job& job) {
  vector<Scalar> g_hat(scheme.dimension());
  auto local = [&](Index j, Eigen::Ref<vector<Scalar>> f) { scheme.encode(j, gradients, f); };
  if (!job.through_messages || !scheme.sends_bits()) {
    scheme.step(job.iteration, local, g_hat);
  } else {
    const auto ids = scheme.responders(job.iteration);
    std::vector<gradcode::one_bit_vector<Scalar>> messages(ids.size());
    vector<Scalar> f(scheme.dimension());
    for (std::size_t t = 0; t < ids.size(); ++t) {
      scheme.encode(ids[t], gradients, f);
      scheme.quantize(ids[t], job.iteration, f, messages[t]);
    }
    scheme.decode(ids, messages, g_hat);
  }
  // SGC-DL with p = 0 is exact (Σ_j f_j = Σ_i ∇L_i); the 1-bit ĝ is a random estimate, checked
  // bit for bit against the serial run only.
  const double err = exact.size() > 0 ? relative_error(g_hat, exact) : 0.0;
  return {outcome_kind::decoded, err, fingerprint(g_hat)};
}

}  // namespace

TEMPLATE_TEST_CASE(
    "two-stage: 4 threads decoding one shared stage-2 code with their own stage-2 straggler patterns get the "
    "exact sum or the serial outcome and decodable() agrees with decode() under the default and a 2-entry "
    "and no plan cache",
    "[concurrency][two_stage][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1305);
  const auto setup = make_epoch(seed);
  const Index s = 2;
  for (const std::size_t cache : gradcode::test::cache_sizes()) {
    gradcode::two_stage_options options;
    options.decode.plan_cache_size = cache;
    const gradcode::two_stage_code<Scalar> epoch(
        {.throughputs = setup.throughputs, .partitions = setup.partitions, .stage_one_workers = setup.stage_one, .seed = seed},
        options);
    const std::vector<Index> finished{7, 2};
    const auto two = epoch.stage_two(finished, s);
    REQUIRE(two.coded());
    const auto twin = two;  // its own (cold) plan cache
    const auto n2 = static_cast<Index>(two.stage_two_workers().size());
    const matrix<Scalar> partials = random_partials<Scalar>(40, setup.partitions, seed);
    const vector<double> exact = partials.template cast<double>().rowwise().sum();
    std::vector<straggler_job> all;
    for (Index f = 0; f <= s; ++f)
      gradcode::test::for_each_subset(n2, f, [&](const std::vector<Index>& st) { all.push_back({st, true, all.size() + 1}); });
    Index count = 0;
    gradcode::test::for_each_subset(n2, s + 1, [&](const std::vector<Index>& st) {
      if (count++ % 3 == 0) all.push_back({st, false, all.size() + 1});
    });
    const auto jobs = gradcode::test::share_out(all, gradcode::test::concurrency_threads, seed);
    auto run_on = [&](const gradcode::stage_two_code<Scalar>& c) {
      return [&epoch, shared = &c, &partials, &exact](std::size_t t, const straggler_job& job) {
        return decode_epoch(epoch, *shared, partials, exact, job.stragglers, job.seed * 31 + t);
      };
    };
    const auto serial = gradcode::test::run_serially(jobs, run_on(twin));
    const auto concurrent = gradcode::test::run_concurrently(jobs, run_on(two));
    const auto summary = gradcode::test::compare(concurrent, serial, gradcode::test::error_bound<Scalar>());
    Index expected_jobs = 0, tolerated_refused = 0;
    for (std::size_t t = 0; t < jobs.size(); ++t) {
      expected_jobs += static_cast<Index>(jobs[t].size());
      for (std::size_t j = 0; j < jobs[t].size(); ++j)
        tolerated_refused += jobs[t][j].tolerated && concurrent[t][j].kind != outcome_kind::decoded;
    }
    INFO("two-stage M = 10 K = 20 M1 = 6 M_c = 2 s = 2 <" << gradcode::test::scalar_name<Scalar>() << ">, plan cache " << cache
                                                          << ", seed " << seed);
    gradcode::test::check_summary(
        summary, std::string("two-stage <") + gradcode::test::scalar_name<Scalar>() + "> cache " + std::to_string(cache),
        expected_jobs);
    if constexpr (sizeof(Scalar) >= sizeof(double)) CHECK(tolerated_refused == 0);
    CHECK(two.code().cached_plans() <= cache);
    if (cache >= 4096) CHECK(two.code().cached_plans() == twin.code().cached_plans());
  }
}

TEMPLATE_TEST_CASE(
    "two-stage: 4 threads each building stage 2 from one shared stage-1 code with their own finished workers "
    "and tolerance get the code a serial build gives and decode the exact sum",
    "[concurrency][two_stage][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1306);
  const auto setup = make_epoch(seed);
  const gradcode::two_stage_code<Scalar> epoch(
      {.throughputs = setup.throughputs, .partitions = setup.partitions, .stage_one_workers = setup.stage_one, .seed = seed});
  const gradcode::two_stage_code<Scalar> twin(epoch);
  const matrix<Scalar> partials = random_partials<Scalar>(40, setup.partitions, seed + 1);
  const vector<double> exact = partials.template cast<double>().rowwise().sum();
  std::mt19937_64 rng(seed);
  std::vector<epoch_job> all;
  for (int r = 0; r < 48; ++r) {
    epoch_job job;
    std::vector<Index> pool = setup.stage_one;
    std::shuffle(pool.begin(), pool.end(), rng);
    job.finished.assign(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(rng() % pool.size()));  // 0..M1−1 finished
    job.tolerance = static_cast<Index>(rng() % 3);
    job.stragglers = static_cast<Index>(rng() % static_cast<std::uint64_t>(job.tolerance + 1));
    job.seed = rng();
    all.push_back(std::move(job));
  }
  const auto jobs = gradcode::test::share_out(all, gradcode::test::concurrency_threads, seed);
  auto run_on = [&](const gradcode::two_stage_code<Scalar>& stage_one) {
    return [shared = &stage_one, &partials, &exact](std::size_t t, const epoch_job& job) {
      const auto two = shared->stage_two(job.finished, job.tolerance);
      std::vector<Index> stragglers;
      if (two.coded()) {
        std::mt19937_64 pick(job.seed);
        std::vector<Index> pos(two.stage_two_workers().size());
        std::iota(pos.begin(), pos.end(), Index{0});
        std::shuffle(pos.begin(), pos.end(), pick);
        stragglers.assign(pos.begin(), pos.begin() + job.stragglers);
        std::sort(stragglers.begin(), stragglers.end());
      }
      outcome o = decode_epoch(*shared, two, partials, exact, stragglers, job.seed + t);
      // What was built: stage-2 workers, remaining partitions and B2, bit for bit.
      std::uint64_t h = gradcode::test::fnv1a(two.stage_two_workers().data(), two.stage_two_workers().size_bytes());
      h = gradcode::test::fnv1a(two.remaining_partitions().data(), two.remaining_partitions().size_bytes(), h);
      if (two.coded()) {
        const matrix<double> B = two.code().encoding_matrix().toDense();
        h = gradcode::test::fnv1a(B.data(), static_cast<std::size_t>(B.size()) * sizeof(double), h);
      }
      if (o.kind == outcome_kind::decoded) o.what = hex(h);
      return o;
    };
  };
  const auto serial = gradcode::test::run_serially(jobs, run_on(twin));
  const auto concurrent = gradcode::test::run_concurrently(jobs, run_on(epoch));
  const auto summary = gradcode::test::compare(concurrent, serial, gradcode::test::error_bound<Scalar>());
  Index expected_jobs = 0;
  for (const auto& j : jobs) expected_jobs += static_cast<Index>(j.size());
  INFO("two-stage M = 10 K = 20 M1 = 6 <" << gradcode::test::scalar_name<Scalar>() << ">, seed " << seed);
  gradcode::test::check_summary(summary, std::string("two-stage epochs <") + gradcode::test::scalar_name<Scalar>() + ">",
                                expected_jobs);
  if constexpr (sizeof(Scalar) >= sizeof(double)) CHECK(summary.decoded == expected_jobs);  // every job is tolerated
}

TEMPLATE_TEST_CASE(
    "gc_dl: 4 threads stepping and decoding overlapping iterations of one shared scheme get bit for bit "
    "the serial ĝ — 1-bit GC-DL and SGC-DL — and SGC-DL with p = 0 the exact sum",
    "[concurrency][gc_dl][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1307);
  const Index w = 200, samples = 30;  // w not a multiple of 64: the last word is partial
  const auto placement = gradcode::place_samples({.workers = 12, .samples = samples, .replication = 3, .seed = 3});
  const matrix<Scalar> gradients = random_partials<Scalar>(w, samples, seed);
  const vector<double> exact = gradients.template cast<double>().rowwise().sum();
  struct scheme_case {
    gradcode::gc_dl_method method;
    double p;
  };
  for (const auto& sc : {scheme_case{gradcode::gc_dl_method::one_bit, 0.25}, scheme_case{gradcode::gc_dl_method::sgc, 0.0}}) {
    const gradcode::gc_dl<Scalar> scheme(
        {.placement = placement, .dimension = w, .straggler_probability = sc.p, .method = sc.method, .seed = seed});
    const gradcode::gc_dl<Scalar> twin(scheme);
    const vector<double> truth = sc.method == gradcode::gc_dl_method::sgc ? exact : vector<double>();
    std::vector<iteration_job> all;
    for (std::uint64_t t = 0; t < 40; ++t) all.push_back({t, t % 2 == 1});
    const auto jobs = gradcode::test::share_out(all, gradcode::test::concurrency_threads, seed);
    auto run_on = [&](const gradcode::gc_dl<Scalar>& c) {
      return [shared = &c, &gradients, &truth](std::size_t, const iteration_job& job) {
        return run_iteration(*shared, gradients, truth, job);
      };
    };
    const auto serial = gradcode::test::run_serially(jobs, run_on(twin));
    const auto concurrent = gradcode::test::run_concurrently(jobs, run_on(scheme));
    const auto summary = gradcode::test::compare(concurrent, serial, gradcode::test::error_bound<Scalar>());
    Index expected_jobs = 0;
    for (const auto& j : jobs) expected_jobs += static_cast<Index>(j.size());
    INFO(gradcode::method_name(sc.method) << " p = " << sc.p << " <" << gradcode::test::scalar_name<Scalar>() << ">, seed "
                                          << seed);
    gradcode::test::check_summary(
        summary, std::string(gradcode::method_name(sc.method)) + " <" + gradcode::test::scalar_name<Scalar>() + ">",
        expected_jobs);
    CHECK(summary.decoded == expected_jobs);
  }
}

TEMPLATE_TEST_CASE(
    "one-bit quantizer: 4 threads quantizing interleaved word-aligned ranges of one message into one shared "
    "buffer give the bits of a single quantize()",
    "[concurrency][one_bit][threads]", float, double) {
  using Scalar = TestType;
  const std::uint64_t seed = gradcode::test::test_seed(1308);
  const Index w = 64 * 40 + 17;  // 41 words, the last one partial
  const gradcode::one_bit_quantizer<Scalar> q({.length = w, .seed = seed});
  const matrix<Scalar> f = random_partials<Scalar>(w, 6, seed);
  constexpr int threads = gradcode::test::concurrency_threads;
  constexpr Index chunk = 3;  // words per range: neighbouring words are written by different threads
  Index messages = 0, equal = 0;
  for (Index m = 0; m < f.cols(); ++m) {
    const gradcode::draw_stream stream{.worker = static_cast<std::uint64_t>(m), .iteration = 7};
    const vector<Scalar> fm = f.col(m);
    const auto h = q.quantize(fm, stream);
    std::vector<std::uint64_t> words(h.words.size(), ~std::uint64_t{0});
    std::vector<std::string> errors(threads);
    {
      std::latch start(threads);
      std::vector<std::jthread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          start.arrive_and_wait();
          try {
            for (Index c = t; c * chunk * 64 < w; c += threads) {
              const Index first = c * chunk * 64, len = std::min(chunk * 64, w - first);
              q.quantize_range(std::span<const Scalar>(fm.data() + first, static_cast<std::size_t>(len)), h.scale, stream, first,
                               std::span<std::uint64_t>(words.data() + c * chunk, static_cast<std::size_t>((len + 63) / 64)));
            }
          } catch (const std::exception& e) {
            errors[static_cast<std::size_t>(t)] = e.what();
          }
        });
    }
    for (const auto& e : errors) CHECK(e.empty());
    ++messages;
    equal += words == h.words;
  }
  CHECK(equal == messages);
}
