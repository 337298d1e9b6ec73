// The home relay in the UI: the Relay page of the user settings (connect
// to a relay by its URL, then register or log in with email and password,
// log out, optionally wiping this device), the relay's word in the
// connection line, the owner's "offline delivery through the relay" for a
// community, and the screen left after a wipe. A node without relay
// support (GET /relay is 404, GET /network has no relay) shows none of it.

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Community, Network, Relay } from "../lib/api";
import { isUnsupported, relayError, relayHost, relayState, type FieldError, type RelayField } from "../lib/relay";
import { useSession } from "./context";
import { Tabs } from "./controls";
import { buttonClass, inputClass, quietButtonClass } from "./modal";

function FieldMessage({ error, field }: { error: FieldError | null; field: RelayField }) {
  if (!error || error.field !== field) return null;
  return (
    <p data-testid={`relay-error-${field}`} role="alert" className="mt-1 text-xs text-red-500">
      {error.text}
    </p>
  );
}

/** The first error among mutations, as a sentence next to its field. */
function firstError(...errors: unknown[]): FieldError | null {
  const e = errors.find((x) => x !== null && x !== undefined);
  return e === undefined ? null : relayError(e);
}

function useRelay() {
  const { client } = useSession();
  return useQuery({ queryKey: ["relay"], queryFn: ({ signal }) => client.relay({ signal }), retry: (n, err) => !isUnsupported(err) && n < 1 });
}

/** After a change of the relay: its status, and the connection line's. */
function useRelayChanged() {
  const queries = useQueryClient();
  return (relay?: Relay) => {
    if (relay) queries.setQueryData(["relay"], relay);
    void queries.invalidateQueries({ queryKey: ["relay"] });
    void queries.invalidateQueries({ queryKey: ["network"] });
  };
}

export function RelaySettings() {
  const relay = useRelay();
  if (relay.isPending) return <p className="text-zinc-500">Asking the node…</p>;
  if (relay.isError) {
    return isUnsupported(relay.error) ? (
      <p data-testid="relay-unsupported" className="text-zinc-500">This node has no relay support.</p>
    ) : (
      <p className="text-red-500">{relayError(relay.error).text}</p>
    );
  }
  const r = relay.data;
  if (r.url === null) return <ConnectRelay />;
  return (
    <div className="space-y-4">
      <RelayCard relay={r} />
      {r.account ? <Account relay={r} /> : <SignIn />}
    </div>
  );
}

function ConnectRelay() {
  const { client } = useSession();
  const changed = useRelayChanged();
  const [url, setUrl] = useState("");
  const connect = useMutation({ mutationFn: () => client.setRelay(url.trim()), onSuccess: changed });
  const error = firstError(connect.error);
  return (
    <form noValidate onSubmit={(e) => { e.preventDefault(); if (url.trim()) connect.mutate(); }}>
      <p className="mb-3 text-zinc-500">
        A relay is a server you or your community run. It gives you an account to restore your identity on another device, short invite codes,
        and delivery while the people you write to are offline. Without one, Ancore works on its own.
      </p>
      <label className="block">
        <span className="text-xs text-zinc-500">Relay address</span>
        <input data-testid="relay-url" className={inputClass} type="url" autoFocus placeholder="https://relay.example.org" value={url}
          aria-invalid={error?.field === "url"} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <FieldMessage error={error} field="url" />
      <FieldMessage error={error} field="form" />
      <button data-testid="relay-connect" className={`${buttonClass} mt-3`} disabled={!url.trim() || connect.isPending}>
        {connect.isPending ? "Connecting…" : "Connect to a relay"}
      </button>
    </form>
  );
}

