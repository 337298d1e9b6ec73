#!/usr/bin/env node
// End-to-end test of Ancore's web UI: two real headless nodes, each driven
// by its own Chromium browser context through the UI served by the node.
//
//   cd desktop/frontend && npm run build && node e2e/run.mjs [--smoke] [--keep]
//
// See e2e/README.md for the flags, the flow and where the artifacts go.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontendDir = path.resolve(here, '..');
const repoRoot = path.resolve(frontendDir, '..', '..');
const outDir = path.join(repoRoot, 'build', 'e2e');
const builtUI = path.join(repoRoot, 'desktop', 'ui', 'static', 'app', 'index.html');

const args = new Set(process.argv.slice(2));
const known = ['--smoke', '--keep', '--allow-fallback', '--help', '-h'];
for (const a of args) {
  if (!known.includes(a)) {
    console.error(`e2e: unknown flag ${a} (known: ${known.join(' ')})`);
    process.exit(2);
  }
}
if (args.has('--help') || args.has('-h')) {
  console.log(`usage: node e2e/run.mjs [--smoke] [--keep] [--allow-fallback]

  --smoke           only start both nodes, open both pages and screenshot them
  --keep            keep the temporary folder (binary, node data) afterwards
  --allow-fallback  run even when the UI is not built (the node serves its
                    fallback page; the full flow then fails at its first step)

Environment: CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_SCALE (multiplies
every wait, default 1).`);
  process.exit(0);
}
const smoke = args.has('--smoke');
const keep = args.has('--keep');
const allowFallback = args.has('--allow-fallback') || smoke;

const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const scale = Number(process.env.E2E_TIMEOUT_SCALE || '1') || 1;
const T = {
  short: 5_000 * scale, // something local that the UI shows at once
  ui: 15_000 * scale, // a UI reaction to a local action (an API round trip)
  sync: 30_000 * scale, // something that travels between the two nodes
  start: 30_000 * scale, // a node writes api.json
  overall: 5 * 60_000 * scale, // the whole run
};

// ---------------------------------------------------------------- logging

const t0 = Date.now();
const secs = (ms) => (ms / 1000).toFixed(1) + 's';
const log = (...m) => console.log(`[${secs(Date.now() - t0).padStart(6)}]`, ...m);

// ---------------------------------------------------------------- cleanup

const cleanups = []; // run in reverse order, once
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('e2e: cleanup:', err?.message ?? err);
      }
    }
  })();
  return cleaning;
}
let interrupted = null;

