// What the end-to-end runs (run.mjs, relay.mjs) and the UI benchmark
// (perf.mjs) share: paths, logging, cleanup on every way out, waits on
// conditions, the processes they start (nodes, the relay, a PostgreSQL
// database), Chromium, and the runner that plays a two-user flow.
//
// See e2e/README.md.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontendDir = path.resolve(here, '..');
export const repoRoot = path.resolve(frontendDir, '..', '..');
export const appDir = path.join(repoRoot, 'desktop', 'ui', 'static', 'app');
export const builtUI = path.join(appDir, 'index.html');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const scale = Number(process.env.E2E_TIMEOUT_SCALE || '1') || 1;
export const T = {
  short: 5_000 * scale, // something local that the UI shows at once
  ui: 15_000 * scale, // a UI reaction to a local action (an API round trip)
  sync: 30_000 * scale, // something that travels between the two nodes
  start: 30_000 * scale, // a node or the relay starts serving
  overall: 5 * 60_000 * scale, // a whole run
};

// ---------------------------------------------------------------- logging

const t0 = Date.now();
export const secs = (ms) => (ms / 1000).toFixed(1) + 's';
export const log = (...m) => console.log(`[${secs(Date.now() - t0).padStart(6)}]`, ...m);

// tag starts the runner's own messages ("e2e: …", "perf: …").
let tag = 'e2e';

// ---------------------------------------------------------------- errors

/** A failed step: its message says what was awaited and what was seen. */
export class StepError extends Error {}
/** The pages reported console errors or uncaught errors. */
class BrowserErrors extends StepError {}

// ---------------------------------------------------------------- cleanup

const cleanups = []; // run in reverse order, once
let cleaning = null;

/** onCleanup registers fn to run at cleanup(), after everything registered later. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** cleanup runs the registered cleanups once, newest first; later calls share the first's promise. */
export function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`${tag}: cleanup:`, err?.message ?? err);
      }
    }
  })();
  return cleaning;
}

let interruptedBy = null;
/** interrupt records why the run is being cut short; false if it already was. */
function interrupt(why) {
  if (interruptedBy) return false;
  interruptedBy = why;
  return true;
}
export const interrupted = () => interruptedBy;

// Last resort when the runner exits without cleanup(): no child outlives
// it, and what exitHooks hold (dropping the database) runs synchronously.
const children = new Set();
const exitHooks = new Set();
process.on('exit', () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {}
    }
  }
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {}
  }
});

/** init names the runner in its messages and stops everything on SIGINT, SIGTERM and SIGHUP (exit 130). */
export function init(name) {
  tag = name;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, async () => {
      if (!interrupt(sig)) return;
      console.error(`\n${tag}: ${sig}: stopping the browser and the processes it started`);
      await cleanup();
      process.exit(130);
    });
  }
}

// ---------------------------------------------------------------- waiting