function RelayCard({ relay }: { relay: Relay }) {
  const { client } = useSession();
  const changed = useRelayChanged();
  const forget = useMutation({ mutationFn: () => client.forgetRelay(), onSuccess: () => changed() });
  return (
    <div data-testid="relay-card" className="rounded border border-zinc-200 p-3 dark:border-zinc-700">
      <div className="flex items-center gap-2">
        <span className={`h-2 w-2 shrink-0 rounded-full ${relay.connected ? "bg-emerald-500" : "bg-amber-500"}`} />
        <span className="flex-1 truncate font-medium" title={relay.url ?? ""}>{relayHost(relay)}</span>
        <button data-testid="relay-forget" className="text-xs text-red-500 hover:underline" disabled={forget.isPending} onClick={() => forget.mutate()}>
          Disconnect
        </button>
      </div>
      <p data-testid="relay-connection" className="mt-1 text-xs text-zinc-500">
        {relay.connected ? "Connected" : relay.error ? `Unreachable: ${relay.error}` : "Connecting…"}
      </p>
      {forget.isError && <p className="mt-1 text-xs text-red-500">{relayError(forget.error).text}</p>}
    </div>
  );
}

function SignIn() {
  const { client } = useSession();
  const queries = useQueryClient();
  const changed = useRelayChanged();
  const [mode, setMode] = useState<"login" | "register">("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const submit = useMutation({
    mutationFn: () => (mode === "login" ? client.loginRelay({ email: email.trim(), password }) : client.registerRelay({ email: email.trim(), password })),
    onSuccess: (r) => {
      changed(r);
      // Logging in may make this node the account's user: everything shown may change.
      if (mode === "login") void queries.invalidateQueries();
    },
  });
  const mismatch = mode === "register" && confirm !== "" && confirm !== password;
  const error = mismatch ? { field: "password" as const, text: "The passwords differ." } : firstError(submit.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (email.trim() && password && !mismatch) submit.mutate();
  };
  return (
    <form noValidate onSubmit={onSubmit}>
      <Tabs tabs={[["login", "Log in"], ["register", "Register"]]} current={mode} testIdPrefix="relay-tab"
        onSelect={(m) => { setMode(m); submit.reset(); }} />
      <label className="block">
        <span className="text-xs text-zinc-500">Email</span>
        <input data-testid="relay-email" className={inputClass} type="email" autoComplete="email" value={email}
          aria-invalid={error?.field === "email"} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <FieldMessage error={error} field="email" />
      <label className="mt-3 block">
        <span className="text-xs text-zinc-500">Password</span>
        <input data-testid="relay-password" className={inputClass} type="password" autoComplete={mode === "login" ? "current-password" : "new-password"}
          value={password} aria-invalid={error?.field === "password"} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {mode === "register" && (
        <label className="mt-3 block">
          <span className="text-xs text-zinc-500">Password again</span>
          <input data-testid="relay-password-confirm" className={inputClass} type="password" autoComplete="new-password" value={confirm}
            onChange={(e) => setConfirm(e.target.value)} />
        </label>
      )}
      <FieldMessage error={error} field="password" />
      <FieldMessage error={error} field="form" />
      <p className="mt-2 text-xs text-zinc-500">
        {mode === "login"
          ? "Logging in on a new device restores your identity from the relay's encrypted backup."
          : "At least 8 characters. The password never leaves this device; the relay keeps only an encrypted backup of your identity."}
      </p>
      <button data-testid="relay-submit" className={`${buttonClass} mt-3`} disabled={!email.trim() || !password || mismatch || submit.isPending}>
        {submit.isPending ? "…" : mode === "login" ? "Log in" : "Register"}
      </button>
    </form>
  );
}