// Last resort when the runner dies without cleanup(): no node outlives it.
const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {}
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\ne2e: ${sig}: stopping the browser and the nodes`);
    await cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- helpers

class StepError extends Error {}
class BrowserErrors extends StepError {}

// waitUntil polls fn until it returns a truthy value (which it returns) or
// the timeout passes; what describes the condition for the error message.
// Other errors fn throws (an element not there yet) count as "not yet";
// a StepError ends the wait at once.
async function waitUntil(what, fn, timeout = T.ui, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      if (err instanceof StepError) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message.split('\n')[0]}` : last !== undefined ? ` (last: ${JSON.stringify(last)})` : '';
      throw new StepError(`timed out after ${secs(timeout)} waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// run runs a command to completion, failing with its output.
function run(cmd, argv, opts) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    p.on('exit', () => children.delete(p));
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', (err) => reject(new StepError(`${cmd}: ${err.message}`)));
    p.on('close', (code, sig) =>
      code === 0 ? resolve(out) : reject(new StepError(`${cmd} ${argv.join(' ')} failed (${sig ?? 'exit ' + code}):\n${out}`)),
    );
  });
}

// startNode starts a headless node and resolves when it serves its API.
async function startNode(bin, name, dataDir) {
  const logPath = path.join(outDir, `node-${name}.log`);
  const logFile = createWriteStream(logPath);
  const argv = ['--headless', '--no-mdns', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'];
  const proc = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANCORE_BOOTSTRAP: '' } });
  children.add(proc);
  let stdout = '';
  let output = ''; // stdout and stderr, for the error message if it dies
  proc.stdout.on('data', (d) => {
    stdout += d;
    output += d;
    logFile.write(d);
  });
  proc.stderr.on('data', (d) => {
    output += d;
    logFile.write(d);
  });
  let exited = null;
  const exitedP = new Promise((resolve) =>
    // close, not exit: all its output has been read by then.
    proc.on('close', (code, sig) => {
      exited = sig ?? `exit ${code}`;
      resolve(exited);
    }),
  );
  const node = {
    name,
    proc,
    dataDir,
    logPath,
    async stop() {
      if (exited === null) {
        proc.kill('SIGTERM');
        let timer;
        const r = await Promise.race([exitedP, new Promise((r) => (timer = setTimeout(() => r(null), 10_000)))]);
        clearTimeout(timer);
        if (r === null) {
          console.error(`e2e: node ${name} did not stop in 10s after SIGTERM; killing it`);
          proc.kill('SIGKILL');
          await exitedP;
        }
      }
      children.delete(proc);
      await new Promise((r) => logFile.end(r));
      return exited;
    },
  };
  cleanups.push(() => node.stop());

  const apiFile = path.join(dataDir, 'api.json');
  const info = await waitUntil(
    `node ${name} to write ${apiFile} and print its URL (log: ${logPath})`,
    () => {
      if (exited !== null) throw new StepError(`node ${name} exited (${exited}) before serving its API; log: ${logPath}\n${output.slice(-2000)}`);
      if (!existsSync(apiFile) || !/Open Ancore in a browser: /.test(stdout)) return null;
      return JSON.parse(readFileSync(apiFile, 'utf8'));
    },
    T.start,
  );
  if (!info.url || !info.token) throw new StepError(`node ${name}: ${apiFile} lacks url or token`);
  // APIInfo.OpenURL(): the token travels in the fragment.
  node.openURL = `${info.url}/#token=${info.token}`;
  node.api = info;
  const printed = stdout.match(/Open Ancore in a browser: (\S+)/)[1];
  if (printed !== node.openURL) throw new StepError(`node ${name} printed ${printed}, but api.json gives ${node.openURL}`);
  return node;
}

// ---------------------------------------------------------------- browser

let shotNo = 0;
const shotName = (step) => `${String(shotNo).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;

// openUser opens a node's UI in a fresh browser context and records every
// console error and uncaught page error.
async function openUser(browser, label, node) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(T.ui);
  const user = { label, node, context, page, errors: [] };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    user.errors.push(`console.error: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => user.errors.push(`page error: ${err.stack || err.message}`));
  page.on('crash', () => user.errors.push('page crashed'));
  return user;
}

const tid = (page, id) => page.getByTestId(id);

// messageRow is the message row whose message-text contains text.
const messageRow = (page, text) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').filter({ hasText: text }) });
const messageById = (page, id) => page.locator(`[data-testid="message"][data-id="${id}"]`);

async function textOf(locator) {
  return ((await locator.textContent({ timeout: T.short })) ?? '').replace(/\s+/g, ' ').trim();
}

// visible waits until (the first of) locator is visible.
async function visible(locator, what, timeout = T.ui) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    const why = err?.name === 'TimeoutError' ? '' : ` (${String(err?.message).split('\n')[0]})`;
    throw new StepError(`${what} did not appear within ${secs(timeout)}${why}`);
  }
}

// gone waits until no element of locator is visible (or none exists).
async function gone(locator, what, timeout = T.ui) {
  const shown = locator.filter({ visible: true });
  try {
    await waitUntil(what, async () => (await shown.count()) === 0, timeout);
  } catch {
    const n = await shown.count().catch(() => '?');
    throw new StepError(`${what} still shown after ${secs(timeout)} (${n} visible)`);
  }
}

// messageAction hovers a message row to show its actions, then clicks the
// one named testid.
async function messageAction(row, testid) {
  await row.scrollIntoViewIfNeeded();
  await row.hover();
  const btn = row.getByTestId(testid);
  await visible(btn, `${testid} on hover`, T.short);
  await btn.click();
}

