// SPDX-License-Identifier: MIT
// Two-stage dynamic code (wang TSDCFL §4.2): stage-1 blocks ∝ W_m, the deadline's C vector (T3),
// stage-2 loads ∝ W_m (eq. (16)) and the span condition of Lemma 1 — every pattern of ≤ s
// stragglers among the M − M_c stage-2 workers decodes the exact Σ_k g_k (exhaustive for
// M ≤ 9, random for M = 50–200), never a wrong sum beyond s, K_c = K without coding, and the
// typed errors; stage_two_code is a gradcode::codec over the M workers whose decode reports the
// workers used, the amplification and the error estimate, and leaves `out` untouched on a refusal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <gradcode/core/codec.hpp>
#include <gradcode/dynamic/two_stage.hpp>

#include "codes/code_properties.hpp"

using gradcode::Index;
using gradcode::test::what_contains;

// One codec interface (core/codec.hpp, issue 14): the master's decode of an epoch is a codec over its M workers.
static_assert(gradcode::codec<gradcode::stage_two_code<float>> && gradcode::codec<gradcode::stage_two_code<double>>);

namespace {

template <class Scalar>
using mat = gradcode::matrix<Scalar>;

/// One random epoch: throughputs, K, stage-1 workers, finished subset, s.
struct epoch_case {
  std::vector<double> throughputs;
  Index K = 0;
  std::vector<Index> stage_one, finished;
  Index s = 0;
  std::uint64_t seed = 1;
  std::string str() const {
    auto list = [](const std::vector<Index>& v) {
      std::string out = "{";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(v[i]);
      }
      return out + "}";
    };
    std::string w = "W={";
    for (std::size_t i = 0; i < throughputs.size(); ++i) {
      if (i) w += ',';
      w += gradcode::detail::format_g(throughputs[i]);
    }
    return w + "} K=" + std::to_string(K) + " stage1=" + list(stage_one) + " finished=" + list(finished) +
           " s=" + std::to_string(s) + " seed=" + std::to_string(seed);
  }
};

/// Random case over M workers: M1 in [1, M − 1], a random subset of the stage-1 workers finished
/// (never all of them, so stage 2 codes), s in [0, min(M − M1, max_s)].
epoch_case random_case(Index M, Index K, Index max_s, std::mt19937_64& rng, std::uint64_t seed) {
  epoch_case c;
  c.seed = seed;
  c.K = K;
  std::uniform_real_distribution<double> w(0.5, 8.0);
  for (Index m = 0; m < M; ++m) c.throughputs.push_back(w(rng));
  std::vector<Index> ids(static_cast<std::size_t>(M));
  std::iota(ids.begin(), ids.end(), Index{0});
  std::shuffle(ids.begin(), ids.end(), rng);
  const Index m1 = std::uniform_int_distribution<Index>(1, M - 1)(rng);
  c.stage_one.assign(ids.begin(), ids.begin() + m1);
  std::shuffle(c.stage_one.begin(), c.stage_one.end(), rng);
  const Index done = std::uniform_int_distribution<Index>(0, m1 - 1)(rng);
  c.finished.assign(c.stage_one.begin(), c.stage_one.begin() + done);
  c.s = std::uniform_int_distribution<Index>(0, std::min(M - m1, max_s))(rng);
  return c;
}

template <class Scalar>
mat<Scalar> random_partials(Index d, Index K, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  mat<Scalar> g(d, K);
  for (Index i = 0; i < g.size(); ++i) g.data()[i] = static_cast<Scalar>(normal(rng));
  return g;
}

struct sweep {
  double worst = 0;
  Index patterns = 0, refused = 0, wrong = 0;
  Index float_refusals = 0;  ///< refused in float although the pattern decodes in double (amplification too high)
  Index bad_refusals = 0;    ///< refused tolerated patterns that do not have that excuse
  Index bad_reports = 0;     ///< decodes whose report is not: the ids used ascending, amplification >= 1, error <= the bound
};

