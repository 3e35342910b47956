# cmake -P script run after a test executable is built (see GradcodeCatchTests.cmake): lists its
# Catch2 test cases and writes CTEST_FILE with one add_test per case.
#   -DTEST_EXECUTABLE= -DCTEST_FILE= -DPREFIX= -DLABELS= -DTIMEOUT= -DWORKING_DIR=
# Names are never put into a CMake list (';' and '[' have list meaning there): the output is
# walked line by line and every name goes into the generated file as a bracket argument.

include(${CMAKE_CURRENT_LIST_DIR}/GradcodeCatchNames.cmake)

execute_process(COMMAND "${TEST_EXECUTABLE}" --list-test-names-only
  OUTPUT_VARIABLE output RESULT_VARIABLE result WORKING_DIRECTORY "${WORKING_DIR}")
if(NOT result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${TEST_EXECUTABLE} --list-test-names-only failed: ${result}\n${output}")
endif()

string(REGEX REPLACE "^<(.*)>$" "\\1" PREFIX "${PREFIX}")
string(REPLACE "," ";" LABELS "${LABELS}")
set(script "")
set(count 0)
gradcode_catch_next_name(output name)
while(DEFINED name)
  gradcode_catch_filter("${name}" filter)
  gradcode_bracket("${PREFIX}${name}" test_arg)
  gradcode_bracket("${filter}" filter_arg)
  gradcode_bracket("${TEST_EXECUTABLE}" exe_arg)
  gradcode_bracket("${LABELS}" labels_arg)
  string(APPEND script
    "add_test(${test_arg} ${exe_arg} ${filter_arg} -w NoTests)\n"
    "set_tests_properties(${test_arg} PROPERTIES LABELS ${labels_arg} TIMEOUT ${TIMEOUT} WORKING_DIRECTORY [==[${WORKING_DIR}]==])\n")
  math(EXPR count "${count} + 1")
  gradcode_catch_next_name(output name)
endwhile()
if(count EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} lists no test cases")
endif()
file(WRITE "${CTEST_FILE}" "${script}")
