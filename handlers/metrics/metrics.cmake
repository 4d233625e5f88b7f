# handlers/metrics: RRD engine, sampler, /rrd_updates, /host_rrd, /vm_rrd,
# /metrics. Included by handlers/CMakeLists.txt; self-contained.
set(XG_METRICS_DIR ${CMAKE_CURRENT_LIST_DIR})
set(XG_METRICS_PURE_SOURCES
  ${XG_METRICS_DIR}/rrd.c
  ${XG_METRICS_DIR}/rrd_xml.c
  ${XG_METRICS_DIR}/rrd_updates.c
  ${XG_METRICS_DIR}/openmetrics.c
  ${XG_METRICS_DIR}/msink.c
  ${XG_METRICS_DIR}/mreg.c
  ${XG_METRICS_DIR}/sampler.c)
add_library(xg_metrics OBJECT
  ${XG_METRICS_PURE_SOURCES}
  ${XG_METRICS_DIR}/metrics.c
  ${XG_METRICS_DIR}/metrics_http.c)
target_compile_options(xg_metrics PRIVATE ${XG_WARN})
target_link_libraries(xg_metrics PUBLIC PkgConfig::ZLIB Threads::Threads m)
