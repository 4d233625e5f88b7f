# driver.cmake: the backend drivers as OBJECT libraries, included by
# handlers/CMakeLists.txt (and by the driver tests when built alone).
#   xg_driver_sim    the simulated Xen host (always)
#   xg_driver_libxl  real Xen through libxenlight (when pkg-config finds it)
#   xg_driver        select.c, picks one at start-up
# Self-contained: it finds its own packages if the top level did not.
include_guard(GLOBAL)
set(XG_DRIVER_DIR ${CMAKE_CURRENT_LIST_DIR})

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
if(NOT DEFINED XENLIGHT_FOUND)
  pkg_check_modules(XENLIGHT IMPORTED_TARGET xenlight)
endif()
if(NOT DEFINED XENSTORE_FOUND)
  pkg_check_modules(XENSTORE IMPORTED_TARGET xenstore)
endif()
# GLOBAL: the test directories link these too.
if(NOT TARGET PkgConfig::XENTOOLLOG)
  pkg_check_modules(XENTOOLLOG IMPORTED_TARGET GLOBAL xentoollog)
endif()
if(NOT TARGET PkgConfig::XENCTRL)
  pkg_check_modules(XENCTRL IMPORTED_TARGET GLOBAL xencontrol)
endif()
if(NOT DEFINED XG_WARN)
  set(XG_WARN -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
endif()

add_library(xg_driver_sim OBJECT
  ${XG_DRIVER_DIR}/sim/sim.c
  ${XG_DRIVER_DIR}/sim/sim_console.c
  ${XG_DRIVER_DIR}/sim/sim_disk.c
  ${XG_DRIVER_DIR}/sim/sim_dom.c
  ${XG_DRIVER_DIR}/sim/sim_fixture.c
  ${XG_DRIVER_DIR}/sim/sim_guest.c
  ${XG_DRIVER_DIR}/sim/sim_handover.c
  ${XG_DRIVER_DIR}/sim/sim_nic.c
  ${XG_DRIVER_DIR}/sim/sim_ops.c
  ${XG_DRIVER_DIR}/sim/sim_stats.c
  ${XG_DRIVER_DIR}/sim/sim_time.c
  ${XG_DRIVER_DIR}/sim/sim_worker.c)
target_compile_options(xg_driver_sim PRIVATE ${XG_WARN})
target_link_libraries(xg_driver_sim PUBLIC Threads::Threads m)

# XG_HAVE_LIBXL is a cache variable so sibling directories (tests/) see it.
set(XG_HAVE_LIBXL OFF CACHE INTERNAL "libxl driver built")
if(XENLIGHT_FOUND AND XENSTORE_FOUND AND XENTOOLLOG_FOUND AND XENCTRL_FOUND)
  set(XG_HAVE_LIBXL ON CACHE INTERNAL "libxl driver built")
  add_library(xg_driver_libxl OBJECT
    ${XG_DRIVER_DIR}/libxl/lx.c
    ${XG_DRIVER_DIR}/libxl/lx_config.c
    ${XG_DRIVER_DIR}/libxl/lx_console.c
    ${XG_DRIVER_DIR}/libxl/lx_ctx.c
    ${XG_DRIVER_DIR}/libxl/lx_disk.c
    ${XG_DRIVER_DIR}/libxl/lx_errors.c
    ${XG_DRIVER_DIR}/libxl/lx_events.c
    ${XG_DRIVER_DIR}/libxl/lx_guest.c
    ${XG_DRIVER_DIR}/libxl/lx_host.c
    ${XG_DRIVER_DIR}/libxl/lx_nic.c
    ${XG_DRIVER_DIR}/libxl/lx_ops.c
    ${XG_DRIVER_DIR}/libxl/lx_stats.c)
  target_compile_options(xg_driver_libxl PRIVATE ${XG_WARN})
  # xenctrl.h (pcpu idle times) uses anonymous unions: GNU C for that file only.
  set_source_files_properties(${XG_DRIVER_DIR}/libxl/lx_host.c PROPERTIES COMPILE_OPTIONS -std=gnu11)
  target_link_libraries(xg_driver_libxl PUBLIC PkgConfig::XENLIGHT PkgConfig::XENSTORE
    PkgConfig::XENTOOLLOG PkgConfig::XENCTRL Threads::Threads)
endif()

add_library(xg_driver OBJECT ${XG_DRIVER_DIR}/select.c)
target_compile_options(xg_driver PRIVATE ${XG_WARN})
target_link_libraries(xg_driver PUBLIC xg_driver_sim)
if(XG_HAVE_LIBXL)
  target_compile_definitions(xg_driver PRIVATE XG_HAVE_LIBXL=1)
  target_link_libraries(xg_driver PUBLIC xg_driver_libxl)
endif()
