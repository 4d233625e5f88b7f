# hostnet.cmake: the host network backends (netlink, sim) as an OBJECT
# library, included by handlers/CMakeLists.txt and by tests/hostnet.
include_guard(GLOBAL)
set(XG_HOSTNET_DIR ${CMAKE_CURRENT_LIST_DIR})
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::NLROUTE)
  pkg_check_modules(NLROUTE REQUIRED IMPORTED_TARGET GLOBAL libnl-route-3.0)
endif()
# VIF locking: guest port filters through libnftables (nftables' own library)
if(NOT TARGET PkgConfig::NFTABLES)
  pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET GLOBAL libnftables)
endif()
add_library(xg_hostnet OBJECT ${XG_HOSTNET_DIR}/hostnet_nl.c ${XG_HOSTNET_DIR}/hostnet_sim.c
            ${XG_HOSTNET_DIR}/nft_rules.c)
target_compile_options(xg_hostnet PRIVATE ${XG_WARN})
target_link_libraries(xg_hostnet PUBLIC PkgConfig::NLROUTE PkgConfig::NFTABLES)