/// Encodes every message of the epoch, then decodes from the stage-1 results plus the stage-2
/// results of every (all or `random` random) set of stage-2 workers without `stragglers` of them,
/// as one (ids, messages) set in a random order; the stage-1 messages come from
/// two_stage_code::encode_stage_one, the codec's encode must agree.
template <class Scalar>
void decode_patterns(const gradcode::two_stage_code<Scalar>& epoch, const gradcode::stage_two_code<Scalar>& two,
                     const mat<Scalar>& partials, Index stragglers, Index random, std::mt19937_64& rng, sweep& st) {
  const Index d = partials.rows();
  const gradcode::vector<double> exact = partials.template cast<double>().rowwise().sum();
  const auto finished = two.finished_workers();
  std::vector<Index> one_ids(finished.begin(), finished.end());
  std::shuffle(one_ids.begin(), one_ids.end(), rng);  // any order
  mat<Scalar> one(d, static_cast<Index>(one_ids.size()));
  for (std::size_t j = 0; j < one_ids.size(); ++j) one.col(static_cast<Index>(j)) = epoch.encode_stage_one(one_ids[j], partials);
  const auto workers = two.stage_two_workers();
  const Index n = static_cast<Index>(workers.size());
  mat<Scalar> all(d, n);
  for (Index j = 0; j < n; ++j) all.col(j) = two.encode_stage_two(workers[static_cast<std::size_t>(j)], partials);
  for (std::size_t j = 0; j < one_ids.size(); ++j) {
    gradcode::vector<Scalar> m(d);
    two.encode(one_ids[j], partials, m);  // the codec's encode of a finished worker: its stage-1 message
    if (m != one.col(static_cast<Index>(j))) ++st.bad_reports;
  }
  const double bound = gradcode::test::error_bound<Scalar>();
  auto run = [&](const std::vector<Index>& missing) {
    // Column c < M_c: stage-1 message one_ids[c]; else stage-2 message of workers[c − M_c].
    std::vector<Index> cols;
    const Index n1 = static_cast<Index>(one_ids.size());
    for (Index c = 0; c < n1; ++c) cols.push_back(c);
    for (Index j = 0; j < n; ++j)
      if (std::find(missing.begin(), missing.end(), j) == missing.end()) cols.push_back(n1 + j);
    std::shuffle(cols.begin(), cols.end(), rng);
    std::vector<Index> ids;
    mat<Scalar> msgs(d, static_cast<Index>(cols.size()));
    for (std::size_t t = 0; t < cols.size(); ++t) {
      const Index c = cols[t];
      ids.push_back(c < n1 ? one_ids[static_cast<std::size_t>(c)] : workers[static_cast<std::size_t>(c - n1)]);
      msgs.col(static_cast<Index>(t)) = c < n1 ? one.col(c) : all.col(c - n1);
    }
    ++st.patterns;
    const bool decodable = two.decodable(gradcode::pattern::from_ids(two.nodes(), ids));
    try {
      gradcode::vector<Scalar> g(d);
      const gradcode::decode_report r = two.decode(ids, msgs, g);
      const double err = (g.template cast<double>() - exact).norm() / exact.norm();
      st.worst = std::max(st.worst, err);
      if (!(err <= bound)) ++st.wrong;
      std::vector<Index> sorted = ids;
      std::sort(sorted.begin(), sorted.end());
      if (r.used != sorted || !(r.amplification >= 1) || !(r.estimated_error <= two.max_relative_error()) || !r.exact ||
          !r.corrupted.empty() || !decodable)
        ++st.bad_reports;
    } catch (const gradcode::not_decodable&) {
      if (decodable) ++st.bad_reports;
      ++st.refused;
      if (static_cast<Index>(missing.size()) > two.tolerance()) return;
      // A tolerated pattern may be refused only in float, and only when it decodes in double with
      // an amplification beyond what float carries (the codes' rule, code_properties.hpp).
      bool excused = false;
      if constexpr (std::is_same_v<Scalar, float>) {
        const gradcode::linear_code<double> twin(
            gradcode::code_definition{two.code().support(), two.code().encoding_matrix(), two.code().tolerance()});
        std::vector<Index> local;
        for (Index j = 0; j < n; ++j)
          if (std::find(missing.begin(), missing.end(), j) == missing.end()) local.push_back(j);
        try {
          excused = twin.plan(gradcode::pattern::from_ids(n, local))->amplification() > two.code().max_amplification();
        } catch (const gradcode::not_decodable&) {
        }
      }
      ++(excused ? st.float_refusals : st.bad_refusals);
    }
  };
  if (random == 0) {
    std::vector<Index> missing(static_cast<std::size_t>(stragglers));
    std::iota(missing.begin(), missing.end(), Index{0});
    if (stragglers == 0) {
      run({});
      return;
    }
    do run(missing);
    while (gradcode::detail::next_combination(missing, n));
  } else {
    std::vector<Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), Index{0});
    for (Index t = 0; t < random; ++t) {
      std::shuffle(order.begin(), order.end(), rng);
      run(std::vector<Index>(order.begin(), order.begin() + stragglers));
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE(
    "two-stage: every pattern of at most s stage-2 stragglers decodes the exact full gradient (random epochs, M <= 9)",
    "[two_stage][exhaustive]", float, double) {
  std::mt19937_64 rng(gradcode::test::test_seed(2024));
  sweep total;
  Index epochs = 0;
  for (Index M = 2; M <= 9; ++M)
    for (int rep = 0; rep < 12; ++rep) {
      const Index K = std::uniform_int_distribution<Index>(1, 30)(rng);
      const auto c = random_case(M, K, 4, rng, static_cast<std::uint64_t>(rep + 1));
      INFO(c.str());
      const gradcode::two_stage_code<TestType> epoch(
          {.throughputs = c.throughputs, .partitions = c.K, .stage_one_workers = c.stage_one, .seed = c.seed});
      const auto two = epoch.stage_two(c.finished, c.s);
      const auto partials = random_partials<TestType>(17, c.K, c.seed + 100);
      sweep st;
      if (!two.coded()) continue;  // the finished workers happened to hold every partition (zero-load others)
      ++epochs;
      for (Index f = 0; f <= c.s; ++f) decode_patterns<TestType>(epoch, two, partials, f, 0, rng, st);
      CHECK(st.wrong == 0);
      CHECK(st.bad_reports == 0);
      CHECK(st.bad_refusals == 0);
      if constexpr (std::is_same_v<TestType, double>) CHECK(st.refused == 0);
      total.worst = std::max(total.worst, st.worst);
      total.patterns += st.patterns;
      total.float_refusals += st.float_refusals;
    }
  WARN("two-stage " << gradcode::test::scalar_name<TestType>() << ": " << epochs << " random epochs, " << total.patterns
                    << " straggler patterns, worst relative error " << total.worst << ", " << total.float_refusals
                    << " refused in float for amplification (decode in double)");
  CHECK(epochs > 60);
  CHECK(total.worst <= gradcode::test::error_bound<TestType>());
}

TEST_CASE("two-stage: with s + 1 stage-2 stragglers it returns the exact sum or throws not_decodable, never a wrong sum",
          "[two_stage][exhaustive][errors]") {
  std::mt19937_64 rng(gradcode::test::test_seed(7));
  sweep total;
  for (Index M = 3; M <= 8; ++M)
    for (int rep = 0; rep < 6; ++rep) {
      const auto c =
          random_case(M, std::uniform_int_distribution<Index>(2, 20)(rng), 3, rng, static_cast<std::uint64_t>(rep + 9));
      INFO(c.str());
      const gradcode::two_stage_code<double> epoch(
          {.throughputs = c.throughputs, .partitions = c.K, .stage_one_workers = c.stage_one});
      const auto two = epoch.stage_two(c.finished, c.s);
      if (!two.coded() || c.s + 1 >= static_cast<Index>(two.stage_two_workers().size())) continue;
      sweep st;
      decode_patterns<double>(epoch, two, random_partials<double>(9, c.K, 3), c.s + 1, 0, rng, st);
      CHECK(st.wrong == 0);
      CHECK(st.bad_reports == 0);
      total.patterns += st.patterns;
      total.refused += st.refused;
    }
  WARN("two-stage, s + 1 stragglers: " << total.patterns << " patterns, " << total.refused
                                       << " refused with not_decodable, 0 wrong");
  CHECK(total.refused > 0);  // every remaining partition sits on exactly s + 1 stage-2 workers
}

TEMPLATE_TEST_CASE("two-stage: 300 random patterns of s stage-2 stragglers decode the exact sum (M = 50 and 200)",
                   "[two_stage][random]", float, double) {
  std::mt19937_64 rng(gradcode::test::test_seed(99));
  struct big {
    Index M, K, m1, finished, s;
  };
  // Stage 2 of 40 and of 50 workers: near the top of null_space.hpp's safe region.
  for (const big b : {big{50, 400, 44, 20, 5}, big{200, 400, 195, 150, 4}}) {
    epoch_case c;
    std::uniform_real_distribution<double> w(1.0, 8.0);
    for (Index m = 0; m < b.M; ++m) c.throughputs.push_back(w(rng));
    std::vector<Index> ids(static_cast<std::size_t>(b.M));
    std::iota(ids.begin(), ids.end(), Index{0});
    std::shuffle(ids.begin(), ids.end(), rng);
    c.stage_one.assign(ids.begin(), ids.begin() + b.m1);
    c.finished.assign(c.stage_one.begin(), c.stage_one.begin() + b.finished);
    c.K = b.K;
    c.s = b.s;
    INFO("M=" << b.M << " K=" << b.K << " M1=" << b.m1 << " M_c=" << b.finished << " s=" << b.s);
    const gradcode::two_stage_code<TestType> epoch(
        {.throughputs = c.throughputs, .partitions = c.K, .stage_one_workers = c.stage_one});
    const auto two = epoch.stage_two(c.finished, c.s);
    REQUIRE(two.coded());
    CHECK(static_cast<Index>(two.stage_two_workers().size()) == b.M - b.finished);
    sweep st;
    decode_patterns<TestType>(epoch, two, random_partials<TestType>(8, c.K, 5), c.s, 300, rng, st);
    CHECK(st.wrong == 0);
    CHECK(st.bad_reports == 0);
    CHECK(st.bad_refusals == 0);
    if constexpr (std::is_same_v<TestType, double>) CHECK(st.refused == 0);
    WARN("two-stage " << gradcode::test::scalar_name<TestType>() << " M=" << b.M << " K=" << b.K << " stage-2 workers "
                      << two.stage_two_workers().size() << " s=" << b.s << ": worst relative error " << st.worst << ", "
                      << st.float_refusals << " of " << st.patterns << " refused in float for amplification");
  }
}

TEST_CASE("two-stage: the seed of B2 sits in two_stage_params, and the same seed reproduces the same B2",
          "[two_stage][structure]") {
  CHECK(gradcode::two_stage_params{}.seed == 1);
  std::mt19937_64 rng(gradcode::test::test_seed(1404));
  Index compared = 0;
  for (Index M = 3; M <= 9; ++M)
    for (std::uint64_t seed : {1ull, 7ull, 0xfedcba9876543210ull}) {
      const auto c = random_case(M, std::uniform_int_distribution<Index>(2, 24)(rng), 3, rng, seed);
      INFO(c.str());
      const gradcode::two_stage_params params{
          .throughputs = c.throughputs, .partitions = c.K, .stage_one_workers = c.stage_one, .seed = c.seed};
      const gradcode::two_stage_code<double> a(params), b(params);
      CHECK(a.seed() == c.seed);
      const auto two_a = a.stage_two(c.finished, c.s), two_b = b.stage_two(c.finished, c.s);
      REQUIRE(two_a.coded() == two_b.coded());
      if (!two_a.coded()) continue;
      const gradcode::matrix<double> Ba(two_a.code().encoding_matrix()), Bb(two_b.code().encoding_matrix());
      CHECK((Ba - Bb).cwiseAbs().maxCoeff() == 0.0);
      ++compared;
    }
  CHECK(compared > 10);
}

TEST_CASE("two-stage: stage-1 blocks are disjoint, cover all K partitions and follow W_m", "[two_stage][structure]") {
  const std::vector<double> W = {2, 2, 4, 4, 8, 8};
  const gradcode::two_stage_code<double> epoch({.throughputs = W, .partitions = 40, .stage_one_workers = {5, 0, 2, 3}});
  CHECK(std::vector<Index>(epoch.stage_one_workers().begin(), epoch.stage_one_workers().end()) == std::vector<Index>{0, 2, 3, 5});
  // Σ W over {0, 2, 3, 5} = 18: exact shares 40·2/18 = 4.44, 8.89, 8.89, 17.8.
  CHECK(epoch.stage_one_load(0) == 4);
  CHECK(epoch.stage_one_load(2) == 9);
  CHECK(epoch.stage_one_load(3) == 9);
  CHECK(epoch.stage_one_load(5) == 18);
  CHECK(epoch.stage_one_load(1) == 0);
  CHECK(epoch.stage_one_load(4) == 0);
  for (Index k = 0; k < 40; ++k) {
    const Index m = epoch.owner(k);
    CHECK(k >= epoch.stage_one_first(m));
    CHECK(k < epoch.stage_one_first(m) + epoch.stage_one_load(m));
  }
  const auto g = random_partials<double>(5, 40, 1);
  CHECK((epoch.encode_stage_one(2, g) - g.middleCols(epoch.stage_one_first(2), 9).rowwise().sum()).norm() == 0);
}

TEST_CASE(
    "two-stage: new workers' loads follow eq. (16) — proportional to W_m within rounding — and every remaining partition sits on "
    "s + 1 stage-2 workers",
    "[two_stage][structure]") {
  std::mt19937_64 rng(gradcode::test::test_seed(16));
  Index checked = 0;
  for (int rep = 0; rep < 200; ++rep) {
    const Index M = std::uniform_int_distribution<Index>(3, 12)(rng);
    const auto c = random_case(M, std::uniform_int_distribution<Index>(1, 60)(rng), M, rng, 1);
    INFO(c.str());
    const gradcode::two_stage_code<double> epoch(
        {.throughputs = c.throughputs, .partitions = c.K, .stage_one_workers = c.stage_one});
    const auto two = epoch.stage_two(c.finished, c.s);
    if (!two.coded()) continue;
    const Index R = two.remaining();
    CHECK(R + static_cast<Index>(two.covered_partitions().size()) == c.K);
    // Unfinished stage-1 workers keep exactly their blocks.
    const auto workers = two.stage_two_workers();
    const Index unfinished = static_cast<Index>(c.stage_one.size() - c.finished.size());
    for (Index j = 0; j < unfinished; ++j) {
      const Index m = workers[static_cast<std::size_t>(j)];
      std::vector<Index> block(static_cast<std::size_t>(epoch.stage_one_load(m)));
      std::iota(block.begin(), block.end(), epoch.stage_one_first(m));
      CHECK(two.stage_two_partitions(m) == block);
    }
    // eq. (16): Σ n_m = (K − K_c)(s + 1) − Σ_l n_l = R·s, n_m ≈ R·s·W_m / Σ W (no cap at R active).
    double wsum = 0;
    for (std::size_t j = static_cast<std::size_t>(unfinished); j < workers.size(); ++j)
      wsum += c.throughputs[static_cast<std::size_t>(workers[j])];
    Index total = 0;
    bool capped = false;
    for (std::size_t j = static_cast<std::size_t>(unfinished); j < workers.size(); ++j)
      capped = capped ||
               static_cast<double>(R * c.s) * c.throughputs[static_cast<std::size_t>(workers[j])] / wsum > static_cast<double>(R);
    for (std::size_t j = static_cast<std::size_t>(unfinished); j < workers.size(); ++j) {
      const Index m = workers[j];
      const double share = static_cast<double>(R * c.s) * c.throughputs[static_cast<std::size_t>(m)] / wsum;
      CHECK(two.stage_two_load(m) <= R);
      if (!capped) CHECK(std::abs(static_cast<double>(two.stage_two_load(m)) - share) < 1.0);
      total += two.stage_two_load(m);
    }
    CHECK(total == R * c.s);
    for (Index k = 0; k < R; ++k) CHECK(static_cast<Index>(two.code().support().holders_of(k).size()) == c.s + 1);
    ++checked;
  }
  CHECK(checked > 100);
}

TEST_CASE("two-stage: when the finished workers cover all K partitions (K_c = K) nothing is coded and the stage-1 sum is exact",
          "[two_stage][structure]") {
  const std::vector<double> W = {1, 2, 3, 4};
  const gradcode::two_stage_code<double> epoch({.throughputs = W, .partitions = 10, .stage_one_workers = {1, 3}});
  // s = 5 > M − M1 = 2 would not fit a coded stage 2, but nothing is coded here.
  const auto two = epoch.stage_two(std::vector<Index>{3, 1}, 5);
  CHECK_FALSE(two.coded());
  CHECK(two.remaining() == 0);
  CHECK(two.stage_two_workers().size() == 2);  // the held-back workers were never started
  CHECK(two.responders_needed() == 0);
  const auto g = random_partials<double>(6, 10, 4);
  gradcode::matrix<double> msgs(6, 2);
  msgs.col(0) = epoch.encode_stage_one(3, g);
  msgs.col(1) = epoch.encode_stage_one(1, g);
  const std::vector<Index> ids = {3, 1};
  const auto sum = two.decode(ids, msgs);
  CHECK((sum - g.rowwise().sum()).norm() <= 1e-12 * g.rowwise().sum().norm());
  gradcode::vector<double> out(6);
  CHECK(two.decode(ids, msgs, std::vector<Index>{}, gradcode::matrix<double>(6, 0), out).used == std::vector<Index>{1, 3});
  CHECK(two.decodable(std::vector<Index>{}));
  CHECK(two.decodable(gradcode::pattern::from_ids(4, ids)));
  CHECK_FALSE(two.decodable(gradcode::pattern::from_ids(4, std::vector<Index>{3})));
  CHECK(two.load(0) == 0);
  CHECK_THROWS_MATCHES(two.encode_stage_two(0, g), gradcode::invalid_input, what_contains("stage 2 is not coded"));
  CHECK_THROWS_MATCHES(two.encode(0, g, out), gradcode::invalid_input, what_contains("stage 2 is not coded"));
  CHECK_THROWS_MATCHES(two.decode(ids, msgs, std::vector<Index>{0}, gradcode::matrix<double>(6, 1), out), gradcode::invalid_input,
                       what_contains("stage 2 is not coded (K_c = K), yet 1 stage-2 results"));
  gradcode::matrix<double> three(6, 3);
  three << msgs, gradcode::matrix<double>::Zero(6, 1);
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{3, 1, 0}, three), gradcode::invalid_input,
                       what_contains("stage 2 is not coded (K_c = K), yet worker 0 sent a stage-2 result"));
}

