// The ring of an incoming call, made with Web Audio (no sound file to
// ship): two tones together, on for a second and a half, off for three
// and a half, until stopped. Where there is no audio (tests, a browser
// without Web Audio) it rings silently.

const onSeconds = 1.5;
const periodSeconds = 5;
const tones = [440, 480];

/** Starts ringing; the function returned stops it. */
export function ring(): () => void {
  const Context = globalThis.AudioContext;
  if (typeof Context !== "function") return () => undefined;
  let ctx: AudioContext;
  try {
    ctx = new Context();
  } catch {
    return () => undefined;
  }
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const oscillators = tones.map((f) => {
    const o = ctx.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start();
    return o;
  });
  // Schedule the on/off pattern a minute ahead at a time.
  let scheduledUntil = ctx.currentTime;
  const schedule = () => {
    const horizon = ctx.currentTime + 60;
    while (scheduledUntil < horizon) {
      gain.gain.setValueAtTime(0.15, scheduledUntil);
      gain.gain.setValueAtTime(0, scheduledUntil + onSeconds);
      scheduledUntil += periodSeconds;
    }
  };
  schedule();
  const timer = window.setInterval(schedule, 30_000);
  return () => {
    window.clearInterval(timer);
    for (const o of oscillators) o.stop();
    void ctx.close();
  };
}