function Account({ relay }: { relay: Relay }) {
  const { client, onWiped } = useSession();
  const changed = useRelayChanged();
  const [confirming, setConfirming] = useState(false);
  const [wipe, setWipe] = useState(false);
  const logout = useMutation({
    mutationFn: () => client.logoutRelay(wipe),
    onSuccess: () => {
      if (wipe) onWiped();
      else {
        setConfirming(false);
        changed();
      }
    },
  });
  return (
    <div>
      <p data-testid="relay-account">
        Logged in as <span className="font-medium">{relay.account?.email}</span>
      </p>
      {!confirming ? (
        <button data-testid="relay-logout" className="mt-2 text-sm text-zinc-600 hover:underline dark:text-zinc-300" onClick={() => setConfirming(true)}>Log out…</button>
      ) : (
        <div data-testid="relay-logout-confirm" className="mt-3 rounded border border-zinc-200 p-3 dark:border-zinc-700">
          <p>Log out of {relay.account?.email}?</p>
          <label className="mt-2 flex items-start gap-2">
            <input data-testid="relay-wipe" type="checkbox" className="mt-1" checked={wipe} onChange={(e) => setWipe(e.target.checked)} />
            <span>
              Also wipe this device
              <span className="block text-xs text-zinc-500">
                Deletes this device's identity, messages and keys, and stops Ancore. Log in again to restore your identity from the relay.
              </span>
            </span>
          </label>
          {logout.isError && <p className="mt-2 text-xs text-red-500">{relayError(logout.error).text}</p>}
          <div className="mt-3 flex justify-end gap-2">
            <button className={quietButtonClass} onClick={() => { setConfirming(false); setWipe(false); }}>Cancel</button>
            <button data-testid="relay-logout-confirm-button" className={`${buttonClass} ${wipe ? "bg-red-600 hover:bg-red-500" : ""}`}
              disabled={logout.isPending} onClick={() => logout.mutate()}>
              {wipe ? "Log out and wipe" : "Log out"}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/** The relay's word for the connection line; nothing without a relay. */
export function RelayStatus({ network }: { network: Network | undefined }) {
  const state = relayState(network);
  if (state === "unsupported" || state === "none") return null;
  return (
    <span data-testid="relay-status" data-state={state} className={state === "connected" ? "" : "text-amber-600 dark:text-amber-400"}>
      {" · "}relay {state === "connected" ? "connected" : "unreachable"}
    </span>
  );
}

/** The owner asks the relay to carry the community, so members catch up while no one else is online. */
export function OfflineDelivery({ community }: { community: Community }) {
  const { client, self } = useSession();
  const network = useQuery({ queryKey: ["network"], queryFn: ({ signal }) => client.network({ signal }) });
  const carry = useMutation({ mutationFn: () => client.carryCommunity(community.id) });
  if (community.owner !== self || relayState(network.data) === "unsupported") return null;
  return (
    <div data-testid="offline-delivery" className="mt-6 border-t border-zinc-200 pt-4 dark:border-zinc-700">
      <p className="font-medium">Offline delivery through the relay</p>
      <p className="mt-1 text-xs text-zinc-500">
        Your relay keeps this community's messages (encrypted: it cannot read them) and hands them to members who come online while no other
        member is.
      </p>
      <button type="button" data-testid="relay-carry" className={`${buttonClass} mt-2`} disabled={carry.isPending} onClick={() => carry.mutate()}>
        {carry.isSuccess ? "Carried by the relay" : "Deliver through the relay"}
      </button>
      {carry.isSuccess && <p data-testid="relay-carry-done" className="mt-2 text-xs text-emerald-600">The relay now carries this community.</p>}
      {carry.isError && <p data-testid="relay-carry-error" className="mt-2 text-xs text-red-500">{relayError(carry.error).text}</p>}
    </div>
  );
}

/** What is left after logging out with wipe: the node deleted its data and exited. */
export function Wiped() {
  return (
    <main data-testid="wiped" className="flex h-full items-center justify-center bg-zinc-100 p-8 text-center dark:bg-zinc-900">
      <div className="max-w-sm">
        <h1 className="mb-2 text-xl font-semibold">This device was wiped</h1>
        <p className="text-zinc-500">
          Its identity, messages and keys are deleted and Ancore has stopped. Start it again to begin afresh, and log in to your relay to restore
          your identity.
        </p>
      </div>
    </main>
  );
}