TEST_CASE("two-stage: the paper's Fig. 4 walk-through — worker 3 is coded with worker 2 and either one finishes the epoch",
          "[two_stage][kat]") {
  // wang §4.2, Fig. 4: workers 1, 2 start; worker 1 delivers by the deadline; worker 2 keeps g_2
  // and worker 3 gets a coded copy of it (s = 1): the first of the two to deliver ends the epoch.
  const gradcode::two_stage_code<double> epoch({.throughputs = {1, 1, 1}, .partitions = 2, .stage_one_workers = {0, 1}});
  const auto two = epoch.stage_two(std::vector<Index>{0}, 1);
  REQUIRE(two.coded());
  CHECK(std::vector<Index>(two.stage_two_workers().begin(), two.stage_two_workers().end()) == std::vector<Index>{1, 2});
  CHECK(two.stage_two_partitions(1) == std::vector<Index>{1});
  CHECK(two.stage_two_partitions(2) == std::vector<Index>{1});
  CHECK(two.responders_needed() == 1);
  const auto g = random_partials<double>(4, 2, 8);
  gradcode::matrix<double> one(4, 1);
  one.col(0) = epoch.encode_stage_one(0, g);
  for (Index w : {1, 2}) {
    gradcode::matrix<double> m(4, 1);
    m.col(0) = two.encode_stage_two(w, g);
    gradcode::matrix<double> both(4, 2);
    both << one, m;
    const auto sum = two.decode(std::vector<Index>{0, w}, both);
    CHECK((sum - g.rowwise().sum()).norm() <= 1e-12 * g.rowwise().sum().norm());
  }
  // Epoch 3 of Fig. 4: both stage-1 workers deliver in time: no coding.
  CHECK_FALSE(epoch.stage_two(std::vector<Index>{0, 1}, 1).coded());
}

