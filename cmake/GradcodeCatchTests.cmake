# Registers every Catch2 test case of a test executable as exactly one ctest test, whatever
# characters its name holds. Catch2's own catch_discover_tests splits names at ';' (the halves
# select nothing, Catch2 exits 0 and ctest counts a pass); ours reads the names line by line and
# escapes them for Catch2's test-spec parser. Every registered command also passes `-w NoTests`,
# so a filter that selects no test case fails instead of passing.
#
#   gradcode_discover_tests(<target> PREFIX "<area>: " LABELS <labels...> [TIMEOUT <s>])
#
# Discovery runs after each build of <target> (POST_BUILD), like catch_discover_tests, so adding a
# TEST_CASE needs no re-configure. tests/registration_check.cmake verifies the result.

set(_gradcode_catch_discover_script ${CMAKE_CURRENT_LIST_DIR}/GradcodeCatchDiscover.cmake)

function(gradcode_discover_tests target)
  cmake_parse_arguments(arg "" "PREFIX;TIMEOUT" "LABELS" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 600)
  endif()
  string(REPLACE ";" "," labels "${arg_LABELS}")  # one command-line argument
  set(ctest_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_tests.cmake)
  set(include_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake)
  add_custom_command(TARGET ${target} POST_BUILD
    BYPRODUCTS ${ctest_file}
    COMMAND ${CMAKE_COMMAND}
      -DTEST_EXECUTABLE=$<TARGET_FILE:${target}>
      -DCTEST_FILE=${ctest_file}
      "-DPREFIX=<${arg_PREFIX}>"  # <> keep a trailing space through -D
      "-DLABELS=${labels}"
      -DTIMEOUT=${arg_TIMEOUT}
      -DWORKING_DIR=${CMAKE_CURRENT_BINARY_DIR}
      -P ${_gradcode_catch_discover_script}
    VERBATIM)
  # An unbuilt executable is one failing test, not silently zero tests.
  file(WRITE ${include_file}
    "if(EXISTS \"${ctest_file}\")\n"
    "  include(\"${ctest_file}\")\n"
    "else()\n"
    "  add_test([==[${target} (not built)]==] ${target}_NOT_BUILT)\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
