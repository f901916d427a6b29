// The link between sira fanout (ROUTER, bound) and its workers (`sira serve
// --worker`, DEALER, connected): every message is a kind frame, a JSON frame
// and, for images and results, the raw samples (docs/scale.md, "Live fan-out").
//   worker -> ingest
//     ready     {"credit": C, "name": ..., "model": ..., "slices": S}  C = images it can take now
//     heartbeat {}                                         every heartbeat_ms, from its I/O thread
//     result    array-1.0 float32 header + "seq" | pixels  the acknowledgement, and one credit back
//     failed    {"seq": S, "error": ...}                   the engine refused the image (one credit back)
//   ingest -> worker
//     start     {"series_id", "height", "width", "number_of_images"}  copied to every worker
//     image     array-1.0 header of the input frame + "seq" | samples  only against a credit;
//               for a model of S > 1 slices the header adds "window": n, "centre": c and
//               n sample frames follow (the image's neighbours in input order, itself at c)
//     end       {"series_id"}                               copied to every worker
//     who       {}   "I do not know you" (the ingest restarted, or declared you dead): answer ready
//     refused   {"error": ...}  the worker's model takes another number of slices: it stops
// "seq" numbers the images in the order the ingest read them; the collector
// publishes in that order.
#pragma once


namespace sira::serve::link {

inline constexpr const char* kReady = "ready";
inline constexpr const char* kHeartbeat = "heartbeat";
inline constexpr const char* kResult = "result";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kStart = "start";
inline constexpr const char* kImage = "image";
inline constexpr const char* kEnd = "end";
inline constexpr const char* kWho = "who";
inline constexpr const char* kRefused = "refused";

inline constexpr int kHeartbeatMs = 250;

}  // namespace sira::serve::link