TEST_CASE("two-stage: a worker's stage-2 message from its held partitions equals the one from the full partials",
          "[two_stage][structure]") {
  const gradcode::two_stage_code<float> epoch({.throughputs = {3, 1, 2, 5, 1}, .partitions = 12, .stage_one_workers = {0, 3, 4}});
  const auto two = epoch.stage_two(std::vector<Index>{3}, 2);
  const auto g = random_partials<float>(33, 12, 2);
  for (Index m : two.stage_two_workers()) {
    const auto parts = two.stage_two_partitions(m);
    gradcode::matrix<float> held(33, static_cast<Index>(parts.size()));
    for (std::size_t t = 0; t < parts.size(); ++t) held.col(static_cast<Index>(t)) = g.col(parts[t]);
    gradcode::vector<float> a(33), b(33);
    two.encode_stage_two_held(m, held, a);
    two.encode_stage_two(m, g, b);
    CHECK((a - b).norm() <= 1e-5f * (1 + b.norm()));
  }
}

TEST_CASE("two-stage: invalid parameters and bad call data throw typed errors naming the constraint", "[two_stage][errors]") {
  using code = gradcode::two_stage_code<double>;
  CHECK_THROWS_MATCHES(code({.throughputs = {}, .partitions = 3, .stage_one_workers = {0}}), gradcode::invalid_parameters,
                       what_contains("no workers"));
  CHECK_THROWS_MATCHES(code({.throughputs = {1, 1}, .partitions = 0, .stage_one_workers = {0}}), gradcode::invalid_parameters,
                       what_contains("K = 0; need K >= 1"));
  CHECK_THROWS_MATCHES(code({.throughputs = {1, -1}, .partitions = 3, .stage_one_workers = {0}}), gradcode::invalid_parameters,
                       what_contains("worker 1 has throughput W = -1"));
  CHECK_THROWS_MATCHES(code({.throughputs = {1, 1}, .partitions = 3, .stage_one_workers = {}}), gradcode::invalid_parameters,
                       what_contains("need 1 <= M1 <= M = 2"));
  CHECK_THROWS_MATCHES(code({.throughputs = {1, 1}, .partitions = 3, .stage_one_workers = {0, 2}}), gradcode::invalid_parameters,
                       what_contains("stage-1 worker 2 is outside [0, M = 2)"));
  CHECK_THROWS_MATCHES(code({.throughputs = {1, 1}, .partitions = 3, .stage_one_workers = {1, 1}}), gradcode::invalid_parameters,
                       what_contains("stage-1 worker 1 is listed twice"));

  const code epoch({.throughputs = {1, 1, 1, 1, 1}, .partitions = 10, .stage_one_workers = {0, 1, 2}});
  CHECK_THROWS_MATCHES(
      epoch.stage_two(std::vector<Index>{0}, 3), gradcode::invalid_parameters,
      what_contains("cannot tolerate s = 3 stragglers: each of the K - K_c = 6 remaining partitions needs s = 3 "
                    "further copies on distinct new workers, and only M - M1 = 2 workers were held back (s <= 2 would fit)"));
  CHECK_THROWS_MATCHES(epoch.stage_two(std::vector<Index>{0}, -1), gradcode::invalid_parameters,
                       what_contains("s = -1 is negative"));
  CHECK_THROWS_MATCHES(epoch.stage_two(std::vector<Index>{3}, 1), gradcode::invalid_input,
                       what_contains("worker 3 reported as finished but was not started in stage 1"));
  CHECK_THROWS_MATCHES(epoch.stage_two(std::vector<Index>{0, 0}, 1), gradcode::invalid_input, what_contains("listed twice"));
  CHECK_THROWS_MATCHES(epoch.encode_stage_one(4, random_partials<double>(3, 10, 1)), gradcode::invalid_input,
                       what_contains("worker 4 was not started in stage 1"));

  const auto two = epoch.stage_two(std::vector<Index>{0}, 2);  // stage 2: workers 1, 2 (unfinished), 3, 4 (new); needs 2
  REQUIRE(two.responders_needed() == 2);
  const auto g = random_partials<double>(4, 10, 3);
  gradcode::matrix<double> one(4, 1);
  one.col(0) = epoch.encode_stage_one(0, g);
  gradcode::matrix<double> single(4, 1);
  single.col(0) = two.encode_stage_two(1, g);
  gradcode::vector<double> out(4);
  // One stage-2 result where 2 are needed and worker 1's partitions are on workers 1, 3, 4 only.
  gradcode::matrix<double> pair(4, 2);
  pair << one, single;
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0, 1}, pair), gradcode::not_decodable,
                       what_contains("stage 2 (M - M_c = 4 workers, s = 2): 1 of 4 nodes responded, 2 needed"));
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0}, one, std::vector<Index>{1}, single, out), gradcode::not_decodable,
                       what_contains("stage 2 (M - M_c = 4 workers, s = 2): 1 of 4 nodes responded, 2 needed"));
  CHECK_FALSE(two.decodable(std::vector<Index>{1}));
  CHECK_FALSE(two.decodable(gradcode::pattern::from_ids(5, std::vector<Index>{0, 1})));
  // Without the finished worker's result its block is on no one: not decodable (one set), a role error (two sets).
  CHECK_THROWS_MATCHES(
      two.decode(std::vector<Index>{1}, single), gradcode::not_decodable,
      what_contains("stage-1 result of finished worker 0 is missing: no other worker holds its partitions 0..3"));
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{}, gradcode::matrix<double>(4, 0), std::vector<Index>{1}, single, out),
                       gradcode::invalid_input, what_contains("stage-1 result of finished worker 0 is missing"));
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0}, one, std::vector<Index>{0}, single, out), gradcode::invalid_input,
                       what_contains("worker 0 is not a stage-2 worker"));
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0, 0}, pair), gradcode::invalid_input,
                       what_contains("node 0 appears twice"));
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0, 5}, pair), gradcode::invalid_input, what_contains("outside"));
  CHECK_THROWS_MATCHES(two.partitions_of(5), gradcode::invalid_input, what_contains("worker id 5 is outside [0, M = 5)"));
  gradcode::matrix<double> bad = one;
  bad(2, 0) = std::numeric_limits<double>::quiet_NaN();
  gradcode::matrix<double> two_msgs(4, 2);
  two_msgs.col(0) = two.encode_stage_two(3, g);
  two_msgs.col(1) = two.encode_stage_two(4, g);
  CHECK_THROWS_MATCHES(two.decode(std::vector<Index>{0}, bad, std::vector<Index>{3, 4}, two_msgs, out), gradcode::invalid_input,
                       what_contains("message of node 0 has a non-finite value at element 2"));
  // Workers 3 and 4 suffice here (s = 2 among 4): the exact sum.
  const auto report = two.decode(std::vector<Index>{0}, one, std::vector<Index>{4, 3}, two_msgs.rowwise().reverse(), out);
  CHECK((out - g.rowwise().sum()).norm() <= 1e-9 * g.rowwise().sum().norm());
  CHECK(report.used == std::vector<Index>{0, 3, 4});
}