// openGeneral opens the (only) community and its #general channel.
async function openGeneral(u, timeout) {
  const icon = tid(u.page, 'community-icon');
  await visible(icon, `${u.label}: a community-icon in the rail`, timeout);
  await icon.first().click();
  const general = u.page.locator('[data-testid="channel"][data-name="general"]');
  await visible(general, `${u.label}: channel "general"`, timeout);
  await general.first().click();
  await visible(tid(u.page, 'composer'), `${u.label}: the composer`);
}

async function send(u, text) {
  const composer = tid(u.page, 'composer');
  await composer.click();
  await composer.fill(text);
  await composer.press('Enter');
  await visible(messageRow(u.page, text), `${u.label}: its own message "${text}"`);
  await waitUntil(`${u.label}: the composer to be cleared after sending`, async () => (await composer.inputValue()) === '', T.short);
}

// ---------------------------------------------------------------- the flow

function fullFlow(A, B) {
  const s = {}; // state shared between steps
  return [
    ['a-sets-name', [A], async () => {
      await visible(tid(A.page, 'name-input'), 'A: the first-run name-input');
      await tid(A.page, 'name-input').fill('Alice');
      await tid(A.page, 'name-save').click();
      await gone(tid(A.page, 'name-input'), 'A: the first-run screen');
      await visible(tid(A.page, 'create-community'), 'A: create-community in the rail');
    }],
    ['b-sets-name', [B], async () => {
      await visible(tid(B.page, 'name-input'), 'B: the first-run name-input');
      await tid(B.page, 'name-input').fill('Bob');
      await tid(B.page, 'name-save').click();
      await gone(tid(B.page, 'name-input'), 'B: the first-run screen');
      await visible(tid(B.page, 'join-community'), 'B: join-community in the rail');
    }],
    ['a-creates-community', [A], async () => {
      await tid(A.page, 'create-community').click();
      await visible(tid(A.page, 'community-name'), 'A: the create modal');
      await tid(A.page, 'community-name').fill('E2E');
      await tid(A.page, 'community-create').click();
      await gone(tid(A.page, 'community-name'), 'A: the create modal');
      await openGeneral(A, T.ui);
    }],
    ['a-creates-invite', [A], async () => {
      await tid(A.page, 'community-menu').click();
      await visible(tid(A.page, 'invite-open'), 'A: invite-open in the community menu', T.short);
      await tid(A.page, 'invite-open').click();
      await visible(tid(A.page, 'invite-create'), 'A: the invite modal');
      await tid(A.page, 'invite-create').click();
      s.link = await waitUntil('A: the invite link in invite-link', async () => (await tid(A.page, 'invite-link').inputValue()).trim());
      log(`    invite link: ${s.link.length > 80 ? s.link.slice(0, 77) + '...' : s.link} (${s.link.length} chars)`);
      await A.page.keyboard.press('Escape');
      await gone(tid(A.page, 'invite-link'), 'A: the invite modal (after Escape)');
    }],
    ['b-joins', [B], async () => {
      await tid(B.page, 'join-community').click();
      await visible(tid(B.page, 'join-link'), 'B: the join modal');
      await tid(B.page, 'join-link').fill(s.link);
      await tid(B.page, 'join-submit').click();
      await gone(tid(B.page, 'join-link'), 'B: the join modal', T.sync);
      await openGeneral(B, T.sync);
    }],
    ['a-sends', [A], async () => {
      await send(A, 'hello from alice');
    }],
    ['b-sees-message', [B], async () => {
      await visible(messageRow(B.page, 'hello from alice'), 'B: "hello from alice"', T.sync);
      // Message IDs are the op's CID, the same on both nodes; A's row may
      // have shown a provisional id first, so wait for it to settle.
      s.id = await messageRow(B.page, 'hello from alice').first().getAttribute('data-id');
      if (!s.id) throw new StepError('B: the message row has no data-id');
      await visible(messageById(A.page, s.id), `A: its message with data-id ${s.id} (the id B shows)`);
    }],
    ['b-sends', [B], async () => {
      await send(B, 'hi alice');
    }],
    ['a-sees-reply', [A], async () => {
      await visible(messageRow(A.page, 'hi alice'), 'A: "hi alice"', T.sync);
    }],
    ['a-edits', [A], async () => {
      const row = messageById(A.page, s.id);
      await messageAction(row, 'message-edit');
      const input = tid(A.page, 'edit-input');
      await visible(input, 'A: edit-input');
      await input.fill('hello (edited)');
      await input.press('Enter');
      await gone(input, 'A: edit-input after Enter');
      await waitUntil('A: its message to read "hello (edited)"', async () => (await textOf(row.getByTestId('message-text'))).includes('hello (edited)'));
    }],
    ['b-sees-edit', [B], async () => {
      const row = messageById(B.page, s.id);
      await waitUntil('B: the message to read "hello (edited)"', async () => (await textOf(row.getByTestId('message-text'))).includes('hello (edited)'), T.sync);
      await visible(row.getByTestId('edited'), 'B: the "edited" marker on the message');
    }],
    ['b-reacts', [B], async () => {
      const row = messageById(B.page, s.id);
      await messageAction(row, 'message-react');
      const thumbs = B.page.locator('[data-testid="emoji"][data-emoji="👍"]');
      await visible(thumbs, 'B: the 👍 button in the emoji picker');
      await thumbs.first().click();
      await visible(row.locator('[data-testid="reaction"][data-emoji="👍"]'), 'B: its own 👍 reaction under the message');
    }],
    ['a-sees-reaction', [A], async () => {
      const reaction = messageById(A.page, s.id).locator('[data-testid="reaction"][data-emoji="👍"]');
      await visible(reaction, 'A: a 👍 reaction under its message', T.sync);
      await waitUntil('A: the 👍 reaction to count 1', async () => /(^|\D)1(\D|$)/.test(await textOf(reaction)));
    }],
    ['a-deletes', [A], async () => {
      const row = messageById(A.page, s.id);
      await messageAction(row, 'message-delete');
      await visible(tid(A.page, 'confirm-delete'), 'A: confirm-delete');
      await tid(A.page, 'confirm-delete').click();
      await gone(row, 'A: its deleted message');
    }],
    ['b-sees-delete', [B], async () => {
      await gone(messageById(B.page, s.id), 'B: the deleted message', T.sync);
      await visible(messageRow(B.page, 'hi alice'), 'B: "hi alice" (still there)', T.short);
    }],
    ['b-mentions-alice', [B], async () => {
      const composer = tid(B.page, 'composer');
      await composer.click();
      await composer.pressSequentially('@Ali', { delay: 20 });
      const option = B.page.locator('[data-testid="mention-option"]').filter({ hasText: '@Alice' });
      await visible(option, 'B: "@Alice" offered in the mention list');
      await composer.press('Tab');
      await waitUntil('B: the composer to read "@Alice "', async () => (await composer.inputValue()) === '@Alice ', T.short);
      await composer.pressSequentially('look', { delay: 20 });
      await composer.press('Enter');
      await visible(messageRow(B.page, 'look'), 'B: its own message "@Alice look"');
    }],
    ['a-sees-mention', [A], async () => {
      const mention = messageRow(A.page, 'look').locator('[data-user]');
      await visible(mention, 'A: the mention in "@Alice look"', T.sync);
      if ((await textOf(mention.first())) !== '@Alice') throw new StepError(`A: the mention reads ${JSON.stringify(await textOf(mention.first()))}, want "@Alice"`);
    }],
    ['b-types', [B], async () => {
      const composer = tid(B.page, 'composer');
      await composer.click();
      await composer.pressSequentially('Bob is writing something', { delay: 20 });
    }],
    ['a-sees-typing', [A], async () => {
      await visible(tid(A.page, 'typing'), 'A: the typing indicator', T.sync);
      await waitUntil('A: the typing indicator to mention Bob', async () => (await textOf(tid(A.page, 'typing'))).includes('Bob'), T.short);
    }],
    ['a-sees-bob-online', [A], async () => {
      const bob = A.page.getByTestId('member').filter({ hasText: 'Bob' });
      await visible(bob, 'A: Bob in the member list', T.sync);
      await waitUntil('A: Bob to be data-status="online"', async () => (await bob.first().getAttribute('data-status')) === 'online', T.sync);
    }],
    ['a-reloads', [A], async () => {
      await A.page.reload({ waitUntil: 'load' });
      await openGeneral(A, T.ui);
      if (await tid(A.page, 'name-input').isVisible()) throw new StepError('A: the first-run screen is shown after the reload');
      const icons = await tid(A.page, 'community-icon').count();
      if (icons !== 1) throw new StepError(`A: ${icons} community icons after the reload, want 1`);
      await visible(messageRow(A.page, 'hi alice'), 'A: "hi alice" after the reload');
      if (await messageById(A.page, s.id).count()) throw new StepError('A: the deleted message is back after the reload');
    }],
  ];
}

