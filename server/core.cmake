# core.cmake: the data-driven middle of the server (descriptors, store,
# decoder, record writer, implicit messages, dispatch, calls, envelopes,
# world lock), included by server/CMakeLists.txt. Owned separately from the
# transport sources so the two can move independently.
set(XG_CORE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/call.c
  ${CMAKE_CURRENT_LIST_DIR}/decode.c
  ${CMAKE_CURRENT_LIST_DIR}/desc.c
  ${CMAKE_CURRENT_LIST_DIR}/dispatch.c
  ${CMAKE_CURRENT_LIST_DIR}/envelope.c
  ${CMAKE_CURRENT_LIST_DIR}/implicit.c
  ${CMAKE_CURRENT_LIST_DIR}/record_writer.c
  ${CMAKE_CURRENT_LIST_DIR}/storage.c
  ${CMAKE_CURRENT_LIST_DIR}/store.c
  ${CMAKE_CURRENT_LIST_DIR}/store_events.c
  ${CMAKE_CURRENT_LIST_DIR}/store_index.c
  ${CMAKE_CURRENT_LIST_DIR}/store_rel.c
  ${CMAKE_CURRENT_LIST_DIR}/value.c
  ${CMAKE_CURRENT_LIST_DIR}/where.c
  ${CMAKE_CURRENT_LIST_DIR}/world.c)
add_library(xg_core OBJECT ${XG_CORE_SOURCES})
# -iquote, not -I: server/limits.h must never shadow the system <limits.h>
target_compile_options(xg_core PUBLIC "SHELL:-iquote ${CMAKE_CURRENT_LIST_DIR}")
target_compile_options(xg_core PRIVATE ${XG_WARN})