// waitUntil polls fn until it returns a truthy value (which it returns) or
// the timeout passes; what describes the condition for the error message.
// Other errors fn throws (an element not there yet) count as "not yet";
// a StepError ends the wait at once.
export async function waitUntil(what, fn, timeout = T.ui, interval = 100) {
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

// ---------------------------------------------------------------- processes

/** run runs a command to completion and resolves with its output; a failure carries the output. */
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

/**
 * goBuild builds the Go package pkg (./cmd/…) into out. The node is built
 * with the media tag, as `make run` builds it, so that its calls have
 * audio (libopus; `make deps-media`); the relay stays free of native
 * libraries.
 */
export async function goBuild(pkg, out) {
  const args = pkg === './cmd/ancore' ? ['-tags', 'media'] : [];
  log(`building ${pkg}: go build ${args.map((a) => `${a} `).join('')}-o ${path.basename(out)} ${pkg}`);
  await run('go', ['build', ...args, '-o', out, pkg], { cwd: repoRoot });
}

// Every service started; a run that passed checks they all exited 0 on SIGTERM.
const services = [];

// startService starts a long-running process that logs to logPath. Its
// stop() (SIGTERM, then SIGKILL after 15 s; run once) is registered for
// cleanup. The caller waits for it to be ready with waitUntil on
// service.stdout, throwing service.died() while it is not running.
function startService(bin, argv, { name, logPath, env }) {
  const logFile = createWriteStream(logPath);
  const proc = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(proc);
  let exited = null;
  const exitedP = new Promise((resolve) =>
    // close, not exit: all its output has been read by then.
    proc.on('close', (code, sig) => {
      exited = sig ?? `exit ${code}`;
      resolve(exited);
    }),
  );
  let stopped = null;
  const service = {
    name,
    proc,
    logPath,
    stdout: '',
    output: '', // stdout and stderr, for the error message if it dies
    // died is the StepError to throw while waiting for it, null while it runs.
    died: () => (exited === null ? null : new StepError(`${name} exited (${exited}) before it was ready; log: ${logPath}\n${service.output.slice(-2000)}`)),
    stop() {
      stopped ??= (async () => {
        if (exited === null) {
          proc.kill('SIGTERM');
          let timer;
          const r = await Promise.race([exitedP, new Promise((r) => (timer = setTimeout(() => r(null), 15_000)))]);
          clearTimeout(timer);
          if (r === null) {
            console.error(`${tag}: ${name} did not stop in 15s after SIGTERM; killing it`);
            proc.kill('SIGKILL');
            await exitedP;
          }
        }
        children.delete(proc);
        await new Promise((r) => logFile.end(r));
        return exited;
      })();
      return stopped;
    },
  };
  proc.on('error', (err) => {
    service.output += `spawn ${bin}: ${err.message}\n`;
  });
  proc.stdout.on('data', (d) => {
    service.stdout += d;
    service.output += d;
    logFile.write(d);
  });
  proc.stderr.on('data', (d) => {
    service.output += d;
    logFile.write(d);
  });
  services.push(service);
  onCleanup(() => service.stop());
  return service;
}

// startNode starts a headless node on dataDir (loopback only, no LAN
// discovery, no bootstrap peers) and resolves when it serves its API:
// when it has printed its URL and api.json agrees (api.json may be left
// from an earlier start of the same folder).
export async function startNode(bin, { name, dataDir, logPath, timeout = T.start }) {
  const argv = ['--headless', '--no-mdns', '--data', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'];
  const node = startService(bin, argv, { name: `node ${name}`, logPath, env: { ANCORE_BOOTSTRAP: '' } });
  node.dataDir = dataDir;
  const apiFile = path.join(dataDir, 'api.json');
  const info = await waitUntil(
    `node ${name} to print its URL and write ${apiFile} (log: ${logPath})`,
    () => {
      const died = node.died();
      if (died) throw died;
      const m = node.stdout.match(/Open Ancore in a browser: (\S+)/);
      if (!m || !existsSync(apiFile)) return null;
      const info = JSON.parse(readFileSync(apiFile, 'utf8'));
      // APIInfo.OpenURL(): the token travels in the fragment.
      return `${info.url}/#token=${info.token}` === m[1] ? info : null;
    },
    timeout,
  );
  node.api = info;
  node.openURL = `${info.url}/#token=${info.token}`;
  return node;
}

/** api calls a node's API with its token; a status other than want (200, or 201 for POST) fails. */
export async function api(node, method, route, body, want) {
  const res = await fetch(`${node.api.url}/api/v1${route}`, {
    method,
    headers: { Authorization: `Bearer ${node.api.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== (want ?? (method === 'POST' ? 201 : 200))) throw new StepError(`${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

// The server's admin database, as the relay's Go tests reach it
// (relay/store/pgtest): ANCORE_TEST_PG, or the machine's PostgreSQL.
const adminDSN = process.env.ANCORE_TEST_PG || 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable';

// createDatabase creates the empty database name on that server and
// returns its postgres:// address. It is dropped (with its connections)
// at cleanup, or, should the runner exit without cleanup, on exit.
export async function createDatabase(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new StepError(`bad database name ${name}`);
  const psql = (sql) => ['-X', '-q', '-v', 'ON_ERROR_STOP=1', adminDSN, '-c', sql];
  const drop = psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await run('psql', drop);
  const dropOnExit = () => spawnSync('psql', drop, { stdio: 'ignore', timeout: 10_000 });
  exitHooks.add(dropOnExit);
  onCleanup(async () => {
    await run('psql', drop);
    exitHooks.delete(dropOnExit);
  });
  await run('psql', psql(`CREATE DATABASE ${name}`));
  const dsn = new URL(adminDSN);
  dsn.pathname = `/${name}`;
  return dsn.toString();
}

// startRelay starts ancore-relay on the database db (HTTP and libp2p on
// loopback, text logs) and resolves when it printed its addresses and
// answers GET /healthz. relay.url is its HTTP base URL.
export async function startRelay(bin, { db, logPath, timeout = T.start }) {
  const argv = ['--db', db, '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-format', 'text'];
  const relay = startService(bin, argv, { name: 'the relay', logPath });
  relay.url = await waitUntil(
    `the relay to print "Relay HTTP API: …" and answer /healthz (log: ${logPath})`,
    async () => {
      const died = relay.died();
      if (died) throw died;
      const url = relay.stdout.match(/Relay HTTP API: (\S+)/)?.[1];
      if (!url || !/libp2p: /.test(relay.stdout)) return null;
      const res = await fetch(`${url}/healthz`);
      return res.status === 200 ? url : null;
    },
    timeout,
  );
  relay.libp2p = [...relay.stdout.matchAll(/libp2p: (\S+)/g)].map((m) => m[1]);
  return relay;
}

// ---------------------------------------------------------------- browser

/** checkChromium fails early when there is no Chromium to launch. */
export function checkChromium() {
  if (!existsSync(chromiumPath)) throw new StepError(`no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`);
}

/** launchChromium starts headless Chromium; cleanup closes it. */
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // The runner stops the browser itself, after its failure screenshots.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  onCleanup(() => browser.close());
  log(`launched Chromium ${browser.version()}`);
  return browser;
}

// newPage opens a page in a fresh browser context and records every
// console error and uncaught page error in errors, but for those expected
// (see expectFailedLoad). initScript, if given, runs before the page's own
// scripts with initArg.
export async function newPage(browser, { errors, expected = [], timeout = T.ui, initScript, initArg }) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  if (initScript) await context.addInitScript(initScript, initArg);
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location();
    const i = expected.findIndex((e) => e.matches(msg.text(), loc?.url));
    if (i >= 0) {
      expected.splice(i, 1)[0].seen = true;
      return;
    }
    errors.push(`console.error: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.stack || err.message}`));
  page.on('crash', () => errors.push('page crashed'));
  return { context, page };
}

// expectFailedLoad lets through one console error of u's page: the one
// Chromium logs itself ("Failed to load resource: …") when the UI's fetch
// of route (a path) gets an answer with status, which a step provokes on
// purpose. It returns a wait for that error to have been logged.
export function expectFailedLoad(u, route, status) {
  const e = {
    seen: false,
    matches: (text, url) =>
      text.startsWith(`Failed to load resource: the server responded with a status of ${status} `) && !!url && new URL(url).pathname === route,
  };
  u.expected.push(e);
  return () => waitUntil(`${u.label}: Chromium to log the ${status} answer to ${route}`, () => e.seen, T.short);
}

// ---------------------------------------------------------------- the UI

export const tid = (page, id) => page.getByTestId(id);

/** messageRow is the message row whose message-text contains text. */
export const messageRow = (page, text) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').filter({ hasText: text }) });
export const messageById = (page, id) => page.locator(`[data-testid="message"][data-id="${id}"]`);

export async function textOf(locator) {
  return ((await locator.textContent({ timeout: T.short })) ?? '').replace(/\s+/g, ' ').trim();
}

/** visible waits until (the first of) locator is visible. */
export async function visible(locator, what, timeout = T.ui) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (err) {
    const why = err?.name === 'TimeoutError' ? '' : ` (${String(err?.message).split('\n')[0]})`;
    throw new StepError(`${what} did not appear within ${secs(timeout)}${why}`);
  }
}

/** gone waits until no element of locator is visible (or none exists). */
export async function gone(locator, what, timeout = T.ui) {
  const shown = locator.filter({ visible: true });
  try {
    await waitUntil(what, async () => (await shown.count()) === 0, timeout);
  } catch {
    const n = await shown.count().catch(() => '?');
    throw new StepError(`${what} still shown after ${secs(timeout)} (${n} visible)`);
  }
}

// axe-core's source, evaluated in the page through the DevTools protocol
// (the node's Content-Security-Policy refuses inline scripts, which is as
// it should be).
let axeSource = null;

/**
 * checkA11y runs axe-core (WCAG 2.x A and AA rules, contrast included) on
 * the page and fails on any serious or critical violation.
 */
export async function checkA11y(u, what) {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await u.page.evaluate(axeSource);
  // Colours mid-transition (a dialog fading in) are not the page's colours:
  // let every finite animation end first.
  await u.page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getComputedTiming().endTime !== Infinity)
    .map((a) => a.finished.catch(() => {}))));
  const violations = await u.page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help}\n      ${v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${(n.failureSummary ?? '').split('\n').slice(1, 2).join('').trim()}`).join('\n      ')}`);
  });
  if (violations.length) throw new StepError(`${u.label}: ${what}: axe-core found ${violations.length} serious or critical violation(s):\n    ${violations.join('\n    ')}`);
  log(`    ${u.label}: ${what}: axe-core found no serious or critical violations`);
}

