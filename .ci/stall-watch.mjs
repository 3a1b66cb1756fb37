// Watches the machine while CI runs, printing one line each time it stopped: a virtual machine
// paused and resumed (its wall clock then jumps against the monotonic one, which did not count
// the pause), a step of the system clock, or a stall that held a 100 ms timer back for seconds.
// Tests that time real waits cannot hold across such a stop; .ci/run reads these lines to tell
// a stopped machine from a failing test.
const TICK_MS = 100;
const CLOCK_JUMP_MS = 500;
const STALL_MS = 3000;

let wall = Date.now();
let mono = performance.now();
setInterval(() => {
  const w = Date.now();
  const m = performance.now();
  const jump = w - wall - (m - mono);
  const at = new Date(w).toISOString();
  if (Math.abs(jump) >= CLOCK_JUMP_MS) {
    console.log(
      `${at} the wall clock moved ${Math.round(jump)} ms against the monotonic one (paused, or stepped)`,
    );
  } else if (m - mono >= STALL_MS) {
    console.log(
      `${at} a ${TICK_MS} ms timer fired after ${Math.round(m - mono)} ms (the machine stalled)`,
    );
  }
  wall = w;
  mono = m;
}, TICK_MS);
