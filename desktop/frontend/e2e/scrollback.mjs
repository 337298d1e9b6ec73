#!/usr/bin/env node
// Scrollback end-to-end test: every message of a channel is seen, exactly
// once, by a reader who scrolls its whole history with the mouse wheel,
// slowly or fast, up from the newest and back down.
//
//   cd desktop/frontend && npm run build && node e2e/scrollback.mjs [--messages N] [--in-flight K] [--keep]
//
// It builds cmd/ancore, starts one headless node (e2e/lib.mjs), posts N
// messages (default 320) to #general through the API (K requests in
// flight, default 1), opens #general in headless Chromium and plays four
// scrolls, each in a fresh browser context but the last two going on from
// where the one before them stopped:
//
//   slow-up     from the newest to the oldest, one wheel turn (500 px) at a time,
//               waiting after each for the list to settle
//   slow-down   from the oldest back to the newest, the same way
//   fast-up     bursts of 6 wheel turns without waiting between them, up to the oldest
//   fast-down   the same, down to the newest; then three messages posted
//               live must each show at the bottom (the view follows the present)
//
// "Settled" is a condition, not a sleep: no message page request in flight
// and the list (scroll position, height, the rows in the DOM) unchanged
// over two animation frames. A recorder in the page (put there by the
// test; the app exposes nothing) notes, on every animation frame and
// every scroll event, which message rows are on screen: at least a pixel
// of the row's place inside the list's box (its place ends where the next
// row starts: a row drawn before it is measured may reach under the next
// for a frame). It also wraps the list's scrollTop setter and scrollTo,
// so that of each frame's move it can tell the app's own share from the
// reader's. Checks, on every frame the recorder saw:
//   - the rows in the DOM are messages of the channel in its order, each
//     once, at most 200 of them, and those on screen a run of consecutive
//     messages (the DOM may hold two runs for a frame: what was around the
//     old scroll position and what is around the reader's row);
//   - going up, the view never moves back down (a message seen again) and
//     never jumps past a message (one never seen); going down the same. A
//     jump is the reader's, not the app's, when the reader's own move in
//     that frame was more than the view's height (Chromium may fold
//     several wheel turns of a fast scroll into one frame): the messages
//     passed over then count as passed, and are reported;
// and at the end of each scroll that every message was on screen (or
// passed over by the reader) at least once. Messages are identified by
// data-id and numbered 1..N in the node's order (GET /channels/{id}/messages).
//
// A slower machine, a slower network or another window size changes the
// timing and the rows' heights (a row's height differs from the list's
// estimate): --cpu-slowdown, --latency and --viewport run the same checks
// so. SCROLLBACK_DEBUG=1 adds the rows' positions and the app's scroll
// writes around each problem to the report.
//
// Exit 0 when every check passed, 1 on a failure (screenshot in build/e2e/),
// 2 on bad flags, 130 when interrupted.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  StepError, T, api, builtUI, checkChromium, cleanup, goBuild, init, interrupted, launchChromium, log, newPage, onCleanup,
  repoRoot, secs, startNode, waitUntil,
} from './lib.mjs';

const usage = `usage: node e2e/scrollback.mjs [--messages N] [--in-flight K] [--only NAME[,NAME]] [--viewport WxH]
                              [--cpu-slowdown R] [--latency MS] [--keep]

  --messages N      messages in the channel (default 320)
  --in-flight K     POSTs in flight while seeding (default 1: one after another; more
                    give messages of one millisecond, which the node orders by its clock)
  --only NAMES      run only these scrolls (slow-up, slow-down, fast-up, fast-down)
  --viewport WxH    the browser window (default 1440x900)
  --cpu-slowdown R  slow the page's CPU R times (Chromium's throttling)
  --latency MS      answer each message page request 0.5–1.5 × MS later
  --keep            keep the temporary folder (binary, node data)

Environment: CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_SCALE, SCROLLBACK_DEBUG.`;

