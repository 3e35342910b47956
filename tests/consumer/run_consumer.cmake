# Configures, builds and runs one consumer project (ctest driver script, `cmake -P`).
#   MODE=find_package     installs GRADCODE_BUILD_DIR into WORK_DIR/prefix, then find_package
#   MODE=add_subdirectory adds GRADCODE_SOURCE_DIR as a subdirectory
file(REMOVE_RECURSE ${WORK_DIR})
set(configure_args -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${GRADCODE_BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "install of gradcode failed (${rc})")
  endif()
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DEXPECT_MPI=${EXPECT_MPI})
else()
  list(APPEND configure_args -DGRADCODE_SOURCE_DIR=${GRADCODE_SOURCE_DIR})
endif()
foreach(step "${CMAKE_COMMAND};${configure_args}"
             "${CMAKE_COMMAND};--build;${WORK_DIR}/build"
             "${WORK_DIR}/build/consumer")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "consumer step failed (${rc}): ${step}")
  endif()
endforeach()
