// A program outside sira's tree that uses the installed library: loads a model,
// denoises a stack (any format sira reads) and writes it as float32.
//   denoise_image MODEL INPUT OUTPUT [THREADS]
#include <sira/engine.hpp>
#include <sira/error.hpp>
#include <sira/io.hpp>
#include <sira/model.hpp>
#include <sira/version.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL INPUT OUTPUT [THREADS]  (sira %s)\n", argv[0], SIRA_VERSION);
    return 2;
  }
  try {
    const sira::Model model = sira::load_model(argv[1]);
    sira::EngineOptions options;
    if (argc > 4) options.threads = std::stoi(argv[4]);
    sira::Engine engine(model, options);
    const sira::Stack input = sira::read_stack(argv[2]);
    const sira::Stack output = engine.denoise(input);
    sira::write_stack(argv[3], output, sira::DType::f32);
    std::printf("sira %s: %zu slice(s) of %zux%zu denoised on %s (%s)\n", SIRA_VERSION, input.depth, input.height,
                input.width, engine.backend_name().c_str(), sira::precision_name(engine.precision()));
  } catch (const sira::Error& e) {
    std::fprintf(stderr, "denoise_image: %s\n", e.what());
    return 1;
  }
  return 0;
}
