# Helpers shared by the discovery script and the registration check: walking Catch2's
# `--list-test-names-only` output and turning a test-case name into a Catch2 filter that selects
# exactly that case.

# Pops the next test-case name off the front of the variable named `out_var` (Catch2's listing, one
# name per line); `name_var` is unset when nothing is left. Catch2 quotes names starting with '#'.
function(gradcode_catch_next_name out_var name_var)
  set(text "${${out_var}}")
  unset(found)
  while(NOT text STREQUAL "" AND NOT DEFINED found)
    string(FIND "${text}" "\n" eol)
    if(eol EQUAL -1)
      set(line "${text}")
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${eol} line)
      math(EXPR next "${eol} + 1")
      string(SUBSTRING "${text}" ${next} -1 text)
    endif()
    string(REGEX REPLACE "\r$" "" line "${line}")
    if(NOT line STREQUAL "")
      if(line MATCHES "^\"#.*\"$")
        string(REGEX REPLACE "^\"(.*)\"$" "\\1" line "${line}")
      endif()
      set(found "${line}")
    endif()
  endwhile()
  set(${out_var} "${text}" PARENT_SCOPE)
  if(DEFINED found)
    set(${name_var} "${found}" PARENT_SCOPE)
  else()
    unset(${name_var} PARENT_SCOPE)
  endif()
endfunction()

# Catch2 2.13's test-spec parser gives meaning to , [ ] " ~ * and \ ; a backslash makes the next
# character literal, so escaping each of them selects the name exactly.
function(gradcode_catch_filter name filter_var)
  string(REGEX REPLACE "([],[\"~*\\\\])" "\\\\\\1" f "${name}")
  set(${filter_var} "${f}" PARENT_SCOPE)
endfunction()

# `text` as a CMake bracket argument whose delimiter does not occur in it.
function(gradcode_bracket text out_var)
  set(eq "=")
  while(text MATCHES "\\]${eq}\\]")
    string(APPEND eq "=")
  endwhile()
  set(${out_var} "[${eq}[${text}]${eq}]" PARENT_SCOPE)
endfunction()