TEST_CASE("two-stage: throughputs near DBL_MAX or subnormal give the blocks, eq. (16) loads and exact decode of their ratios",
          "[two_stage][extreme]") {
  // W = r·2^e with r = 1, 2, 3: exact for every e, so the loads must not depend on e. At
  // e = 1021, ΣW overflows double (the shares were ∞/∞ cast to Index: negative loads and a heap
  // write out of bounds in stage 1); at e = −1060 every W is subnormal.
  const std::vector<double> ratio = {1, 2, 3, 1, 2, 3, 3, 1};
  const Index K = 24;
  const std::vector<Index> stage_one = {0, 1, 2, 3, 4};
  auto scaled = [&](int e) {
    std::vector<double> w;
    for (double r : ratio) w.push_back(std::ldexp(r, e));
    return w;
  };
  const gradcode::two_stage_code<double> unit({.throughputs = scaled(0), .partitions = K, .stage_one_workers = stage_one});
  const auto unit_two = unit.stage_two(std::vector<Index>{1}, 2);
  const auto g = random_partials<double>(5, K, 17);
  const gradcode::vector<double> exact = g.rowwise().sum();
  for (int e : {1021, 1000, -1000, -1060}) {
    INFO("W = r * 2^" << e);
    const gradcode::two_stage_code<double> epoch({.throughputs = scaled(e), .partitions = K, .stage_one_workers = stage_one});
    for (Index m = 0; m < epoch.workers(); ++m) {
      CHECK(epoch.stage_one_load(m) == unit.stage_one_load(m));
      CHECK(epoch.stage_one_first(m) == unit.stage_one_first(m));
    }
    const auto two = epoch.stage_two(std::vector<Index>{1}, 2);
    REQUIRE(two.coded());
    CHECK(std::vector<Index>(two.new_worker_loads().begin(), two.new_worker_loads().end()) ==
          std::vector<Index>(unit_two.new_worker_loads().begin(), unit_two.new_worker_loads().end()));
    // Every stage-2 worker but the first two responds (s = 2): the exact sum.
    const auto workers = two.stage_two_workers();
    std::vector<Index> ids(workers.begin() + 2, workers.end());
    gradcode::matrix<double> msgs(g.rows(), static_cast<Index>(ids.size()));
    for (std::size_t j = 0; j < ids.size(); ++j) msgs.col(static_cast<Index>(j)) = two.encode_stage_two(ids[j], g);
    ids.push_back(1);  // the finished worker's stage-1 message, last
    msgs.conservativeResize(Eigen::NoChange, msgs.cols() + 1);
    msgs.col(msgs.cols() - 1) = epoch.encode_stage_one(1, g);
    const auto sum = two.decode(ids, msgs);
    CHECK((sum - exact).norm() <= 1e-9 * exact.norm());
  }
  // Throughputs 2^1074 apart: the slow worker's share rounds to 0, the loads still sum to K.
  const gradcode::two_stage_code<double> apart(
      {.throughputs = {std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(), 1.0},
       .partitions = K,
       .stage_one_workers = {0, 1, 2}});
  CHECK(apart.stage_one_load(0) == K);
  CHECK(apart.stage_one_load(1) == 0);
  CHECK(apart.stage_one_load(2) == 0);
}

