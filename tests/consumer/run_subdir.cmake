# Builds and runs the add_subdirectory consumer, then installs it: only the
# consumer's own files may be installed, none of kvmxx's (KVMXX_INSTALL is off
# below the top level).
file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE}/subdir -B ${WORK_DIR}/build
    -DKVMXX_SOURCE_DIR=${KVMXX_SOURCE_DIR} -DCMAKE_CXX_STANDARD=${CXX_STANDARD}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CXX_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/build --prefix ${WORK_DIR}/prefix)
file(GLOB_RECURSE installed RELATIVE ${WORK_DIR}/prefix ${WORK_DIR}/prefix/*)
if(NOT installed STREQUAL "bin/consumer")
    message(FATAL_ERROR "an add_subdirectory consumer installed kvmxx's files too: ${installed}")
endif()
message(STATUS "installed only: ${installed}")
