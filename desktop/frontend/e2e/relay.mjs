#!/usr/bin/env node
// End-to-end test of the home relay in the web UI: a real ancore-relay on a
// fresh PostgreSQL database beside two real headless nodes, each driven by
// its own Chromium browser context, only through the UI (the node API is
// read to check results, never to act).
//
//   cd desktop/frontend && npm run build && node e2e/relay.mjs [--keep]
//
// See e2e/README.md for the flow and where the artifacts go
// (build/e2e/relay-*).

import path from 'node:path';
import {
  StepError, T, api, createCommunity, expectFailedLoad, goBuild, gone, init, join, log, messageRow, openInvite, runTwoUsers, send, setName,
  startRelay, createDatabase, textOf, tid, visible, waitUntil,
} from './lib.mjs';

const args = new Set(process.argv.slice(2));
const known = ['--keep', '--help', '-h'];
for (const a of args) {
  if (!known.includes(a)) {
    console.error(`e2e: unknown flag ${a} (known: ${known.join(' ')})`);
    process.exit(2);
  }
}
if (args.has('--help') || args.has('-h')) {
  console.log(`usage: node e2e/relay.mjs [--keep]

  --keep  keep the temporary folder (binaries, node data) afterwards; the
          database is dropped all the same

Environment: ANCORE_RELAY_BIN (an ancore-relay binary to use instead of
building one), ANCORE_TEST_PG (the PostgreSQL admin database, default
postgres://postgres@127.0.0.1:5432/test?sslmode=disable), CHROMIUM (default
/usr/bin/chromium), E2E_TIMEOUT_SCALE (multiplies every wait, default 1).`);
  process.exit(0);
}
init('e2e');

const email = 'alice@example.org';
const password = 'correct horse battery staple';

// ---------------------------------------------------------------- setup

// startOurRelay builds (or takes) ancore-relay and runs it on a database of
// its own, dropped at the end whatever happens.
async function startOurRelay({ tmp, artifact, step }) {
  step('build-relay');
  let bin = process.env.ANCORE_RELAY_BIN;
  if (bin) log(`relay: ${bin}`);
  else await goBuild('./cmd/ancore-relay', (bin = path.join(tmp, 'ancore-relay')));

  step('create-database');
  const name = `ancore_e2e_${process.pid}`;
  const db = await createDatabase(name);
  log(`database ${name}`);

  step('start-relay');
  const relay = await startRelay(bin, { db, logPath: artifact('ancore-relay.log') });
  log(`    relay: ${relay.url}   libp2p: ${relay.libp2p.join(' ')}`);
  return relay;
}

// ---------------------------------------------------------------- the UI

const dialog = (u) => u.page.getByRole('dialog', { name: 'Settings', exact: true });

// openRelaySettings opens the user settings (the ⚙ in the user panel) on
// their Relay tab.
async function openRelaySettings(u) {
  await u.page.getByRole('button', { name: 'Settings', exact: true }).click();
  await visible(tid(u.page, 'user-settings-relay'), `${u.label}: the Relay tab in the settings`);
  await tid(u.page, 'user-settings-relay').click();
}

async function closeSettings(u) {
  await u.page.keyboard.press('Escape');
  await gone(dialog(u), `${u.label}: the settings (after Escape)`);
}

// connectRelay enters the relay's URL on the Relay page and waits for the
// node to be connected to it, in the page and in the connection line.
async function connectRelay(u, url) {
  await openRelaySettings(u);
  const input = tid(u.page, 'relay-url');
  await visible(input, `${u.label}: the relay address field`);
  await input.click();
  await input.pressSequentially(url, { delay: 10 });
  await tid(u.page, 'relay-connect').click();
  await shownUnlessRelayError(u, tid(u.page, 'relay-card'), `${u.label}: the relay card`);
  await cardConnected(u);
}

// cardConnected waits for the relay card to say the node is connected to the relay.
async function cardConnected(u) {
  const connection = tid(u.page, 'relay-connection');
  await waitUntil(`${u.label}: the relay card to say "Connected"`, async () => (await textOf(connection)) === 'Connected', T.sync);
}