const opts = { messages: 320, inFlight: 1, keep: false, only: null, cpu: 1, latency: 0, width: 1440, height: 900 };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v <= 0) {
        console.error(`scrollback: ${a} needs a positive whole number\n\n${usage}`);
        process.exit(2);
      }
      return v;
    };
    if (a === '--messages') opts.messages = num();
    else if (a === '--in-flight') opts.inFlight = num();
    else if (a === '--keep') opts.keep = true;
    else if (a === '--cpu-slowdown') opts.cpu = num();
    else if (a === '--latency') opts.latency = num();
    else if (a === '--viewport') {
      const m = /^(\d+)x(\d+)$/.exec(argv[++i] ?? '');
      if (!m) {
        console.error(`scrollback: --viewport needs WIDTHxHEIGHT\n\n${usage}`);
        process.exit(2);
      }
      [opts.width, opts.height] = [Number(m[1]), Number(m[2])];
    }
    else if (a === '--only') opts.only = new Set((argv[++i] ?? '').split(','));
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else {
      console.error(`scrollback: unknown flag ${a}\n\n${usage}`);
      process.exit(2);
    }
  }
}

init('scrollback');

const outDir = path.join(repoRoot, 'build', 'e2e');
const prefix = 'scrollback-';
const wheelStep = 500; // px a wheel turn
const burst = 6; // wheel turns of a fast scroll, no wait between them
const maxDom = 200; // message rows the DOM may hold

// ---------------------------------------------------------------- seeding

const words = 'the quick brown fox jumps over a lazy dog while peers gossip ops across the mesh and every node keeps its own copy'.split(' ');

// messageText is message i's text: "msg i:" and 3 to 40 words, every
// 7th on three lines, so rows have different heights.
function messageText(i) {
  let x = (i * 2654435761) >>> 0;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 8);
  const n = 3 + (next() % 38);
  const w = [];
  for (let k = 0; k < n; k++) w.push(words[next() % words.length]);
  let text = `msg ${i}: ${w.join(' ')}`;
  if (i % 7 === 0) text += `\nsecond line of ${i}\nthird line of ${i}`;
  return text;
}

async function seed(node, channel) {
  let next = 1;
  async function worker() {
    for (;;) {
      const i = next++;
      if (i > opts.messages) return;
      await api(node, 'POST', `/channels/${channel}/messages`, { text: messageText(i) });
    }
  }
  await Promise.all(Array.from({ length: opts.inFlight }, worker));
}

// channelOrder is every message ID of the channel in the node's order, oldest first.
async function channelOrder(node, channel) {
  let out = [];
  let page = await api(node, 'GET', `/channels/${channel}/messages?limit=100`);
  while (page.length > 0) {
    out = page.map((m) => m.id).concat(out);
    if (page.length < 100) break;
    page = await api(node, 'GET', `/channels/${channel}/messages?limit=100&before=${encodeURIComponent(page[0].id)}`);
  }
  return out;
}

// ---------------------------------------------------------------- in the page

