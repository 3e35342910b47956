# Every ```cpp block of README.md whose first line is "// examples/<file>" must be that file,
# verbatim — the build compiles it and ctest runs it, so README's examples always compile.
file(READ ${README} text)
string(REGEX MATCHALL "```cpp\n// examples/[^ :\n]*" heads "${text}")  # no ';' in these
if(NOT heads)
  message(FATAL_ERROR "README.md shows no example block starting with // examples/<file>")
endif()
foreach(head IN LISTS heads)
  string(REGEX REPLACE "^```cpp\n// " "" name "${head}")
  if(NOT EXISTS ${SOURCE_DIR}/${name})
    message(FATAL_ERROR "README shows ${name}, which does not exist")
  endif()
  file(READ ${SOURCE_DIR}/${name} code)
  string(FIND "${text}" "```cpp\n${code}```" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "README's copy of ${name} differs from the file")
  endif()
  message(STATUS "README block matches ${name}")
endforeach()
