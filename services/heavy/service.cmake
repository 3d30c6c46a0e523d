# worker-heavy's gRPC adapter (callback API) and the binary. Included from CMakeLists.txt after
# the core libraries. The service process links no MuJoCo, no renderer and no scene parser:
# those run in worker-heavy-runner (runner/), which worker-heavy depends on and finds beside it.
add_library(heavy_services STATIC
  ${CMAKE_CURRENT_LIST_DIR}/call_ticker.cc
  ${CMAKE_CURRENT_LIST_DIR}/event_session.cc
  ${CMAKE_CURRENT_LIST_DIR}/heavy_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/heavy_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/job_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/payload_call_hub.cc
  ${CMAKE_CURRENT_LIST_DIR}/payload_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/payload_reactor.cc)
target_include_directories(heavy_services PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(heavy_services
  PUBLIC heavy_admission_core heavy_intake_core heavy_runner_pool workerpair_heavy_proto
         rpc_client rpc_server common_telemetry
  PRIVATE nlohmann_json::nlohmann_json workerpair_warnings)

add_executable(worker-heavy ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(worker-heavy PRIVATE heavy_services heavy_admission_core heavy_intake_core
                      heavy_runner_pool rpc_server workerpair_warnings)
add_dependencies(worker-heavy worker-heavy-runner)
