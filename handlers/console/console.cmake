# handlers/console: /console over WebSocket and CONNECT (RFB). Included by
# handlers/CMakeLists.txt. The terminal is Debian's libvterm; the font is
# compiled in from Debian's psf-unifont (Unifont-APL8x16) by font_gen.py.
set(XG_CONSOLE_DIR ${CMAKE_CURRENT_LIST_DIR})
find_file(XG_CONSOLE_FONT NAMES Unifont-APL8x16.psf.gz PATH_SUFFIXES share/consolefonts
          DOC "PSF console font (Debian package psf-unifont)")
if(NOT XG_CONSOLE_FONT)
  message(FATAL_ERROR "console font not found: install psf-unifont (tools/deps.sh)")
endif()
add_custom_command(
  OUTPUT ${XG_GENERATED_DIR}/console_font.c
  COMMAND ${Python3_EXECUTABLE} ${XG_CONSOLE_DIR}/font_gen.py ${XG_CONSOLE_FONT}
          ${XG_GENERATED_DIR}/console_font.c
  DEPENDS ${XG_CONSOLE_DIR}/font_gen.py ${XG_CONSOLE_FONT}
  COMMENT "console font from ${XG_CONSOLE_FONT}")
# the protocols (unit-tested alone: tests/unit/test_console_proto.c)
add_library(xg_console_proto OBJECT
  ${XG_CONSOLE_DIR}/rfb.c
  ${XG_CONSOLE_DIR}/term.c
  ${XG_CONSOLE_DIR}/vt_bound.c
  ${XG_CONSOLE_DIR}/ws.c
  ${XG_CONSOLE_DIR}/font.c
  ${XG_GENERATED_DIR}/console_font.c)
target_include_directories(xg_console_proto PRIVATE ${XG_CONSOLE_DIR})
target_compile_options(xg_console_proto PRIVATE ${XG_WARN})
target_link_libraries(xg_console_proto PUBLIC PkgConfig::VTERM OpenSSL::Crypto Threads::Threads)
# the console thread
add_library(xg_console OBJECT ${XG_CONSOLE_DIR}/service.c)
target_compile_options(xg_console PRIVATE ${XG_WARN})
target_link_libraries(xg_console PUBLIC xg_console_proto Threads::Threads)
# whoever links the console links the protocol objects too
target_sources(xg_console INTERFACE $<TARGET_OBJECTS:xg_console_proto>)
