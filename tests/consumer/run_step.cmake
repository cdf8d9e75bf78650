# run(COMMAND...): one step of a consumer test; any failure stops the test, naming the step.
function(run)
    execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "consumer step failed (${rc}): ${ARGV}")
    endif()
endfunction()
