# The installable library (docs/library.md): libsira.so with the public headers
# of include/sira, a CMake package (find_package(sira) -> sira::sira) and a
# pkg-config file (sira.pc). The static layers go whole into the shared library;
# their dependencies (oneDNN, HDF5, TIFF, PNG, FFTW, OpenMP...) stay private to
# it, since no public header names them. `cmake --install build --prefix P`
# installs it with the CLI.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# include/sira/version.hpp, generated from project(VERSION).
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.hpp.in ${CMAKE_BINARY_DIR}/include/sira/version.hpp @ONLY)

add_library(sira_shared SHARED ${CMAKE_SOURCE_DIR}/cmake/empty.cpp)
set_target_properties(sira_shared PROPERTIES OUTPUT_NAME sira VERSION ${PROJECT_VERSION}
                                             SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
# Whole archives (CMake's WHOLE_ARCHIVE feature refuses a layer that another
# layer also links normally); their dependencies follow, as CMake adds them.
target_link_libraries(sira_shared PRIVATE "-Wl,--whole-archive" ${sira_libs} "-Wl,--no-whole-archive")
target_include_directories(sira_shared INTERFACE $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                                 $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/include>
                                                 $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(sira_shared INTERFACE cxx_std_20)
set_target_properties(sira_shared PROPERTIES EXPORT_NAME sira)
add_library(sira::sira ALIAS sira_shared)

install(TARGETS sira RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET sira-train)
  install(TARGETS sira-train RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS sira_shared EXPORT siraTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/sira DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/include/sira/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sira)
install(EXPORT siraTargets NAMESPACE sira:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sira)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/sira-config.cmake.in
                              ${CMAKE_BINARY_DIR}/sira-config.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sira)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sira-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sira-config.cmake ${CMAKE_BINARY_DIR}/sira-config-version.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sira)
configure_file(${CMAKE_SOURCE_DIR}/cmake/sira.pc.in ${CMAKE_BINARY_DIR}/sira.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sira.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sira/models
        FILES_MATCHING PATTERN "*.sira" PATTERN "*.md")