function smokeFlow(A, B) {
  const steps = [];
  for (const u of [A, B]) {
    steps.push([`${u.label.toLowerCase()}-page-loads`, [u], async () => {
      const title = await u.page.title();
      if (!/Ancore/i.test(title)) throw new StepError(`${u.label}: page title is ${JSON.stringify(title)}, want Ancore`);
      const text = await waitUntil(`${u.label}: the page to show something`, async () => (await u.page.locator('body').innerText()).trim());
      const fallback = text.includes('web UI was not built');
      log(`    ${u.label}: ${fallback ? 'the fallback page (UI not built into the binary)' : 'the built UI'}: ${JSON.stringify(text.slice(0, 60))}`);
      // The harness catches console errors and page errors: prove it.
      const before = u.errors.length;
      await u.page.evaluate(() => console.error('e2e self-test'));
      await u.page.evaluate(() => setTimeout(() => { throw new Error('e2e self-test'); }));
      await waitUntil(`${u.label}: the harness to record the self-test errors`, () => u.errors.length >= before + 2, T.short);
      const caught = u.errors.splice(before);
      if (!caught.some((e) => e.startsWith('console.error: e2e self-test')) || !caught.some((e) => e.startsWith('page error:') && e.includes('e2e self-test')))
        throw new StepError(`${u.label}: self-test errors not recorded as expected: ${JSON.stringify(caught)}`);
      // The API answers with the token and refuses without it.
      const me = await fetch(`${u.node.api.url}/api/v1/me`, { headers: { Authorization: `Bearer ${u.node.api.token}` } });
      if (me.status !== 200) throw new StepError(`${u.label}: GET /api/v1/me with the token: ${me.status}`);
      const anon = await fetch(`${u.node.api.url}/api/v1/me`);
      if (anon.status !== 401) throw new StepError(`${u.label}: GET /api/v1/me without a token: ${anon.status}, want 401`);
    }]);
  }
  return steps;
}

