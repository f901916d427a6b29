// Keeps the memory of freed large buffers in the process for the next ones.
// glibc maps every allocation above its mmap threshold (128 KiB at start,
// raised only when such a block is freed by the thread that owns its arena)
// with mmap and unmaps it on free, and trims the heap tops it frees down to
// 128 KiB: a service that allocates and frees megabyte images per frame across
// threads (receiver -> engine -> publisher) then pays ~2000 page faults and
// zeroed pages per 1024² image (measured: 16 ms of system time per image in
// `sira serve`, docs/serve.md). Tuning the two thresholds once at start keeps
// those pages mapped, as tuned allocators (jemalloc, tcmalloc) do by default.
#pragma once

namespace sira {

// Call once, before the threads start. Blocks up to 32 MiB (glibc's maximum
// threshold: a 2048² float image) come from the heap; freed heap memory is
// returned to the system only beyond `keep_mib` at the top of a heap.
void reuse_freed_memory(int keep_mib = 512);

}  // namespace sira