// installRecorder (run in the page) notes on every animation frame and
// every scroll event which message rows are on screen and which are in
// the DOM, as channel numbers (index is data-id → 1..N).
function installRecorder(index) {
  const at = new Map(Object.entries(index));
  const list = document.querySelector('[data-testid="message-list"]');
  const rec = (window.__scrollback = { frames: [], stop: false, problems: [], wheel: 0 });
  // What the reader asked for since the last frame noted: the wheel's deltaY, added up.
  list.addEventListener('wheel', (e) => (rec.wheel += e.deltaY), { passive: true, capture: true });
  const note = (why) => {
    const box = list.getBoundingClientRect();
    // Every row the list draws (messages, day separators, the unread
    // divider), by where it is drawn, top to bottom. A row is on screen
    // where it is not under the next one: a row drawn before it is
    // measured may reach into the next row's place for a frame.
    const slots = [...list.querySelectorAll('[data-index]')]
      .map((w) => ({ m: w.querySelector('[data-testid="message"][data-id]'), r: w.getBoundingClientRect() }))
      .sort((a, b) => a.r.top - b.r.top);
    const placed = [];
    slots.forEach((x, i) => {
      if (!x.m) return;
      const bottom = Math.min(x.r.bottom, slots[i + 1]?.r.top ?? Infinity);
      placed.push({ n: at.get(x.m.getAttribute('data-id')) ?? -1, r: { top: x.r.top, bottom, height: bottom - x.r.top } });
    });
    const dom = placed.map((p) => p.n);
    const vis = placed.filter((p) => p.r.bottom > box.top + 1 && p.r.top < box.bottom - 1 && p.r.height > 0);
    const shown = vis.map((p) => p.n);
    const at0 = vis.length ? `${vis[0].n}@${Math.round(vis[0].r.top - box.top)}/${Math.round(vis[0].r.height)}` : '';
    const dbg = window.__scrollbackDebug ? placed.map((p) => `${p.n}@${Math.round(p.r.top - box.top)}`).join(' ') : '';
    const last = rec.frames[rec.frames.length - 1];
    const key = `${list.scrollTop}|${dom.join(',')}|${shown.join(',')}`;
    if (last && last.key === key && rec.appMoved === 0 && list.scrollTop === rec.lastTop) return;
    const top = list.scrollTop;
    const reader = top - rec.lastTop - rec.appMoved;
    rec.lastTop = top;
    rec.appMoved = 0;
    rec.frames.push({ why, t: performance.now(), top, height: list.scrollHeight, client: list.clientHeight, wheel: rec.wheel, reader, at0, dbg, writes: rec.writes.splice(0), dom, shown, key });
    rec.wheel = 0;
  };
  rec.note = note;
  // The app's own moves of the scroll position (writes of scrollTop,
  // scrollTo calls), so that what is left of a frame's move is the reader's.
  rec.writes = [];
  rec.appMoved = 0;
  rec.lastTop = list.scrollTop;
  const desc = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollTop');
  const scrollTo = Element.prototype.scrollTo;
  const moving = (fn, what) => {
    const before = desc.get.call(list);
    fn();
    const after = desc.get.call(list);
    rec.appMoved += after - before;
    if (window.__scrollbackDebug) rec.writes.push(`${what} ${Math.round(before)}->${Math.round(after)}`);
  };
  Object.defineProperty(list, 'scrollTop', {
    configurable: true,
    get() {
      return desc.get.call(this);
    },
    set(v) {
      moving(() => desc.set.call(this, v), 'scrollTop=');
    },
  });
  list.scrollTo = function (...args) {
    moving(() => scrollTo.apply(this, args), 'scrollTo');
  };
  list.addEventListener('scroll', () => note('scroll'), { passive: true });
  const frame = () => {
    if (rec.stop) return;
    note('frame');
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

// takeFrames (run in the page) hands over and forgets what the recorder noted.
function takeFrames() {
  const rec = window.__scrollback;
  rec.note('take');
  const frames = rec.frames.splice(0);
  // Keep the last one so the next batch is compared with it.
  if (frames.length) rec.frames.push(frames[frames.length - 1]);
  return frames.map(({ key, ...f }) => f);
}

// listSignature (run in the page) resolves, three frames on, with whether
// the list stayed the same over the last two, and where it is.
function listSignature() {
  const list = document.querySelector('[data-testid="message-list"]');
  const sig = () => `${list.scrollTop}|${list.scrollHeight}|${[...list.querySelectorAll('[data-testid="message"][data-id]')].map((r) => r.getAttribute('data-id')).join(',')}`;
  return new Promise((resolve) => {
    const seen = [];
    const step = () => {
      seen.push(sig());
      if (seen.length < 3) requestAnimationFrame(step);
      else resolve({ stable: seen[0] === seen[1] && seen[1] === seen[2], top: list.scrollTop, height: list.scrollHeight, client: list.clientHeight });
    };
    requestAnimationFrame(step);
  });
}

// ---------------------------------------------------------------- checks

const ranges = (ns) => {
  const s = [...ns].sort((a, b) => a - b);
  const out = [];
  for (const n of s) {
    const r = out[out.length - 1];
    if (r && n === r[1] + 1) r[1] = n;
    else out.push([n, n]);
  }
  return out.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
};

// Scroll is one scroll through the channel in one direction: it checks
// every frame it is given and keeps what was on screen.
class Scroll {
  constructor(name, dir, total) {
    Object.assign(this, { name, dir, total, seen: new Set(), passed: new Set(), readerJumps: 0, wheel: 0, reader: 0, frames: 0, prev: null, problems: [], maxDom: 0, requests: 0 });
  }
  take(frames) {
    for (const f of frames) {
      this.frames++;
      this.wheel += f.wheel;
      this.reader += f.reader;
      const { dom, shown } = f;
      this.lastDom = this.curDom;
      this.curDom = f.dbg;
      this.maxDom = Math.max(this.maxDom, dom.length);
      if (dom.includes(-1)) this.problem(f, 'a row whose data-id is no message of the channel');
      // The DOM may hold two runs for a frame (what was around the old
      // scroll position and what is around the reader's row, in the render
      // where rows came above it), but always in the channel's order, each
      // message once; what is on screen is one run.
      for (let i = 1; i < dom.length; i++) {
        if (dom[i] <= dom[i - 1]) {
          this.problem(f, `the rows in the DOM are not in the channel's order: … ${dom.slice(Math.max(0, i - 3), i + 3).join(', ')} …`);
          break;
        }
      }
      for (let i = 1; i < shown.length; i++) {
        if (shown[i] !== shown[i - 1] + 1) {
          this.problem(f, `the rows on screen are not a run of consecutive messages: … ${shown.slice(Math.max(0, i - 3), i + 3).join(', ')} …`);
          break;
        }
      }
      if (dom.length > maxDom) this.problem(f, `${dom.length} message rows in the DOM (at most ${maxDom})`);
      if (shown.length === 0) {
        this.last = f;
        continue;
      }
      const lo = shown[0];
      const hi = shown[shown.length - 1];
      const p = this.prev;
      // Messages the view went past between two frames: the app's fault,
      // unless the reader moved the view by more than its height in
      // between (the browser coalesced wheel turns into one frame: no
      // scroller shows what lies between). The reader's move is the
      // frame's move less the app's own (scrollTop writes, scrollTo).
      const past = (from, to, what) => {
        if (Math.abs(this.reader) > f.client - 1) {
          this.readerJumps++;
          for (const n of range(from, to)) this.passed.add(n);
        } else this.problem(f, `the view jumped ${what} past messages ${ranges(range(from, to))}: on screen ${p.lo}–${p.hi}, then ${lo}–${hi}`);
      };
      if (p) {
        if (this.dir < 0) {
          // Going up, the view only moves to older messages, and its bottom reaches at least just below the old top.
          if (hi > p.hi || lo > p.lo) this.problem(f, `the view moved back down: on screen ${p.lo}–${p.hi}, then ${lo}–${hi}`);
          if (hi < p.lo - 1) past(hi + 1, p.lo - 1, 'up');
        } else {
          if (lo < p.lo || hi < p.hi) this.problem(f, `the view moved back up: on screen ${p.lo}–${p.hi}, then ${lo}–${hi}`);
          if (lo > p.hi + 1) past(p.hi + 1, lo - 1, 'down');
        }
      }
      this.prev = { lo, hi };
      this.last = f;
      this.wheel = 0;
      this.reader = 0;
      for (const n of shown) this.seen.add(n);
    }
  }
  problem(f, what) {
    const p = this.last;
    const was = p ? `, after ${p.why} at scrollTop ${Math.round(p.top)} (height ${p.height}) ${Math.round(f.t - p.t)} ms before, the wheel ${this.wheel} px since, the reader moved ${Math.round(this.reader)} px; first row ${p.at0} then ${f.at0}; writes ${JSON.stringify(f.writes)}${f.dbg ? `\n        before: ${this.lastDom}\n        after:  ${f.dbg}` : ''}` : '';
    if (this.problems.length < 20) this.problems.push(`${f.why} at scrollTop ${Math.round(f.top)} (height ${f.height})${was}: ${what}`);
    else if (this.problems.length === 20) this.problems.push('…');
  }
  missing() {
    return range(1, this.total).filter((n) => !this.seen.has(n) && !this.passed.has(n));
  }
}
const range = (a, b) => Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);

// ---------------------------------------------------------------- main

async function main() {
  let current = 'setup';
  let page = null;
  const errors = [];
  const results = [];
  const started = Date.now();
  const watchdog = setTimeout(async () => {
    console.error(`\nscrollback FAILED at "${current}": the whole run took longer than ${secs(T.overall)}`);
    if (page) await page.screenshot({ path: path.join(outDir, `${prefix}FAILED-${current}.png`), timeout: 5_000 }).catch(() => {});
    await cleanup();
    process.exit(1);
  }, T.overall);
  watchdog.unref();
  try {
    mkdirSync(outDir, { recursive: true });
    for (const f of readdirSync(outDir)) if (f.startsWith(prefix)) rmSync(path.join(outDir, f));
    checkChromium();
    if (!existsSync(builtUI)) throw new StepError(`the UI is not built: ${builtUI} is missing; run \`npm run build\` in desktop/frontend first`);

    const tmp = mkdtempSync(path.join(tmpdir(), 'ancore-scrollback-'));
    onCleanup(() => (opts.keep ? log(`kept ${tmp}`) : rmSync(tmp, { recursive: true, force: true })));
    current = 'build';
    const bin = path.join(tmp, 'ancore');
    await goBuild('./cmd/ancore', bin);

    current = 'start-node';
    const node = await startNode(bin, { name: 'scroll', dataDir: path.join(tmp, 'node'), logPath: path.join(outDir, `${prefix}node.log`) });
    await api(node, 'PATCH', '/me', { name: 'Reader' });
    const community = await api(node, 'POST', '/communities', { name: 'Scrollback' });
    const channel = community.channels.find((c) => c.name === 'general');
    if (!channel) throw new StepError('the new community has no #general');

    current = 'seed';
    const seedStart = Date.now();
    await seed(node, channel.id);
    const order = await channelOrder(node, channel.id);
    if (order.length !== opts.messages) throw new StepError(`#general holds ${order.length} messages, not ${opts.messages}`);
    const index = Object.fromEntries(order.map((id, i) => [id, i + 1]));
    const all = [];
    for (let p = await api(node, 'GET', `/channels/${channel.id}/messages?limit=100`); ; ) {
      all.unshift(...p);
      if (p.length < 100) break;
      p = await api(node, 'GET', `/channels/${channel.id}/messages?limit=100&before=${encodeURIComponent(p[0].id)}`);
    }
    const sameMs = all.filter((m, i) => i > 0 && m.created_at === all[i - 1].created_at).length;
    log(`seeded ${opts.messages} messages in ${secs(Date.now() - seedStart)} (${opts.inFlight} in flight); ${sameMs} share their created_at with the one before`);

    current = 'launch-chromium';
    const browser = await launchChromium();

    // open opens #general in a fresh context and waits for the newest message on screen.
    let requests = { inFlight: 0, count: 0 };
    const open = async () => {
      const { context, page: p } = await newPage(browser, { errors });
      await p.setViewportSize({ width: opts.width, height: opts.height });
      page = p;
      requests = { inFlight: 0, count: 0 };
      const mine = (r) => r.method() === 'GET' && r.url().includes(`/channels/${channel.id}/messages`);
      const r0 = requests;
      p.on('request', (r) => mine(r) && (r0.inFlight++, r0.count++));
      p.on('requestfinished', (r) => mine(r) && r0.inFlight--);
      p.on('requestfailed', (r) => mine(r) && r0.inFlight--);
      if (opts.cpu > 1) {
        const cdp = await context.newCDPSession(p);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: opts.cpu });
      }
      if (opts.latency > 0) {
        await p.route((u) => u.pathname.endsWith(`/channels/${channel.id}/messages`), async (route) => {
          await new Promise((r) => setTimeout(r, opts.latency * (0.5 + Math.random())));
          await route.continue();
        });
      }
      await p.goto(node.openURL, { waitUntil: 'load' });
      // The UI may open #general itself (the community's only channel; in a
      // narrow window the rail is folded away); else it is clicked open.
      const newest = p.locator(`[data-testid="message"][data-id="${order[order.length - 1]}"]`);
      const icon = p.getByTestId('community-icon');
      await waitUntil('#general open, or the community in the rail', async () => (await newest.count()) > 0 || (await icon.first().isVisible()));
      if ((await newest.count()) === 0) {
        await icon.first().click();
        const general = p.locator('[data-testid="channel"][data-name="general"]');
        await general.first().waitFor({ state: 'visible' });
        await general.first().click();
      }
      await p.locator(`[data-testid="message"][data-id="${order[order.length - 1]}"]`).waitFor({ state: 'visible' });
      if (process.env.SCROLLBACK_DEBUG) await p.evaluate(() => (window.__scrollbackDebug = true));
      await p.evaluate(installRecorder, index);
      await p.getByTestId('message-list').hover();
      await settle();
      return context;
    };
    // settle waits until no page request is in flight and the list is still over two frames.
    const settle = () =>
      waitUntil(
        'the message list to settle (no page request in flight, the same over two frames)',
        async () => {
          if (requests.inFlight > 0) return false;
          const s = await page.evaluate(listSignature);
          return s.stable && requests.inFlight === 0 ? s : false;
        },
        T.ui,
        10,
      );
    const checkErrors = () => {
      if (errors.length) throw new StepError(`the browser reported errors:\n${errors.join('\n')}`);
    };

    // scroll plays one scroll: turns wheel turns per move, settling after
    // each move, until the end is reached (the oldest or the newest message
    // on screen with the list at its top or bottom).
    const scroll = async (name, dir, turns) => {
      current = name;
      const s = new Scroll(name, dir, order.length);
      const startCount = requests.count;
      const t = Date.now();
      // What came before (opening, or another scroll) is not this scroll's: from where it stands.
      const first = (await page.evaluate(takeFrames)).slice(-1);
      s.take(first);
      const f0 = first[first.length - 1];
      log(`${name}: starts with ${f0 ? `${f0.shown[0]}–${f0.shown[f0.shown.length - 1]}` : 'nothing'} on screen, scrollTop ${f0?.top}`);
      let moves = 0;
      let still = 0;
      let last = null;
      const endId = dir < 0 ? 1 : order.length;
      const maxMoves = Math.ceil((order.length * 200) / wheelStep / turns) + 50;
      for (;;) {
        for (let k = 0; k < turns; k++) await page.mouse.wheel(0, dir * wheelStep);
        const st = await settle();
        moves++;
        s.take(await page.evaluate(takeFrames));
        checkErrors();
        const atEnd = dir < 0 ? st.top <= 0 : st.top + st.client >= st.height - 1;
        const shown = s.prev;
        if (atEnd && shown && (dir < 0 ? shown.lo === endId : shown.hi === endId)) break;
        // At an end of the list that is not the channel's, nothing loading, nothing moving: stuck.
        const sig = `${st.top}|${st.height}`;
        still = sig === last ? still + 1 : 0;
        last = sig;
        if (still >= 5) throw new StepError(`${name}: stuck: ${still + 1} moves left the list at scrollTop ${st.top} (height ${st.height}) with no page request in flight; on screen ${shown?.lo}–${shown?.hi}; seen so far ${s.seen.size} of ${order.length}`);
        if (moves > maxMoves) throw new StepError(`${name}: did not reach message ${endId} in ${moves} moves`);
      }
      s.requests = requests.count - startCount;
      s.ms = Date.now() - t;
      s.moves = moves;
      const missing = s.missing();
      const ok = missing.length === 0 && s.problems.length === 0;
      results.push({ name, ok, s, missing });
      const passed = [...s.passed].filter((n) => !s.seen.has(n));
      log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${moves} moves of ${turns} wheel turn(s), ${s.requests} page requests, ${s.frames} frames recorded, seen ${s.seen.size} of ${order.length}${passed.length ? ` (and ${passed.length} passed over in ${s.readerJumps} frames where the wheel had moved a view's height or more)` : ''}, at most ${s.maxDom} rows in the DOM, ${secs(s.ms)}`);
      if (missing.length) log(`     never on screen: ${missing.length} messages: ${ranges(missing)}`);
      for (const p of s.problems) log(`     ${p}`);
      if (!ok) await page.screenshot({ path: path.join(outDir, `${prefix}FAILED-${name}.png`) }).catch(() => {});
    };

    const want = (n) => !opts.only || opts.only.has(n);
    if (want('slow-up') || want('slow-down')) {
      const ctx = await open();
      if (want('slow-up')) await scroll('slow-up', -1, 1);
      if (want('slow-down')) {
        if (!want('slow-up')) await scrollToEnd(page, -1, settle, order[0]);
        await scroll('slow-down', +1, 1);
      }
      await ctx.close();
    }
    if (want('fast-up') || want('fast-down')) {
      const ctx = await open();
      if (want('fast-up')) await scroll('fast-up', -1, burst);
      if (want('fast-down')) {
        if (!want('fast-up')) await scrollToEnd(page, -1, settle, order[0]);
        await scroll('fast-down', +1, burst);
        // Back at the present, the view follows what comes live.
        current = 'live-follow';
        for (let i = 1; i <= 3; i++) {
          const m = await api(node, 'POST', `/channels/${channel.id}/messages`, { text: `live ${i}\nafter the scrolls` });
          await waitUntil(`the live message "live ${i}" to be on screen, the list at its bottom`, () =>
            page.evaluate((id) => {
              const list = document.querySelector('[data-testid="message-list"]');
              const row = list.querySelector(`[data-testid="message"][data-id="${id}"]`);
              if (!row) return false;
              const box = list.getBoundingClientRect();
              const r = row.getBoundingClientRect();
              return r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && list.scrollTop + list.clientHeight >= list.scrollHeight - 1;
            }, m.id),
          );
        }
        log('ok   live-follow: 3 live messages each shown at the bottom as it came');
      }
      await ctx.close();
    }
    checkErrors();

    current = 'shutdown';
    await cleanup();
    if (node.proc.exitCode !== 0) throw new StepError(`the node did not stop cleanly on SIGTERM (${node.proc.signalCode ?? 'exit ' + node.proc.exitCode})`);
    clearTimeout(watchdog);
    const failed = results.filter((r) => !r.ok);
    log(`scrollback ${failed.length ? 'FAILED' : 'PASSED'}: ${results.length - failed.length} of ${results.length} scrolls saw every one of the ${order.length} messages once, in ${secs(Date.now() - started)}`);
    process.exit(failed.length ? 1 : 0);
  } catch (err) {
    if (interrupted()) {
      await cleanup();
      await new Promise(() => {});
    }
    console.error(`\nscrollback FAILED at "${current}":\n  ${(err instanceof StepError ? err.message : err?.stack || String(err)).replace(/\n/g, '\n  ')}`);
    if (page) {
      const file = path.join(outDir, `${prefix}FAILED-${current}.png`);
      await page.screenshot({ path: file, timeout: 5_000 }).then(() => console.error(`  screenshot: ${file}`), () => {});
    }
    await cleanup();
    process.exit(1);
  }
}

// scrollToEnd scrolls up without checking until the channel's first message (id) is on screen at the top.
async function scrollToEnd(page, dir, settle, id) {
  for (let i = 0; i < 2000; i++) {
    await page.mouse.wheel(0, dir * wheelStep * burst);
    const st = await settle();
    const there = await page.evaluate((id) => !!document.querySelector(`[data-testid="message"][data-id="${id}"]`), id);
    if (st.top <= 0 && there) return;
  }
  throw new StepError('could not scroll to the oldest message');
}

await main();
