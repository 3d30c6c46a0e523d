# workerpair_add_proto(<target> PROTOS <files...> [IMPORT_DIRS <dirs...>] [DEPS <targets...>])
#
# Generates C++ message and gRPC service code for PROTOS into the build tree and wraps it in a
# static library. Paths in PROTOS are relative to the first import dir, which is also the root the
# generated headers are included from (e.g. "workerpair/v1/light_files.grpc.pb.h").
function(workerpair_add_proto target)
  cmake_parse_arguments(ARG "" "" "PROTOS;IMPORT_DIRS;DEPS" ${ARGN})
  if(NOT ARG_IMPORT_DIRS)
    set(ARG_IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  list(GET ARG_IMPORT_DIRS 0 root)
  set(out_dir ${CMAKE_BINARY_DIR}/generated)
  set(include_flags)
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    list(APPEND include_flags -I${dir})
  endforeach()
  set(sources)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(generated ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h
                  ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${generated}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND protobuf::protoc ${include_flags} --cpp_out=${out_dir} --grpc_out=${out_dir}
              --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin> ${root}/${proto}
      DEPENDS ${root}/${proto} protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND sources ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.grpc.pb.cc)
  endforeach()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
endfunction()
