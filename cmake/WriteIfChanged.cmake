# WriteIfChanged.cmake: write_if_changed(FILE CONTENT) writes FILE only when
# its content differs, so that what depends on a generated header is not
# rebuilt for nothing. Included by the cmake -P scripts that generate headers.
function(write_if_changed file content)
  set(old "")
  if(EXISTS ${file})
    file(READ ${file} old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE ${file} "${content}")
  endif()
endfunction()
