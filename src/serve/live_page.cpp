#include "serve/live_page.hpp"

namespace sira::serve {

const char* live_page_html() {
  return R"html(<!doctype html>
<html><head><meta charset="utf-8"><title>sira serve</title>
<style>
  body { margin: 0; background: #202020; color: #e8e8e8; font: 14px sans-serif; }
  #head { position: absolute; left: 10px; top: 8px; white-space: nowrap; }
  canvas { position: absolute; top: 40px; image-rendering: pixelated; }
  #raw { left: 10px; }
  #stats { position: absolute; left: 10px; white-space: nowrap; }
</style></head>
<body>
<div id="head">sira serve: waiting for the first image</div>
<canvas id="raw" width="1" height="1"></canvas><canvas id="restored" width="1" height="1"></canvas>
<div id="stats" style="top: 60px"></div>
<script>
let shown = -1;
async function pixels(which, seq) {
  const r = await fetch('/latest/' + which, {cache: 'no-store'});
  if (r.headers.get('X-Seq') !== String(seq)) return null;  // a newer image came meanwhile
  return new Uint8Array(await r.arrayBuffer());
}
function paint(id, m, buf) {
  const cv = document.getElementById(id);
  cv.width = m.width; cv.height = m.height;
  const ctx = cv.getContext('2d');
  const img = ctx.createImageData(m.width, m.height);
  for (let i = 0; i < buf.length; i++) {
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = buf[i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
async function tick() {
  try {
    const m = await (await fetch('/latest.json', {cache: 'no-store'})).json();
    const c = await (await fetch('/metrics.json', {cache: 'no-store'})).json();
    if (m.seq > 0 && m.seq !== shown) {
      const raw = await pixels('raw', m.seq), restored = await pixels('restored', m.seq);
      if (raw && restored && raw.length === m.width * m.height && restored.length === raw.length) {
        paint('raw', m, raw);
        paint('restored', m, restored);
        document.getElementById('restored').style.left = (10 + m.width + 20) + 'px';
        document.getElementById('stats').style.top = (40 + m.height + 10) + 'px';
        shown = m.seq;
        document.getElementById('head').textContent =
          'raw | restored: series ' + m.series_id + ', image ' + m.image_id + ', one scale ' +
          m.lo.toPrecision(5) + ' .. ' + m.hi.toPrecision(5) + ', latency ' + m.latency_ms.toFixed(1) + ' ms';
      }
    }
    const inflight = c.received - c.published - c.dropped - c.rejected;
    document.getElementById('stats').textContent =
      'received ' + c.received + ' | published ' + c.published + ' | dropped ' + c.dropped +
      ' | rejected ' + c.rejected + ' | in flight ' + inflight + ' | latency p50 ' +
      c.latency_ms.p50.toFixed(1) + ' ms, p99 ' + c.latency_ms.p99.toFixed(1) + ' ms';
  } catch (e) {
    document.getElementById('stats').textContent = 'sira serve is not answering (' + e + ')';
  }
  setTimeout(tick, 500);
}
tick();
</script>
</body></html>
)html";
}

}  // namespace sira::serve
