#!/usr/bin/env node
// End-to-end test of Ancore's web UI: two real headless nodes, each driven
// by its own Chromium browser context through the UI served by the node.
//
//   cd desktop/frontend && npm run build && node e2e/run.mjs [--smoke] [--keep]
//
// See e2e/README.md for the flags, the flow and where the artifacts go;
// e2e/relay.mjs plays the relay's flows the same way.

import { deflateSync } from 'node:zlib';
import {
  StepError, T, checkA11y, createCommunity, gone, init, join, log, messageById, messageRow, openGeneral, openInvite,
  runTwoUsers, send, setName, textOf, tid, visible, waitUntil,
} from './lib.mjs';

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
init('e2e');

// ---------------------------------------------------------------- the flow

// messageAction hovers a message row to show its actions, then clicks the
// one named testid.
async function messageAction(row, testid) {
  await row.scrollIntoViewIfNeeded();
  await row.hover();
  const btn = row.getByTestId(testid);
  await visible(btn, `${testid} on hover`, T.short);
  await btn.click();
}

function fullFlow(A, B) {
  const s = {}; // state shared between steps
  return [
    ['a-first-run-a11y', [A], async () => {
      await visible(tid(A.page, 'first-run-login'), 'A: the first-run screen offers to log in');
      await checkA11y(A, 'the first-run screen');
    }],
    ['a-sets-name', [A], () => setName(A, 'Alice')],
    ['b-sets-name', [B], () => setName(B, 'Bob')],
    ['a-creates-community', [A], () => createCommunity(A, 'E2E')],
    ['a-creates-invite', [A], async () => {
      s.link = await openInvite(A);
      await A.page.keyboard.press('Escape');
      await gone(tid(A.page, 'invite-link'), 'A: the invite modal (after Escape)');
    }],
    ['b-joins', [B], () => join(B, s.link)],
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
    ...polishFlow(A, B),
  ];
}

// setTheme picks a theme on the Appearance page of the user settings.
async function setTheme(u, theme) {
  await u.page.getByRole('button', { name: 'Settings', exact: true }).click();
  await u.page.getByRole('tab', { name: 'Appearance' }).click();
  await tid(u.page, `theme-${theme}`).click();
  await waitUntil(`${u.label}: <html> to be ${theme}`, async () => (await u.page.evaluate(() => document.documentElement.classList.contains('dark'))) === (theme === 'dark'), T.short);
  await u.page.keyboard.press('Escape');
  await gone(u.page.getByRole('dialog', { name: 'Settings', exact: true }), `${u.label}: the settings (after Escape)`);
}

// photoPNG is a w×h RGB PNG of gradients and grain: a photo that weighs
// megabytes, far beyond what an op carries, for the node to shrink.
function photoPNG(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const raw = Buffer.alloc((w * 3 + 1) * h);
  let seed = 1;
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1); // filter byte 0: none
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const grain = seed & 31;
      raw[row + 1 + x * 3] = ((x * 255) / w) ^ grain;
      raw[row + 2 + x * 3] = ((y * 255) / h) ^ grain;
      raw[row + 3 + x * 3] = ((x + y) & 255) ^ grain;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// loadedPicture reports whether locator is an <img> the browser decoded,
// side × side pixels.
async function loadedPicture(locator, side) {
  if (!(await locator.count())) return false;
  return locator.first().evaluate((img, s) => img.complete && img.naturalWidth === s && img.naturalHeight === s, side);
}

