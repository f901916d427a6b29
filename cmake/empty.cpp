// libsira.so is made of the static layers linked whole (cmake/install.cmake);
// a library target needs one source of its own.
