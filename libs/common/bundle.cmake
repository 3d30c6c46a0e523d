# The payload bundle: deterministic tar.gz packing and validated, confined unpacking (libarchive).
# No gRPC: worker-light packs with it, worker-heavy unpacks with it.
# GLOBAL: tests and worker-heavy link LibArchive::LibArchive from their own folders.
find_package(LibArchive REQUIRED GLOBAL)
# zlib inflates payloads itself: it checks the gzip CRC, which libarchive's reader skips.
find_package(ZLIB REQUIRED)

add_library(common_bundle STATIC ${CMAKE_CURRENT_LIST_DIR}/bundle.cc)
target_include_directories(common_bundle PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(common_bundle
  PUBLIC common_core
  PRIVATE LibArchive::LibArchive ZLIB::ZLIB workerpair_warnings)