/** setName takes the first-run screen's way for a new user and fills in the name. */
export async function setName(u, name) {
  await visible(tid(u.page, 'first-run-new').or(tid(u.page, 'name-input')), `${u.label}: the first-run screen`);
  if (await tid(u.page, 'first-run-new').isVisible()) await tid(u.page, 'first-run-new').click();
  await visible(tid(u.page, 'name-input'), `${u.label}: the first-run name-input`);
  await tid(u.page, 'name-input').fill(name);
  await tid(u.page, 'name-save').click();
  await gone(tid(u.page, 'name-input'), `${u.label}: the first-run screen`);
  await visible(tid(u.page, 'join-community'), `${u.label}: join-community in the rail`);
}

/** createCommunity creates a community through the rail's "+" and opens its #general. */
export async function createCommunity(u, name) {
  await tid(u.page, 'create-community').click();
  await visible(tid(u.page, 'community-name'), `${u.label}: the create modal`);
  await tid(u.page, 'community-name').fill(name);
  await tid(u.page, 'community-create').click();
  await gone(tid(u.page, 'community-name'), `${u.label}: the create modal`);
  await openGeneral(u, T.ui);
}

/** openInvite opens the community menu's invite modal and creates an invite. */
export async function openInvite(u) {
  await tid(u.page, 'community-menu').click();
  await visible(tid(u.page, 'invite-open'), `${u.label}: invite-open in the community menu`, T.short);
  await tid(u.page, 'invite-open').click();
  await visible(tid(u.page, 'invite-create'), `${u.label}: the invite modal`);
  await tid(u.page, 'invite-create').click();
  const link = await waitUntil(`${u.label}: the invite link in invite-link`, async () => (await tid(u.page, 'invite-link').inputValue()).trim());
  log(`    invite link: ${link.length > 80 ? link.slice(0, 77) + '...' : link} (${link.length} chars)`);
  return link;
}

