# Result is [[nodiscard]]: nodiscard_check.cpp compiles when it casts a Result to
# void and fails, naming the discarded value, when it ignores one.
function(compile out_var)
    execute_process(COMMAND ${CXX_COMPILER} ${CXX_FLAGS_LIST} -std=c++${CXX_STANDARD} -I${INCLUDE_DIR}
                            -Wall -Werror -fsyntax-only ${ARGN} ${SOURCE}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    set(${out_var}_rc ${rc} PARENT_SCOPE)
    set(${out_var}_out "${out}" PARENT_SCOPE)
endfunction()
separate_arguments(CXX_FLAGS_LIST UNIX_COMMAND "${CXX_FLAGS}")
compile(ok)
if(NOT ok_rc EQUAL 0)
    message(FATAL_ERROR "casting a Result to void must compile:\n${ok_out}")
endif()
compile(bad -DKVMXX_IGNORE_A_RESULT)
if(bad_rc EQUAL 0)
    message(FATAL_ERROR "an ignored Result compiled: Result is not [[nodiscard]]")
endif()
if(NOT bad_out MATCHES "nodiscard|unused-result|ignoring return value")
    message(FATAL_ERROR "it failed, but not for the discarded Result:\n${bad_out}")
endif()