TEST_CASE("two-stage: K or a stage-2 support beyond the library limits throws invalid_parameters before allocating",
          "[two_stage][errors][extreme]") {
  using code = gradcode::two_stage_code<double>;
  CHECK_THROWS_MATCHES(code({.throughputs = {1, 1}, .partitions = Index{1} << 40, .stage_one_workers = {0}}),
                       gradcode::invalid_parameters, what_contains("exceeds limits::max_partitions"));
  // K = 2^20 remaining partitions with s = 64: 65·2^20 copies > limits::max_support_entries.
  const code big({.throughputs = std::vector<double>(70, 1.0), .partitions = Index{1} << 20, .stage_one_workers = {0}});
  CHECK_THROWS_MATCHES(big.stage_two(std::vector<Index>{}, 64), gradcode::invalid_parameters,
                       what_contains("limits::max_support_entries") && what_contains("(s <= 63 would fit)"));
}

TEST_CASE(
    "two-stage: 200 random throughput vectors spanning the whole double range give loads in [0, K] summing to K and R·s, and "
    "decode exactly",
    "[two_stage][extreme][random]") {
  std::mt19937_64 rng(gradcode::test::test_seed(41));
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-1074, 1023);
  for (int trial = 0; trial < 200; ++trial) {
    const Index M = std::uniform_int_distribution<Index>(2, 8)(rng), K = std::uniform_int_distribution<Index>(1, 30)(rng);
    epoch_case c = random_case(M, K, 3, rng, static_cast<std::uint64_t>(trial));
    for (auto& w : c.throughputs) w = std::ldexp(mantissa(rng), exponent(rng));  // positive, finite, any magnitude
    INFO(c.str());
    const gradcode::two_stage_code<double> epoch(
        {.throughputs = c.throughputs, .partitions = K, .stage_one_workers = c.stage_one});
    Index total = 0;
    for (Index m = 0; m < M; ++m) {
      REQUIRE(epoch.stage_one_load(m) >= 0);
      REQUIRE(epoch.stage_one_load(m) <= K);
      total += epoch.stage_one_load(m);
    }
    REQUIRE(total == K);
    const auto two = epoch.stage_two(c.finished, c.s);
    Index fresh = 0;
    for (Index n : two.new_worker_loads()) {
      REQUIRE(n >= 0);
      REQUIRE(n <= two.remaining());
      fresh += n;
    }
    REQUIRE(fresh == two.remaining() * c.s);
    // Every stage-1 and stage-2 message arrives: the exact sum.
    const auto g = random_partials<double>(3, K, static_cast<std::uint64_t>(trial));
    const auto done = two.finished_workers();
    gradcode::matrix<double> one(3, static_cast<Index>(done.size()));
    for (std::size_t j = 0; j < done.size(); ++j) one.col(static_cast<Index>(j)) = epoch.encode_stage_one(done[j], g);
    // Stage-1 workers with a subnormal W often get an empty block, so K_c = K happens: uncoded.
    std::vector<Index> workers;
    if (two.coded()) workers.assign(two.stage_two_workers().begin(), two.stage_two_workers().end());
    gradcode::matrix<double> msgs(3, static_cast<Index>(workers.size()));
    for (std::size_t j = 0; j < workers.size(); ++j) msgs.col(static_cast<Index>(j)) = two.encode_stage_two(workers[j], g);
    const gradcode::vector<double> exact = g.rowwise().sum();
    gradcode::vector<double> sum(3);
    two.decode(done, one, workers, msgs, sum);
    CHECK((sum - exact).norm() <= 1e-9 * exact.norm());
  }
}

