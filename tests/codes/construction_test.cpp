// SPDX-License-Identifier: MIT
// codes/construction.hpp: the cyclic-MDS construction is picked exactly on the cyclic block
// support with n − s odd, the null-space construction otherwise; forcing either is honoured or
// rejected with invalid_parameters; every pick satisfies the span condition; tandon_random (cyclic
// repetition's Algorithm 2) is refused by every other family with invalid_parameters naming it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <gradcode/codes/construction.hpp>
#include <gradcode/codes/cyclic_mds.hpp>
#include <gradcode/codes/cyclic_repetition.hpp>
#include <gradcode/codes/null_space.hpp>
#include <gradcode/core/span_verifier.hpp>
#include <gradcode/detail/cyclic_support.hpp>
#include <gradcode/hierarchical/hgc.hpp>

#include "codes/code_properties.hpp"

using gradcode::assignment;
using gradcode::construction;
using gradcode::encoding_for;
using gradcode::Index;
using gradcode::test::what_contains;

namespace {

assignment cyclic_block_support(Index n, Index K, Index s) { return gradcode::detail::cyclic_support{n, K, s}.support(); }

double max_difference(const gradcode::sparse_matrix<double>& a, const gradcode::sparse_matrix<double>& b) {
  return (gradcode::matrix<double>(a) - gradcode::matrix<double>(b)).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("construction: is_cyclic_block_support recognises exactly the cyclic block support of (n, K, s)", "[construction]") {
  CHECK(gradcode::is_cyclic_block_support(cyclic_block_support(7, 7, 2), 2));
  CHECK(gradcode::is_cyclic_block_support(cyclic_block_support(6, 15, 3), 3));
  CHECK_FALSE(gradcode::is_cyclic_block_support(cyclic_block_support(7, 7, 2), 1));  // other s
  CHECK_FALSE(gradcode::is_cyclic_block_support(cyclic_block_support(7, 7, 2), 7));  // s ≥ n
  CHECK_FALSE(gradcode::is_cyclic_block_support(cyclic_block_support(7, 7, 2), -1));
  const assignment shifted(4, {{1, 2}, {2, 3}, {3, 0}, {0, 1}});  // blocks i+1, i+2: not node i's own
  CHECK_FALSE(gradcode::is_cyclic_block_support(shifted, 1));
  const assignment fewer_partitions(3, {{0, 1}, {1, 2}, {2, 0}, {0, 1}});  // K < n
  CHECK_FALSE(gradcode::is_cyclic_block_support(fewer_partitions, 1));
}

TEST_CASE("construction: automatic picks cyclic MDS on the cyclic support when n − s is odd, null space otherwise",
          "[construction]") {
  struct entry {
    Index n, K, s;
    bool mds;
  };
  for (const auto& [n, K, s, mds] : std::vector<entry>{
           {7, 7, 2, true}, {6, 14, 3, true}, {12, 12, 5, true}, {6, 6, 2, false}, {8, 8, 0, false}, {10, 23, 4, false}}) {
    INFO("n = " << n << ", K = " << K << ", s = " << s);
    const auto support = cyclic_block_support(n, K, s);
    const auto B = encoding_for(support, s, construction::automatic, 5);
    if (mds) {
      const auto def = gradcode::cyclic_mds_definition(n, K, s);
      REQUIRE(def.has_value());
      CHECK(max_difference(B, def->encoding) == 0.0);
    } else {
      CHECK_FALSE(gradcode::cyclic_mds_definition(n, K, s).has_value());
      CHECK(max_difference(B, gradcode::null_space_encoding(support, s, 5)) == 0.0);
    }
    const auto report = gradcode::verify_span_condition(B, n - s);
    CHECK(report.satisfied);
  }
}

TEST_CASE("construction: forcing null_space on a cyclic support gives the null-space matrix, which is the cyclic MDS code",
          "[construction]") {
  const auto support = cyclic_block_support(7, 7, 2);
  const auto B = encoding_for(support, 2, construction::null_space, 9);
  CHECK(max_difference(B, gradcode::null_space_encoding(support, 2, 9)) == 0.0);
  // The spectral parity matrix's null space is the real cyclic MDS code of Raviv et al. (n − s
  // odd), and each column is its unique codeword on the window, normalised to sum 1: the two
  // constructions meet.
  CHECK(max_difference(B, gradcode::cyclic_mds_definition(7, 7, 2)->encoding) < 1e-12);
}

TEST_CASE("construction: forcing cyclic_mds where it does not apply throws invalid_parameters", "[construction][errors]") {
  const assignment arbitrary(6, {{0, 1, 2}, {0, 3}, {1, 4, 5}, {2, 3, 4}, {0, 5}, {1, 2, 3, 4, 5}, {0, 1}});
  CHECK_THROWS_MATCHES(
      encoding_for(arbitrary, 2, construction::cyclic_mds), gradcode::invalid_parameters,
      what_contains("cyclic MDS construction forced on n = 7, s = 2, which needs the cyclic block support and n − s odd"));
  CHECK_THROWS_MATCHES(encoding_for(cyclic_block_support(6, 6, 2), 2, construction::cyclic_mds), gradcode::invalid_parameters,
                       what_contains("n = 6, s = 2"));
  CHECK_NOTHROW(encoding_for(cyclic_block_support(7, 7, 2), 2, construction::cyclic_mds));
  // On any other support, automatic falls back to the null space.
  const auto B = encoding_for(arbitrary, 2, construction::automatic, 3);
  CHECK(max_difference(B, gradcode::null_space_encoding(arbitrary, 2, 3)) == 0.0);
}

TEST_CASE(
    "construction: tandon_random is cyclic repetition's only: encoding_for and HGC refuse it with invalid_parameters naming HGC",
    "[construction][errors]") {
  const auto support = cyclic_block_support(7, 7, 2);
  CHECK_THROWS_MATCHES(encoding_for(support, 2, construction::tandon_random), gradcode::invalid_parameters,
                       what_contains("construction::tandon_random (Tandon et al. 2017, Algorithm 2) is defined for "
                                     "cyclic_repetition_code only; HGC (hgc_params::method)"));
  CHECK_THROWS_WITH(encoding_for(support, 2, construction::tandon_random),
                    Catch::Matchers::StartsWith("gradcode::invalid_parameters: construction::tandon_random"));
  CHECK_THROWS_MATCHES(gradcode::hgc_code<double>({.workers = {3, 3, 3},
                                                   .partitions = 9,
                                                   .edge_tolerance = 1,
                                                   .worker_tolerance = 1,
                                                   .method = construction::tandon_random}),
                       gradcode::invalid_parameters,
                       what_contains("HGC (hgc_params::method) and encoding_for take construction::automatic"));
  CHECK_THROWS_MATCHES(encoding_for(support, 2, static_cast<construction>(9)), gradcode::invalid_parameters,
                       what_contains("construction(9) is not a construction"));
  // The family that supports it builds Algorithm 2's B (b_i(i) = 1 on the node's own block).
  const gradcode::cyclic_repetition_code<double> tandon(
      {.nodes = 7, .partitions = 7, .tolerance = 2, .method = construction::tandon_random});
  for (Index i = 0; i < 7; ++i) CHECK(tandon.encoding_matrix().coeff(i, i) == Approx(1.0));
}

TEST_CASE("construction: construction_name names every enumerator as written in code", "[construction]") {
  CHECK(gradcode::construction_name(construction::automatic) == "construction::automatic");
  CHECK(gradcode::construction_name(construction::null_space) == "construction::null_space");
  CHECK(gradcode::construction_name(construction::cyclic_mds) == "construction::cyclic_mds");
  CHECK(gradcode::construction_name(construction::tandon_random) == "construction::tandon_random");
  CHECK(gradcode::construction_name(static_cast<construction>(42)) == "construction(42)");
}

TEST_CASE("construction: cyclic_mds_definition rejects invalid cyclic parameters and is empty for even n − s",
          "[construction][errors]") {
  CHECK_THROWS_MATCHES(gradcode::cyclic_mds_definition(7, 6, 2), gradcode::invalid_parameters, what_contains("K >= n"));
  CHECK_THROWS_MATCHES(gradcode::cyclic_mds_definition(7, 7, 7), gradcode::invalid_parameters,
                       what_contains("s = 7 must be in [0, n = 7)"));
  CHECK_FALSE(gradcode::cyclic_mds_definition(8, 8, 2).has_value());
  const auto def = gradcode::cyclic_mds_definition(9, 20, 4);
  REQUIRE(def.has_value());
  CHECK(def->tolerance == 4);
  CHECK(def->encoding.rows() == 9);
  CHECK(def->encoding.cols() == 20);
}

// Regression (issue 13): is_cyclic_block_support built the reference cyclic support of (n, K, s)
// — K(s+1) entries — whatever the given support held, so a small support with large K and s
// (here 2^19 entries asked for 2^31) threw std::bad_alloc; the loads are now compared first.
TEST_CASE("construction: is_cyclic_block_support on a support far from cyclic returns false without building a large reference",
          "[construction][limits]") {
  const Index n = Index{1} << 12, K = Index{1} << 19;
  std::vector<std::vector<Index>> holdings(static_cast<std::size_t>(n));
  for (Index k = 0; k < K; ++k) holdings[static_cast<std::size_t>(k % n)].push_back(k);
  const assignment sparse(K, std::move(holdings));
  CHECK_FALSE(gradcode::is_cyclic_block_support(sparse, n / 2));
  CHECK_FALSE(gradcode::is_cyclic_block_support(sparse, n - 1));
  // The load comparison agrees with the full one on real cyclic supports, any K/n remainder.
  CHECK(gradcode::is_cyclic_block_support(cyclic_block_support(5, 13, 4), 4));
  CHECK(gradcode::is_cyclic_block_support(cyclic_block_support(6, 17, 3), 3));
  CHECK_FALSE(gradcode::is_cyclic_block_support(cyclic_block_support(6, 17, 3), 2));
}