// shownUnlessRelayError waits for locator to show, failing at once with
// the text of an inline relay error should one show instead.
async function shownUnlessRelayError(u, locator, what, timeout = T.ui) {
  const error = u.page.locator('[data-testid^="relay-error-"]');
  await waitUntil(what, async () => {
    if (await error.first().isVisible()) throw new StepError(`${u.label}: the relay page says: ${await textOf(error.first())}`);
    return locator.first().isVisible();
  }, timeout);
}

// relayConnected waits for the connection line under the channels to end in
// "relay connected".
async function relayConnected(u) {
  const status = tid(u.page, 'relay-status');
  await visible(status, `${u.label}: the relay in the connection line`);
  await waitUntil(`${u.label}: the connection line to say "relay connected"`, async () =>
    (await status.getAttribute('data-state')) === 'connected' && (await textOf(status)).endsWith('relay connected'), T.sync);
}

// ---------------------------------------------------------------- the flow

function relayFlow(A, B, relay) {
  const s = {}; // state shared between steps
  return [
    ['a-sets-name', [A], () => setName(A, 'Alice')],
    ['b-sets-name', [B], () => setName(B, 'Bob')],
    ['a-connects', [A], async () => {
      await connectRelay(A, relay.url);
      // Not logged in yet: the page offers to log in or register.
      await visible(tid(A.page, 'relay-tab-register'), 'A: the register tab');
    }],
    ['a-registers', [A], async ({ shot }) => {
      await tid(A.page, 'relay-tab-register').click();
      await visible(tid(A.page, 'relay-password-confirm'), 'A: the "password again" field');
      await tid(A.page, 'relay-email').fill(email);
      await tid(A.page, 'relay-password').fill(password);
      await tid(A.page, 'relay-password-confirm').fill(password);
      await tid(A.page, 'relay-submit').click();
      await shownUnlessRelayError(A, tid(A.page, 'relay-account'), 'A: "Logged in as …"');
      const account = await textOf(tid(A.page, 'relay-account'));
      if (account !== `Logged in as ${email}`) throw new StepError(`A: the relay page says ${JSON.stringify(account)}, want "Logged in as ${email}"`);
      await cardConnected(A);
      await shot();
      await closeSettings(A);
      await relayConnected(A);
      const r = await api(A.node, 'GET', '/relay');
      if (r.account?.email !== email || !r.connected) throw new StepError(`A: GET /relay: ${JSON.stringify(r)}, want connected with account ${email}`);
    }],
    ['a-creates-community', [A], () => createCommunity(A, 'Relay E2E')],
    ['a-carries-community', [A], async ({ shot }) => {
      await tid(A.page, 'community-menu').click();
      await visible(tid(A.page, 'settings-open'), 'A: "Community settings" in the community menu', T.short);
      await tid(A.page, 'settings-open').click();
      const carry = tid(A.page, 'relay-carry');
      await visible(carry, 'A: "Deliver through the relay" in the community settings');
      await carry.click();
      const done = tid(A.page, 'relay-carry-done');
      const error = tid(A.page, 'relay-carry-error');
      await waitUntil('A: the relay to carry the community', async () => {
        if (await error.isVisible()) throw new StepError(`A: carrying failed: ${await textOf(error)}`);
        return done.isVisible();
      });
      if ((await textOf(carry)) !== 'Carried by the relay') throw new StepError(`A: the carry button reads ${JSON.stringify(await textOf(carry))}`);
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(carry, 'A: the community settings (after Escape)');
    }],
    ['a-creates-invite', [A], async ({ shot }) => {
      s.link = await openInvite(A);
      const code = tid(A.page, 'invite-code');
      await visible(code, 'A: the short code beside the invite link');
      s.code = (await code.inputValue()).trim();
      log(`    invite code: ${s.code}`);
      if (!s.code || s.code.startsWith('ancore://') || s.code.length >= s.link.length / 4)
        throw new StepError(`A: the invite code ${JSON.stringify(s.code)} is not a short code (the link has ${s.link.length} characters)`);
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(tid(A.page, 'invite-link'), 'A: the invite modal (after Escape)');
    }],
    ['b-connects', [B], async ({ shot }) => {
      await connectRelay(B, relay.url);
      await shot();
      await closeSettings(B);
      await relayConnected(B);
    }],
    ['b-joins-with-code', [B], async () => {
      await join(B, s.code);
      const icon = tid(B.page, 'community-icon');
      if ((await icon.count()) !== 1 || !(await icon.getAttribute('aria-label'))?.startsWith('Relay E2E'))
        throw new StepError(`B: the rail shows ${await icon.count()} communities, want "Relay E2E" alone`);
    }],
    ['a-sends', [A], () => send(A, 'hello through the relay')],
    ['b-sees-message', [B], () => visible(messageRow(B.page, 'hello through the relay'), 'B: "hello through the relay"', T.sync)],
    ['b-sends', [B], () => send(B, 'the code worked')],
    ['a-sees-reply', [A], () => visible(messageRow(A.page, 'the code worked'), 'A: "the code worked"', T.sync)],
    ['b-wrong-password', [B], async ({ shot }) => {
      await openRelaySettings(B);
      await visible(tid(B.page, 'relay-email'), 'B: the login form');
      if ((await tid(B.page, 'relay-tab-login').getAttribute('aria-selected')) !== 'true') throw new StepError('B: the relay page does not open on "Log in"');
      await tid(B.page, 'relay-email').fill(email);
      await tid(B.page, 'relay-password').fill('not the password');
      const logged = expectFailedLoad(B, '/api/v1/relay/login', 401);
      await tid(B.page, 'relay-submit').click();
      const error = tid(B.page, 'relay-error-password');
      await visible(error, 'B: an error under the password');
      const text = await textOf(error);
      if (text !== 'Wrong email or password.') throw new StepError(`B: the error under the password reads ${JSON.stringify(text)}`);
      if ((await tid(B.page, 'relay-password').getAttribute('aria-invalid')) !== 'true') throw new StepError('B: the password field is not marked invalid');
      if (await tid(B.page, 'relay-account').isVisible()) throw new StepError('B: logged in with a wrong password');
      await logged();
      await shot();
      await closeSettings(B);
      const r = await api(B.node, 'GET', '/relay');
      if (r.account !== null) throw new StepError(`B: GET /relay has an account after a wrong password: ${JSON.stringify(r.account)}`);
    }],
    ['a-logs-out', [A], async ({ shot }) => {
      await openRelaySettings(A);
      await visible(tid(A.page, 'relay-account'), 'A: "Logged in as …"');
      await tid(A.page, 'relay-logout').click();
      await visible(tid(A.page, 'relay-logout-confirm'), 'A: the log-out confirmation');
      if (await tid(A.page, 'relay-wipe').isChecked()) throw new StepError('A: "Also wipe this device" is checked by default');
      const confirm = tid(A.page, 'relay-logout-confirm-button');
      if ((await textOf(confirm)) !== 'Log out') throw new StepError(`A: the confirm button reads ${JSON.stringify(await textOf(confirm))}, want "Log out"`);
      await confirm.click();
      await gone(tid(A.page, 'relay-account'), 'A: "Logged in as …" (after logging out)');
      await visible(tid(A.page, 'relay-tab-login'), 'A: the log-in form (logged out)');
      await cardConnected(A);
      await shot();
      await closeSettings(A);
      // Logged out, not wiped: the relay stays set and the chat stays.
      await relayConnected(A);
      await visible(messageRow(A.page, 'the code worked'), 'A: the chat after logging out');
      const r = await api(A.node, 'GET', '/relay');
      if (r.account !== null || r.url !== relay.url) throw new StepError(`A: GET /relay after logging out: ${JSON.stringify(r)}, want url ${relay.url} and no account`);
    }],
  ];
}

// ---------------------------------------------------------------- main

await runTwoUsers({
  title: 'E2E RELAY',
  prefix: 'relay-',
  setup: startOurRelay,
  flow: relayFlow,
  keep: args.has('--keep'),
});