TEMPLATE_TEST_CASE(
    "two-stage: the codec's decode reports the workers used ascending, amplification >= 1 and an estimated error "
    "within the code's bound, and the one-set and two-set decodes agree",
    "[two_stage][report]", float, double) {
  using Scalar = TestType;
  // M = 7, stage 1 on {0, 2, 3, 5}, {2, 5} finish: stage 2 = {0, 3} (unfinished) + {1, 4, 6} (new), s = 2.
  const gradcode::two_stage_code<Scalar> epoch(
      {.throughputs = {3, 1, 2, 5, 1, 4, 2}, .partitions = 14, .stage_one_workers = {5, 0, 3, 2}});
  const auto two = epoch.stage_two(std::vector<Index>{5, 2}, 2);
  REQUIRE(two.coded());
  CHECK(two.nodes() == 7);
  CHECK(two.message_length(33) == 33);
  const auto g = random_partials<Scalar>(33, 14, 6);
  const gradcode::vector<double> exact = g.template cast<double>().rowwise().sum();
  // Every worker's codec message: its stage-1 block sum if it finished, else its stage-2 message; from the held columns too.
  for (Index m = 0; m < 7; ++m) {
    INFO("worker " << m);
    const auto parts = two.partitions_of(m);
    CHECK(std::is_sorted(parts.begin(), parts.end()));
    CHECK(two.load(m) == static_cast<Index>(parts.size()));
    gradcode::matrix<Scalar> held(33, static_cast<Index>(parts.size()));
    for (std::size_t t = 0; t < parts.size(); ++t) held.col(static_cast<Index>(t)) = g.col(parts[t]);
    gradcode::vector<Scalar> a(33), b(33);
    two.encode(m, g, a);
    two.encode_held(m, held, b);
    CHECK((a - b).norm() <= 1e-5 * (1 + a.norm()));
    if (m == 2 || m == 5)
      CHECK(a == epoch.encode_stage_one(m, g));
    else
      CHECK(a == two.encode_stage_two(m, g));
  }
  // Stragglers 3 and 6 (s = 2): ids in arrival order, not sorted.
  const std::vector<Index> ids = {4, 5, 0, 1, 2};
  gradcode::matrix<Scalar> msgs(33, 5);
  for (std::size_t j = 0; j < ids.size(); ++j) two.encode(ids[j], g, msgs.col(static_cast<Index>(j)));
  gradcode::vector<Scalar> out(33);
  const gradcode::decode_report r = two.decode(ids, msgs, out);
  CHECK(r.used == std::vector<Index>{0, 1, 2, 4, 5});
  CHECK(r.corrupted.empty());
  CHECK(r.exact);
  CHECK(r.amplification >= 1);
  CHECK(r.amplification == two.plan(gradcode::pattern::from_ids(7, ids))->amplification());
  CHECK(r.estimated_error == gradcode::linear_code<Scalar>::estimated_error(r.amplification));
  CHECK(r.estimated_error <= two.max_relative_error());
  CHECK((out.template cast<double>() - exact).norm() <= gradcode::test::error_bound<Scalar>() * exact.norm());
  // The stage-2 part alone never amplifies less: the epoch's figure averages it with the exact stage-1 sums.
  std::vector<Index> local;
  for (Index m : {4, 0, 1}) local.push_back(two.stage_two_index(m));
  CHECK(r.amplification <=
        two.code().plan(gradcode::pattern::from_ids(two.code().nodes(), local))->amplification() * (1 + 1e-12));
  // The same epoch as two message sets gives the same sum and report.
  gradcode::matrix<Scalar> one(33, 2), second(33, 3);
  one << msgs.col(2 - 1), msgs.col(4);              // workers 5, 2
  second << msgs.col(0), msgs.col(2), msgs.col(3);  // workers 4, 0, 1
  gradcode::vector<Scalar> apart(33);
  const auto r2 = two.decode(std::vector<Index>{5, 2}, one, std::vector<Index>{4, 0, 1}, second, apart);
  CHECK(r2.used == r.used);
  CHECK(r2.amplification == r.amplification);
  CHECK((apart - out).norm() <= 4 * std::numeric_limits<Scalar>::epsilon() * (1 + out.norm()));
  // The convenience form returns the same sum.
  CHECK(two.decode(ids, msgs) == out);
  // Uncoded (K_c = K): a plain sum of the stage-1 blocks, amplification 1.
  const auto none = epoch.stage_two(std::vector<Index>{0, 2, 3, 5}, 1);
  REQUIRE_FALSE(none.coded());
  gradcode::matrix<Scalar> all(33, 4);
  const std::vector<Index> stage_one = {3, 0, 5, 2};
  for (std::size_t j = 0; j < 4; ++j) none.encode(stage_one[j], g, all.col(static_cast<Index>(j)));
  const auto r3 = none.decode(stage_one, all, out);
  CHECK(r3.used == std::vector<Index>{0, 2, 3, 5});
  CHECK(r3.amplification == 1);
  CHECK(r3.estimated_error <= none.max_relative_error());
  CHECK((out.template cast<double>() - exact).norm() <= gradcode::test::error_bound<Scalar>() * exact.norm());
}

