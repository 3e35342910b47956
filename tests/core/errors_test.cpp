// SPDX-License-Identifier: MIT
// core/errors.hpp: each typed error starts its message with a stable tag, derives from the
// standard exception it refines, and carries its numbers as fields.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <type_traits>

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
