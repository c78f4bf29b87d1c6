# engine/evidence/embed_policy.cmake: compiles default-policy.yaml into warrantd, so the server
# needs no policy file at run time. Used by engine/CMakeLists.txt and tests/fuzz/CMakeLists.txt.
#
# warrant_embed_default_policy(<out_var>) writes <build>/generated/default_policy_text.cc,
# defining warrant::engine::evidence::default_policy_text as a raw string literal holding the
# file byte for byte, and sets <out_var> to its path. Editing the YAML file re-runs CMake.
function(warrant_embed_default_policy out_var)
  set(dir ${PROJECT_SOURCE_DIR}/engine/evidence)
  set(src ${dir}/default-policy.yaml)
  file(READ ${src} WARRANT_DEFAULT_POLICY_TEXT)
  string(FIND "${WARRANT_DEFAULT_POLICY_TEXT}" ")warrant_policy\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${src} contains the raw-string delimiter )warrant_policy\"")
  endif()
  set(out ${PROJECT_BINARY_DIR}/generated/default_policy_text.cc)
  configure_file(${dir}/default_policy_text.cc.in ${out} @ONLY)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
