// Slice-wise HDF5: hyperslab reads of slice ranges from a dataset kept open,
// and a dataset created with the output's full shape and filled slice by slice
// in a temporary file (or a copy of an existing file) that replaces the target
// on commit. Every HDF5 call holds hdf5_lock(), so a reader and a writer may
// work on different threads.
#include <filesystem>
#include <optional>
#include <variant>

#include "io/formats.hpp"
#include "io/hdf5_lock.hpp"
#include "sira/error.hpp"
#include "sira/hdf5.hpp"
#include "sira/stack_stream.hpp"

namespace sira::io {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

namespace {

class Hdf5StackReader final : public StackReader {
 public:
  Hdf5StackReader(const std::string& file, const std::string& dataset) : dataset_(dataset) {
    auto lock = hdf5_lock();
    spec_ = cat(file, ":", dataset);
    info_ = probe_stack(spec_);  // shape checks and messages as read_stack gives them
    file_.emplace(H5File::open(file));
  }
  ~Hdf5StackReader() override {
    auto lock = hdf5_lock();
    file_.reset();
  }

 protected:
  Stack read_range(std::size_t first, std::size_t count) override {
    auto lock = hdf5_lock();
    return file_->read_slices(dataset_, first, count);
  }

 private:
  std::string dataset_;
  std::optional<H5File> file_;
};

class Hdf5StackWriter final : public StackWriter {
 public:
  Hdf5StackWriter(const std::string& file, const std::string& dataset, const StackInfo& shape,
                  DType as)
      : StackWriter(cat(file, ":", dataset), shape, as), dataset_(dataset) {
    auto lock = hdf5_lock();
    // An existing file keeps its other datasets: the dataset is written into
    // a copy that replaces the file when complete (copy-on-write).
    file_.emplace(H5File::add_to(file));  // locked until committed or destroyed
    try {
      file_->create_stack(dataset_, shape, as);
    } catch (...) {
      file_.reset();  // under the lock: the destructor does not run for a failed constructor
      throw;
    }
  }
  ~Hdf5StackWriter() override {
    auto lock = hdf5_lock();
    file_.reset();  // without commit(): closes and removes the temporary
  }

 protected:
  void write_range(std::size_t first, const Stack& block) override {
    auto lock = hdf5_lock();
    file_->write_slices(dataset_, first, block, shape_.dtype);
  }
  void finish() override {
    auto lock = hdf5_lock();
    for (const auto& field : provenance_.fields)  // not a structured binding: clang 14 cannot capture one
      std::visit([&](const auto& v) { file_->set_attr(dataset_, field.first, v); }, field.second);
    file_->commit();
  }

 private:
  std::string dataset_;
  std::optional<H5File> file_;
};

}  // namespace

std::unique_ptr<StackReader> open_hdf5_reader(const std::string& file, const std::string& dataset) {
  return std::make_unique<Hdf5StackReader>(file, dataset);
}

std::unique_ptr<StackWriter> create_hdf5_writer(const std::string& file, const std::string& dataset,
                                                const StackInfo& shape, DType as) {
  return std::make_unique<Hdf5StackWriter>(file, dataset, shape, as);
}

}  // namespace sira::io
