# instrument.cmake: with XG_FUZZ=ON (included by the top-level CMakeLists.txt
# before any target exists) every object the fuzz targets link is compiled
# for libFuzzer's feedback (fuzzer-no-link: edge counters and comparison
# tracing), ASan and UBSan (a UB report aborts, so the fuzzer sees it as a
# crash), and clang's source coverage, from which run-fuzz.sh reports the
# lines of each parser its corpus reaches. Only the fuzz targets link the
# libFuzzer driver (tests/fuzz/CMakeLists.txt).
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "XG_FUZZ=ON needs clang: configure with -DCMAKE_C_COMPILER=clang "
                      "(found ${CMAKE_C_COMPILER_ID})")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -fprofile-instr-generate -fcoverage-mapping)
add_link_options(-fsanitize=address,undefined -fprofile-instr-generate)

# run-fuzz.sh reads the coverage with the LLVM tools of the same version.
string(REGEX MATCH "^[0-9]+" XG_CLANG_MAJOR "${CMAKE_C_COMPILER_VERSION}")
find_program(XG_LLVM_PROFDATA NAMES llvm-profdata-${XG_CLANG_MAJOR} llvm-profdata)
find_program(XG_LLVM_COV NAMES llvm-cov-${XG_CLANG_MAJOR} llvm-cov)
if(NOT XG_LLVM_PROFDATA OR NOT XG_LLVM_COV)
  message(FATAL_ERROR "XG_FUZZ=ON needs llvm-profdata and llvm-cov (Debian package llvm)")
endif()