// ---------------------------------------------------------------- main

async function main() {
  let current = 'setup';
  let users = [];
  let nodesStarted = false;
  const watchdog = setTimeout(async () => {
    if (interrupted) return;
    interrupted = 'watchdog';
    console.error(`\nE2E FAILED at step "${current}": the whole run took longer than ${secs(T.overall)}`);
    await failureShots(users, current);
    await cleanup();
    process.exit(1);
  }, T.overall);
  watchdog.unref();

  try {
    mkdirSync(outDir, { recursive: true });
    for (const f of readdirSync(outDir)) if (/\.(png|log)$/.test(f)) rmSync(path.join(outDir, f));

    if (!existsSync(chromiumPath)) throw new StepError(`no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`);
    if (!existsSync(builtUI)) {
      if (!allowFallback)
        throw new StepError(`the UI is not built: ${path.relative(process.cwd(), builtUI)} is missing.\nRun \`npm run build\` in desktop/frontend (or \`make ui\` at the repo root) first; the binary embeds desktop/ui/static/app when it is built.`);
      log(`note: ${path.relative(repoRoot, builtUI)} is missing: the nodes serve the fallback page`);
    }

    const tmp = mkdtempSync(path.join(tmpdir(), 'ancore-e2e-'));
    cleanups.push(() => (keep ? log(`kept ${tmp}`) : rmSync(tmp, { recursive: true, force: true })));

    current = 'build';
    log('building the node: go build -o ancore ./cmd/ancore');
    const bin = path.join(tmp, 'ancore');
    await run('go', ['build', '-o', bin, './cmd/ancore'], { cwd: repoRoot });

    current = 'start-nodes';
    nodesStarted = true;
    log('starting nodes A and B');
    const [na, nb] = await Promise.all([startNode(bin, 'a', path.join(tmp, 'a')), startNode(bin, 'b', path.join(tmp, 'b'))]);
    log(`    A: ${na.api.url}   B: ${nb.api.url}   (logs in ${path.relative(repoRoot, outDir)}/node-*.log)`);

    current = 'launch-chromium';
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      // This runner stops the browser itself, after its failure screenshots.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    cleanups.push(() => browser.close());
    log(`launched Chromium ${browser.version()}`);
    const A = await openUser(browser, 'A', na);
    const B = await openUser(browser, 'B', nb);
    users = [A, B];

    current = 'open-pages';
    for (const u of users) await u.page.goto(u.node.openURL, { waitUntil: 'load', timeout: T.ui });
    shotNo++;
    for (const u of users) await u.page.screenshot({ path: path.join(outDir, `${shotName('open')}-${u.label.toLowerCase()}.png`) });
    checkErrors(users, current);

    const steps = smoke ? smokeFlow(A, B) : fullFlow(A, B);
    for (const [name, shotOf, fn] of steps) {
      current = name;
      shotNo++;
      const start = Date.now();
      await fn();
      for (const u of shotOf) await u.page.screenshot({ path: path.join(outDir, `${shotName(name)}.png`) });
      checkErrors(users, name);
      log(`ok  ${String(shotNo).padStart(2, '0')} ${name} (${secs(Date.now() - start)})`);
    }

    current = 'shutdown';
    await cleanup();
    for (const n of [na, nb]) {
      if (n.proc.exitCode !== 0) throw new StepError(`node ${n.name} did not stop cleanly on SIGTERM (${n.proc.signalCode ?? 'exit ' + n.proc.exitCode}); log: ${n.logPath}`);
    }
    clearTimeout(watchdog);
    log(`E2E ${smoke ? 'SMOKE ' : ''}PASSED: ${shotNo} steps; screenshots in ${path.relative(process.cwd(), outDir) || '.'}`);
  } catch (err) {
    clearTimeout(watchdog);
    if (interrupted) {
      // The signal handler or the watchdog reports and exits.
      await cleanup();
      await new Promise(() => {});
    }
    console.error(`\nE2E FAILED at step "${current}":\n  ${(err instanceof StepError ? err.message : err?.stack || String(err)).replace(/\n/g, '\n  ')}`);
    if (!(err instanceof BrowserErrors)) for (const u of users) if (u.errors.length) console.error(`  ${u.label}'s browser errors:\n    ${u.errors.join('\n    ')}`);
    await failureShots(users, current);
    if (nodesStarted) console.error(`  node logs: ${path.join(outDir, 'node-a.log')}, ${path.join(outDir, 'node-b.log')}`);
    await cleanup();
    process.exit(1);
  }
}

function checkErrors(users, step) {
  const bad = users.flatMap((u) => u.errors.map((e) => `${u.label}: ${e}`));
  if (bad.length) throw new BrowserErrors(`the browser reported ${bad.length} error(s) during "${step}":\n${bad.join('\n')}`);
}

async function failureShots(users, step) {
  for (const u of users) {
    const file = path.join(outDir, `${String(shotNo).padStart(2, '0')}-FAILED-${step}-${u.label.toLowerCase()}.png`);
    try {
      await u.page.screenshot({ path: file, timeout: 5_000 });
      console.error(`  screenshot: ${file}`);
    } catch (err) {
      console.error(`  (no screenshot of ${u.label}: ${err.message.split('\n')[0]})`);
    }
  }
}

await main();
