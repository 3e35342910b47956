// SPDX-License-Identifier: MIT
// core/errors.hpp: each typed error starts its message with a stable tag, derives from the
// standard exception it refines, and carries its numbers as fields.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <gradcode/core/errors.hpp>

TEST_CASE("errors: messages start with the stable tag and the objects carry the numbers", "[errors]") {
  STATIC_REQUIRE(std::is_base_of_v<std::invalid_argument, gradcode::invalid_parameters>);
  STATIC_REQUIRE(std::is_base_of_v<std::invalid_argument, gradcode::invalid_input>);
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, gradcode::not_decodable>);
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, gradcode::corrupted_result>);

  const gradcode::invalid_parameters p("s = 3 needs s < n = 3");
  CHECK(std::string(p.what()) == "gradcode::invalid_parameters: s = 3 needs s < n = 3");

  const gradcode::invalid_input i("node 4 appears twice", 4);
  CHECK(std::string(i.what()) == "gradcode::invalid_input: node 4 appears twice");
  CHECK(i.node() == 4);
  CHECK(gradcode::invalid_input("wrong length").node() == -1);

  const gradcode::not_decodable n("5 of 9 workers responded, 7 needed", 5, 7);
  CHECK(std::string(n.what()) == "gradcode::not_decodable: 5 of 9 workers responded, 7 needed");
  CHECK(n.received() == 5);
  CHECK(n.needed() == 7);

  const gradcode::corrupted_result c("3 corrupted, 1 correctable", {2, 5});
  CHECK(std::string(c.what()) == "gradcode::corrupted_result: 3 corrupted, 1 correctable");
  CHECK(c.suspects() == std::vector<long long>{2, 5});
  CHECK(gradcode::corrupted_result("x").suspects().empty());
}

namespace {
int tag_count(const std::string& what, const std::string& tag) {
  int n = 0;
  for (auto at = what.find(tag); at != std::string::npos; at = what.find(tag, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("errors: context added by layer after layer (with_context, untagged) keeps one tag and the fields of every type",
          "[errors]") {
  using gradcode::detail::with_context;
  auto inner = [] { return with_context("relay 2", []() -> int { throw gradcode::not_decodable("3 of 6 nodes", 3, 4); }); };
  try {
    (void)with_context("round 7", inner);
    FAIL("no throw");
  } catch (const gradcode::not_decodable& e) {
    CHECK(std::string(e.what()) == "gradcode::not_decodable: round 7: relay 2: 3 of 6 nodes");
    CHECK(e.received() == 3);
    CHECK(e.needed() == 4);
  }
  try {
    (void)with_context("server", []() -> int { throw gradcode::corrupted_result("beyond budget", {1, 5}); });
    FAIL("no throw");
  } catch (const gradcode::corrupted_result& e) {
    CHECK(tag_count(e.what(), "gradcode::") == 1);
    CHECK(e.suspects() == std::vector<long long>{1, 5});
  }
  try {
    (void)with_context("edge 1", []() -> int { throw gradcode::invalid_input("NaN", 4); });
    FAIL("no throw");
  } catch (const gradcode::invalid_input& e) {
    CHECK(std::string(e.what()) == "gradcode::invalid_input: edge 1: NaN");
    CHECK(e.node() == 4);
  }
  CHECK(with_context("fine", [] { return 42; }) == 42);
  CHECK(gradcode::detail::untagged(std::runtime_error("plain")) == "plain");
}