TEST_CASE(
    "two-stage: every refused decode leaves out untouched: too few stage-2 results, a missing finished worker, bad ids "
    "and shapes, and a NaN or overflow found mid-stream",
    "[two_stage][errors][report]") {
  const gradcode::two_stage_code<double> epoch(
      {.throughputs = {1, 1, 1, 1, 1}, .partitions = 10, .stage_one_workers = {0, 1, 2}});
  const auto two = epoch.stage_two(std::vector<Index>{0}, 2);  // stage 2: 1, 2 (unfinished), 3, 4 (new); needs 2
  const auto g = random_partials<double>(300, 10, 11);
  const std::vector<Index> ids = {0, 3, 4};
  gradcode::matrix<double> msgs(300, 3);
  for (std::size_t j = 0; j < ids.size(); ++j) two.encode(ids[j], g, msgs.col(static_cast<Index>(j)));
  const gradcode::vector<double> sentinel = gradcode::vector<double>::Constant(300, 42.0);
  gradcode::vector<double> out = sentinel;
  auto untouched = [&] { return out == sentinel; };

  CHECK_THROWS_AS(two.decode(std::vector<Index>{0, 3}, msgs.leftCols(2), out), gradcode::not_decodable);
  CHECK(untouched());
  CHECK_THROWS_AS(two.decode(std::vector<Index>{3, 4}, msgs.rightCols(2), out),
                  gradcode::not_decodable);  // finished worker 0 missing
  CHECK(untouched());
  CHECK_THROWS_AS(two.decode(std::vector<Index>{0, 3, 3}, msgs, out), gradcode::invalid_input);
  CHECK(untouched());
  CHECK_THROWS_AS(two.decode(std::vector<Index>{0, 3}, msgs, out), gradcode::invalid_input);  // 2 ids, 3 messages
  CHECK(untouched());
  gradcode::vector<double> short_out = gradcode::vector<double>::Constant(299, 42.0);
  CHECK_THROWS_AS(two.decode(ids, msgs, short_out), gradcode::invalid_input);
  CHECK((short_out.array() == 42.0).all());
  // A NaN near the end of the last message: found only after the pass has computed the elements before it.
  gradcode::matrix<double> nan = msgs;
  nan(297, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(two.decode(ids, nan, out), gradcode::invalid_input,
                       what_contains("message of node 4 has a non-finite value at element 297"));
  CHECK(untouched());
  gradcode::matrix<double> huge = msgs;
  huge.bottomRows(10).setConstant(std::numeric_limits<double>::max());
  CHECK_THROWS_AS(two.decode(ids, huge, out), gradcode::invalid_input);
  CHECK(untouched());
  // The two-set form too.
  CHECK_THROWS_AS(two.decode(std::vector<Index>{0}, nan.leftCols(1), std::vector<Index>{3, 4}, nan.rightCols(2), out),
                  gradcode::invalid_input);
  CHECK(untouched());
  CHECK_THROWS_AS(two.decode(std::vector<Index>{0}, msgs.leftCols(1), std::vector<Index>{3}, msgs.middleCols(1, 1), out),
                  gradcode::not_decodable);
  CHECK(untouched());
  // And a decode that succeeds writes the exact sum.
  two.decode(ids, msgs, out);
  CHECK((out - g.rowwise().sum()).norm() <= 1e-9 * g.rowwise().sum().norm());
}
