// Warming the engine up for an image size before the frames of that size come.
#pragma once

#include "serve/service.hpp"
#include "sira/engine.hpp"

namespace sira::serve {

// The engine's first image of a size costs several times a later one (oneDNN
// builds its primitives, buffers are allocated and paged in, weights packed):
// run it once on a dummy image of that size, so no frame pays for it. The
// result is discarded; nothing is counted. A size the model refuses is left
// for the real images to report. Used by sira serve and its fan-out workers.
void warm_up(Engine& engine, ImageSize size);

}  // namespace sira::serve