/** join joins through the rail's join modal with an invite link or code, then opens #general. */
export async function join(u, invite) {
  await tid(u.page, 'join-community').click();
  await visible(tid(u.page, 'join-link'), `${u.label}: the join modal`);
  await tid(u.page, 'join-link').fill(invite);
  await tid(u.page, 'join-submit').click();
  const error = tid(u.page, 'join-error');
  await waitUntil(`${u.label}: the join modal to close`, async () => {
    if (await error.isVisible()) throw new StepError(`${u.label}: joining failed: ${await textOf(error)}`);
    return !(await tid(u.page, 'join-link').isVisible());
  }, T.sync);
  await openGeneral(u, T.sync);
}

// openGeneral opens the (only) community and its #general channel.
export async function openGeneral(u, timeout) {
  const icon = tid(u.page, 'community-icon');
  await visible(icon, `${u.label}: a community-icon in the rail`, timeout);
  await icon.first().click();
  const general = u.page.locator('[data-testid="channel"][data-name="general"]');
  await visible(general, `${u.label}: channel "general"`, timeout);
  await general.first().click();
  await visible(tid(u.page, 'composer'), `${u.label}: the composer`);
}

/** send sends text from the composer and waits for its own row. */
export async function send(u, text) {
  const composer = tid(u.page, 'composer');
  await composer.click();
  await composer.fill(text);
  await composer.press('Enter');
  await visible(messageRow(u.page, text), `${u.label}: its own message "${text}"`);
  await waitUntil(`${u.label}: the composer to be cleared after sending`, async () => (await composer.inputValue()) === '', T.short);
}

