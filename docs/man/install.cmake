# install.cmake: what an installed gateway needs besides its binary, made at
# build time from the binary itself so they can never drift from it:
#   xapi-gateway.conf  every setting, commented, with its default (--dump-config)
#   xapi-gateway.8     the man page: help2man over --help/--version, plus
#                      docs/man/xapi-gateway.h2m and the served classes (idl/)
include(GNUInstallDirs)
if(TARGET xapi-gateway)
  set(XG_CONF ${CMAKE_BINARY_DIR}/xapi-gateway.conf)
  add_custom_command(OUTPUT ${XG_CONF}
      COMMAND xapi-gateway --dump-config > ${XG_CONF}
      DEPENDS xapi-gateway VERBATIM)

  find_program(HELP2MAN help2man)
  set(XG_MAN ${CMAKE_BINARY_DIR}/xapi-gateway.8)
  set(XG_H2M ${CMAKE_BINARY_DIR}/xapi-gateway.h2m)
  file(GLOB XG_IDL_CLASSES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/idl/classes/*.json)
  add_custom_command(OUTPUT ${XG_H2M}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/docs/man/h2m.py
              ${CMAKE_SOURCE_DIR}/docs/man/xapi-gateway.h2m ${XG_H2M} ${XG_IDL_CLASSES}
      DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/xapi-gateway.h2m ${CMAKE_SOURCE_DIR}/docs/man/h2m.py
              ${XG_IDL_CLASSES} VERBATIM)
  if(HELP2MAN)
    add_custom_command(OUTPUT ${XG_MAN}
        COMMAND ${HELP2MAN} --no-info --section 8 --source xapi-gateway
                --name "XAPI management API server for a Xen host"
                --include ${XG_H2M} --output ${XG_MAN} $<TARGET_FILE:xapi-gateway>
        DEPENDS xapi-gateway ${XG_H2M} VERBATIM)
    add_custom_target(xg_man ALL DEPENDS ${XG_MAN} ${XG_CONF})
    install(FILES ${XG_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  else()
    message(STATUS "help2man not found: no man page (apt-get install help2man)")
    add_custom_target(xg_man ALL DEPENDS ${XG_CONF})
  endif()
  install(FILES ${XG_CONF} DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/xapi-gateway)
endif()
