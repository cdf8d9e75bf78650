# Installs the kvmxx build tree into a scratch prefix, then configures, builds
# and runs the consumer project against it (what a user of find_package sees).
file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/run_step.cmake)
run(${CMAKE_COMMAND} --install ${KVMXX_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
# pkg-config users choose their own standard: the .pc file must not force one.
file(GLOB_RECURSE pc_files ${WORK_DIR}/prefix/*/kvmxx.pc)
if(NOT pc_files)
    message(FATAL_ERROR "kvmxx.pc was not installed")
endif()
file(STRINGS ${pc_files} cflags REGEX "^Cflags:")
if(NOT cflags MATCHES "^Cflags: -I" OR cflags MATCHES "-std=")
    message(FATAL_ERROR "kvmxx.pc: '${cflags}' must give the include path and no -std=")
endif()
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_STANDARD=${CXX_STANDARD}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CXX_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
