# exe.cmake: the xapi-gateway executable. Included at the END of the
# top-level CMakeLists.txt, once codegen/, server/ and handlers/ have
# defined their targets; does nothing until they all exist.
if(TARGET xg_handlers AND TARGET xg_core AND TARGET xg_generated AND TARGET xg_transport)
  add_executable(xapi-gateway ${CMAKE_CURRENT_LIST_DIR}/main.c)
  target_compile_options(xapi-gateway PRIVATE ${XG_WARN})
  target_compile_definitions(xapi-gateway PRIVATE XG_VERSION="${PROJECT_VERSION}")
  target_link_libraries(xapi-gateway PRIVATE xg_transport xg_core xg_generated
      xg_handlers ${XG_TRANSPORT_LIBS} m)
  # the handlers' companion object libraries, whichever exist
  foreach(t xg_driver xg_driver_sim xg_driver_libxl xg_metrics xg_hostnet xg_console)
    if(TARGET ${t})
      target_link_libraries(xapi-gateway PRIVATE ${t})
    endif()
  endforeach()
  install(TARGETS xapi-gateway RUNTIME DESTINATION sbin)
endif()
