// libhdf5 1.10.8 can crash the process on a corrupt file (SEGV in
// H5F__accum_read under H5Lexists, heap over-reads in H5VM_memcpyvv under
// H5Dread, huge mallocs in H5C_protect). Before sira first opens an existing
// HDF5 file (an input, or a file it adds a dataset to), a forked child opens it
// and walks its structure the way sira's reads will: every object, attribute,
// dataset and the start of each chunk index; the data of small datasets and the
// first row (so the first chunk) of large ones. If the child dies, the file is
// refused with "FILE: HDF5 library crashed while reading ... (corrupt file?)"
// instead of the library taking sira down. Each file (device, inode, size,
// mtime) is checked once per process. SIRA_HDF5_PREFLIGHT=0 skips it.
#pragma once

#include <string>

namespace sira::io {

void preflight_hdf5_input(const std::string& path);

}  // namespace sira::io