// What a Discord user expects beyond the basics: the context menu, the
// emoji picker, :shortcode: completion, the quick switcher, both themes
// and narrow windows, each checked with axe-core.
function polishFlow(A, B) {
  return [
    ['a-context-menu', [A], async ({ shot }) => {
      const row = messageRow(A.page, 'hi alice').first();
      await row.scrollIntoViewIfNeeded();
      await row.click({ button: 'right' });
      const menu = tid(A.page, 'message-context-menu');
      await visible(menu, 'A: the message context menu');
      // Bob's message: Alice owns the community, so she may delete it but not edit it.
      for (const item of ['Reply', 'Copy text', 'Copy link', 'Delete']) {
        await visible(menu.getByRole('menuitem', { name: item, exact: true }), `A: "${item}" in the context menu`, T.short);
      }
      if (await menu.getByRole('menuitem', { name: 'Edit', exact: true }).count()) throw new StepError("A: the context menu offers to edit Bob's message");
      await shot();
      await menu.getByRole('menuitem', { name: 'Reply', exact: true }).click();
      await visible(tid(A.page, 'replying'), 'A: the reply bar after "Reply"');
      await A.page.keyboard.press('Escape');
      await gone(tid(A.page, 'replying'), 'A: the reply bar after Escape');
    }],
    ['a-emoji-picker', [A], async ({ shot }) => {
      await tid(A.page, 'composer').click();
      await A.page.getByRole('button', { name: 'Emoji', exact: true }).click();
      const search = tid(A.page, 'emoji-search');
      await visible(search, 'A: the emoji picker');
      await search.fill('party popper');
      const tada = A.page.locator('[data-testid="emoji"][data-emoji="🎉"]');
      await visible(tada, 'A: 🎉 in the emoji picker (its data served by the app itself)');
      await shot();
      await tada.first().click();
      await waitUntil('A: the composer to hold 🎉', async () => (await tid(A.page, 'composer').inputValue()).includes('🎉'), T.short);
      await tid(A.page, 'composer').press('Enter');
      await visible(messageRow(A.page, '🎉'), 'A: its own message with 🎉');
    }],
    ['b-shortcode', [B], async () => {
      const composer = tid(B.page, 'composer');
      await composer.click();
      await composer.fill('');
      await composer.pressSequentially('nice :thumbsu', { delay: 20 });
      await visible(B.page.locator('[data-testid="shortcode-option"]').first(), 'B: the :shortcode: completion list');
      await composer.press('Tab');
      await waitUntil('B: the composer to read "nice 👍"', async () => (await composer.inputValue()).startsWith('nice 👍'), T.short);
      await composer.fill('');
    }],
    ['a-quick-switcher', [A], async ({ shot }) => {
      await A.page.keyboard.press('Control+k');
      const input = tid(A.page, 'switcher-input');
      await visible(input, 'A: the quick switcher after Ctrl+K');
      await input.pressSequentially('gener', { delay: 20 });
      await visible(A.page.locator('[data-testid="switcher-channel"][data-name="general"]'), 'A: #general in the switcher');
      await shot();
      await input.press('Enter');
      await gone(input, 'A: the quick switcher after Enter');
      await visible(tid(A.page, 'composer'), 'A: the composer of #general');
    }],
    ['a-avatar', [A, B], async ({ shot }) => {
      const photo = photoPNG(1600, 1200);
      await A.page.getByRole('button', { name: 'Settings', exact: true }).click();
      await tid(A.page, 'avatar-file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo });
      await visible(A.page.getByAltText('Your new avatar'), `A: the preview of a ${(photo.length / 1e6).toFixed(1)} MB photo`);
      await tid(A.page, 'avatar-save').click();
      await waitUntil('A: the saved avatar, 128 px square', () => loadedPicture(A.page.getByAltText('Your avatar', { exact: true }), 128));
      await checkA11y(A, 'the profile settings with an avatar');
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(A.page.getByRole('dialog', { name: 'Settings', exact: true }), 'A: the settings (after Escape)');
      const alice = B.page.getByTestId('member').filter({ hasText: 'Alice' }).locator('[data-testid="avatar-picture"]');
      await waitUntil("B: Alice's avatar in the member list", () => loadedPicture(alice, 128), T.sync);
      const row = messageRow(B.page, '🎉').first(); // A's, from a-emoji-picker
      await row.scrollIntoViewIfNeeded();
      await waitUntil("B: Alice's avatar on her message", () => loadedPicture(row.locator('[data-testid="avatar-picture"]'), 128), T.short);
    }],
    ['a-icon', [A, B], async ({ shot }) => {
      await tid(A.page, 'community-menu').click();
      await tid(A.page, 'settings-open').click();
      await tid(A.page, 'settings-icon-file').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photoPNG(2400, 1600) });
      await visible(A.page.getByAltText('The new icon'), 'A: the preview of the new icon');
      await tid(A.page, 'settings-icon-save').click();
      await waitUntil('A: the saved icon, 256 px square', () => loadedPicture(A.page.getByAltText('The icon', { exact: true }), 256));
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(A.page.getByRole('dialog'), 'A: the community settings (after Escape)');
      await waitUntil('B: the icon in the rail', () => loadedPicture(tid(B.page, 'community-icon').locator('img'), 256), T.sync);
    }],
    ['a-calls-bob', [A, B], async ({ shot }) => {
      // A calls Bob from his profile; Bob's window rings; he answers; the
      // media connects (Opus over pion, sealed end to end) and both show
      // the call; Bob hangs up and both bars go.
      await A.page.getByTestId('member').filter({ hasText: 'Bob' }).first().click();
      await visible(tid(A.page, 'profile'), "A: Bob's profile");
      await tid(A.page, 'profile-call').click();
      await A.page.keyboard.press('Escape');
      await visible(tid(A.page, 'call-bar'), 'A: the call bar');
      const incoming = tid(B.page, 'incoming-call');
      await visible(incoming, 'B: the incoming call', T.sync);
      const text = await incoming.innerText();
      if (!text.includes('Alice')) throw new StepError(`B: the incoming call says ${JSON.stringify(text)}, want Alice's name`);
      await checkA11y(B, 'the incoming call');
      await shot();
      await tid(B.page, 'call-accept').click();
      for (const [u, other] of [[A, 'Bob'], [B, 'Alice']]) {
        await waitUntil(`${u.label}: in a call with ${other}`, async () => (await tid(u.page, 'call-state').innerText()) === `In a call with ${other}`, T.sync);
      }
      await checkA11y(A, 'the call bar');
      await tid(B.page, 'call-end').click();
      for (const u of [A, B]) await gone(tid(u.page, 'call-bar'), `${u.label}: the call bar after Bob hung up`, T.sync);
    }],
    ['a-theme-dark', [A], async () => {
      await setTheme(A, 'dark');
      await checkA11y(A, 'the chat in the dark theme');
    }],
    ['a-theme-light', [A], async () => {
      await setTheme(A, 'light');
      await checkA11y(A, 'the chat in the light theme');
    }],
    ['a-settings-a11y', [A], async ({ shot }) => {
      await tid(A.page, 'community-menu').click();
      await tid(A.page, 'settings-open').click();
      await visible(A.page.getByRole('dialog'), 'A: the community settings');
      await checkA11y(A, 'the community settings');
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(A.page.getByRole('dialog'), 'A: the community settings (after Escape)');
    }],
    ['a-800x600', [A], async ({ shot }) => {
      await A.page.setViewportSize({ width: 800, height: 600 });
      await visible(tid(A.page, 'composer'), 'A: the composer at 800×600');
      await tid(A.page, 'members-toggle').click();
      await visible(tid(A.page, 'members-sheet'), 'A: the member list (a toggle at 800×600)');
      await visible(A.page.getByTestId('member').filter({ hasText: 'Bob' }), 'A: Bob in the member list at 800×600');
      await shot();
      await A.page.keyboard.press('Escape');
      await gone(tid(A.page, 'members-sheet'), 'A: the member list (after Escape)');
      await checkA11y(A, 'the chat at 800×600');
    }],
    ['a-400x800', [A], async ({ shot }) => {
      await A.page.setViewportSize({ width: 400, height: 800 });
      const list = tid(A.page, 'message-list');
      await visible(list, 'A: the message list at 400×800');
      const width = (await list.boundingBox())?.width ?? 0;
      if (width < 360) throw new StepError(`A: the message pane is ${width}px wide at 400×800, want the whole window`);
      await checkA11y(A, 'the chat at 400×800');
      await tid(A.page, 'drawer-open').click();
      const drawer = tid(A.page, 'drawer');
      await visible(drawer, 'A: the channels drawer at 400×800');
      await visible(drawer.locator('[data-testid="channel"][data-name="general"]'), 'A: #general in the drawer');
      await shot();
      await drawer.locator('[data-testid="channel"][data-name="general"]').click();
      await gone(drawer, 'A: the drawer after choosing a channel');
      await A.page.setViewportSize({ width: 1440, height: 900 });
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

await runTwoUsers({
  title: smoke ? 'E2E SMOKE' : 'E2E',
  flow: smoke ? smokeFlow : fullFlow,
  keep: args.has('--keep'),
  allowFallback: args.has('--allow-fallback') || smoke,
});