// ---------------------------------------------------------------- the runner

// runTwoUsers plays a flow through the UI of two fresh headless nodes, A
// and B, each in its own Chromium context, and exits: 0 when it passed, 1
// on a failure (the step, the condition that timed out, screenshots of
// both pages), 130 when interrupted.
//
//   prefix         starts every artifact's name in build/e2e; the run
//                  clears those of its own prefix first
//   setup(step)    runs before the nodes start; what it starts it registers
//                  for cleanup (those cleanups run after the nodes stop).
//                  step(name) names the current step for failure reports.
//   flow(A, B, x)  the steps, [name, users to screenshot, fn]; x is what
//                  setup returned. fn may call shot() to take the step's
//                  screenshots itself (before closing a dialog, say).
//   keep           keep the temporary folder (binaries, node data)
//   allowFallback  go on when the UI is not built (the nodes serve their fallback page)
export async function runTwoUsers({ title, prefix = '', setup, flow, keep = false, allowFallback = false }) {
  const outDir = path.join(repoRoot, 'build', 'e2e');
  let current = 'setup';
  let users = [];
  let shotNo = 0;
  const shotName = (step) => `${prefix}${String(shotNo).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  const failureShots = async () => {
    for (const u of users) {
      const file = path.join(outDir, `${prefix}${String(shotNo).padStart(2, '0')}-FAILED-${current}-${u.label.toLowerCase()}.png`);
      try {
        await u.page.screenshot({ path: file, timeout: 5_000 });
        console.error(`  screenshot: ${file}`);
      } catch (err) {
        console.error(`  (no screenshot of ${u.label}: ${err.message.split('\n')[0]})`);
      }
    }
  };
  const checkErrors = () => {
    const bad = users.flatMap((u) => u.errors.map((e) => `${u.label}: ${e}`));
    if (bad.length) throw new BrowserErrors(`the browser reported ${bad.length} error(s) during "${current}":\n${bad.join('\n')}`);
  };
  const watchdog = setTimeout(async () => {
    if (!interrupt('watchdog')) return;
    console.error(`\n${title} FAILED at step "${current}": the whole run took longer than ${secs(T.overall)}`);
    await failureShots();
    await cleanup();
    process.exit(1);
  }, T.overall);
  watchdog.unref();

  try {
    mkdirSync(outDir, { recursive: true });
    const ours = /^(\d\d-.*\.png|node-[ab]\.log|ancore-relay\.log)$/;
    for (const f of readdirSync(outDir)) if (f.startsWith(prefix) && ours.test(f.slice(prefix.length))) rmSync(path.join(outDir, f));
    const artifact = (name) => path.join(outDir, `${prefix}${name}`);

    checkChromium();
    if (!existsSync(builtUI)) {
      if (!allowFallback)
        throw new StepError(`the UI is not built: ${path.relative(process.cwd(), builtUI)} is missing.\nRun \`npm run build\` in desktop/frontend (or \`make ui\` at the repo root) first; the binary embeds desktop/ui/static/app when it is built.`);
      log(`note: ${path.relative(repoRoot, builtUI)} is missing: the nodes serve the fallback page`);
    }

    const tmp = mkdtempSync(path.join(tmpdir(), 'ancore-e2e-'));
    onCleanup(() => (keep ? log(`kept ${tmp}`) : rmSync(tmp, { recursive: true, force: true })));

    current = 'build';
    const bin = path.join(tmp, 'ancore');
    await goBuild('./cmd/ancore', bin);

    const extra = setup ? await setup({ tmp, artifact, step: (name) => (current = name) }) : undefined;

    current = 'start-nodes';
    log('starting nodes A and B');
    const [na, nb] = await Promise.all(
      ['a', 'b'].map((n) => startNode(bin, { name: n, dataDir: path.join(tmp, n), logPath: artifact(`node-${n}.log`) })),
    );
    log(`    A: ${na.api.url}   B: ${nb.api.url}   (logs in ${path.relative(repoRoot, outDir)}/${prefix}node-*.log)`);

    current = 'launch-chromium';
    const browser = await launchChromium();
    for (const [label, node] of [['A', na], ['B', nb]]) {
      const errors = [];
      const expected = [];
      const { context, page } = await newPage(browser, { errors, expected });
      users.push({ label, node, context, page, errors, expected });
    }
    const [A, B] = users;

    current = 'open-pages';
    for (const u of users) await u.page.goto(u.node.openURL, { waitUntil: 'load', timeout: T.ui });
    shotNo++;
    for (const u of users) await u.page.screenshot({ path: path.join(outDir, `${shotName('open')}-${u.label.toLowerCase()}.png`) });
    checkErrors();

    for (const [name, shotOf, fn] of flow(A, B, extra)) {
      current = name;
      shotNo++;
      const start = Date.now();
      let shot = false;
      const takeShots = async () => {
        shot = true;
        for (const u of shotOf) await u.page.screenshot({ path: path.join(outDir, `${shotName(name)}${shotOf.length > 1 ? '-' + u.label.toLowerCase() : ''}.png`) });
      };
      await fn({ shot: takeShots });
      if (!shot) await takeShots();
      checkErrors();
      log(`ok  ${String(shotNo).padStart(2, '0')} ${name} (${secs(Date.now() - start)})`);
    }

    current = 'shutdown';
    await cleanup();
    for (const s of services) {
      if (s.proc.exitCode !== 0) throw new StepError(`${s.name} did not stop cleanly on SIGTERM (${s.proc.signalCode ?? 'exit ' + s.proc.exitCode}); log: ${s.logPath}`);
    }
    clearTimeout(watchdog);
    log(`${title} PASSED: ${shotNo} steps; screenshots in ${path.relative(process.cwd(), outDir) || '.'}${prefix ? `/${prefix}*.png` : ''}`);
    process.exit(0);
  } catch (err) {
    clearTimeout(watchdog);
    if (interrupted()) {
      // The signal handler or the watchdog reports and exits.
      await cleanup();
      await new Promise(() => {});
    }
    console.error(`\n${title} FAILED at step "${current}":\n  ${(err instanceof StepError ? err.message : err?.stack || String(err)).replace(/\n/g, '\n  ')}`);
    if (!(err instanceof BrowserErrors)) for (const u of users) if (u.errors.length) console.error(`  ${u.label}'s browser errors:\n    ${u.errors.join('\n    ')}`);
    await failureShots();
    if (services.length) console.error(`  logs: ${services.map((s) => s.logPath).join(', ')}`);
    await cleanup();
    process.exit(1);
  }
}
