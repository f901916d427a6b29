// Denoising a stack file into another without holding either whole: a reader
// thread reads slices ahead (with the neighbours a 3-slice model needs, edges
// repeated as Engine::denoise does), the calling thread runs the engine slice by
// slice, a writer thread writes finished slices in order. The queues between them
// are bounded, so memory does not grow with the stack's depth. The output is
// identical to write_stack(output, engine.denoise(read_stack(input))) and appears
// only when complete: on any failure (bad sample, read or write error) the
// temporary output is removed and the error is rethrown.
#pragma once

#include <cstddef>
#include <string>

#include "sira/engine.hpp"
#include "sira/io.hpp"
#include "sira/stack.hpp"
#include "sira/stack_stream.hpp"

namespace sira {

struct StreamOptions {
  DType dtype = DType::f32;      // sample type written
  std::string preview{};         // optional 8-bit PNG of the middle output slice
  std::size_t read_ahead = 2;    // neighbourhoods read ahead of the engine
  std::size_t write_behind = 2;  // finished slices waiting for the writer
  Progress progress{};           // called on the calling thread after each slice
  Provenance provenance{};       // stored with the output (sira/provenance.hpp)
};

struct StreamReport {
  StackInfo input;
  double seconds = 0;          // from opening the input to the committed output
  double compute_seconds = 0;  // inside the engine
  double wait_seconds = 0;     // engine idle: waiting for input or for room in the output queue
};

StreamReport denoise_stream(Engine& engine, const std::string& input, const std::string& output,
                            const StreamOptions& options = {});

// The same pipeline over input slices [first, first + count) only (a slab of the
// stack, as one MPI rank denoises): it reads the slab and the neighbours its
// edge slices need (clamped to the whole stack, so each slice gets exactly the
// window denoise_stream gives it), and writes input slice first + k as slice k
// of `writer`, which the caller commits. `preview_slice`, if given, receives the
// stack's middle output slice when it lies in the slab. options.progress counts
// the slab's slices; options.preview and options.provenance are the caller's.
StreamReport denoise_slab(Engine& engine, StackReader& reader, StackWriter& writer, std::size_t first,
                          std::size_t count, const StreamOptions& options, Stack* preview_slice = nullptr);

}  // namespace sira
