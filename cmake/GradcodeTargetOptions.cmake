# Options for gradcode's own tests, benchmarks and examples — never for the INTERFACE target.
#   GRADCODE_SANITIZE  "address,undefined" (or empty) adds -fsanitize=... to our targets
#   GRADCODE_NATIVE    ON adds -march=native (benchmarks default to it)
set(GRADCODE_SANITIZE "" CACHE STRING "Sanitizers for gradcode's own targets, e.g. address,undefined")
option(GRADCODE_NATIVE "Compile gradcode's own targets with -march=native" OFF)

function(gradcode_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  # GCC 12 reports false -Wmaybe-uninitialized inside its own AVX/AVX-512 intrinsic headers when
  # Eigen is compiled with -march=native (the `__Y = __Y` idiom); it drowns real warnings.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(GRADCODE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${GRADCODE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${GRADCODE_SANITIZE})
  endif()
  if(GRADCODE_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()
