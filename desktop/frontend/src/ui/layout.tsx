// The chat layout, Discord's: the community rail, the channel sidebar with
// the user panel, the message pane and the member list.

import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Channel, Community, Me, Member, MyStatus, PresenceStatus } from "../lib/api";
import { useSession } from "./context";
import { MessagePane } from "./messages";
import { CommunitySettings } from "./settings";
import { Modal, buttonClass, errorText, inputClass, quietButtonClass } from "./modal";
import { applyTheme, savedTheme, type Theme } from "./theme";
import { UnreadCounter, useReadState } from "./readstate";
import { RelaySettings, RelayStatus } from "./relay";
import { CopyField, Tabs } from "./controls";
import { joinError } from "../lib/relay";
import type { Unread } from "./unread";

export function Layout({ me }: { me: Me }) {
  const { client } = useSession();
  const communities = useQuery({ queryKey: ["communities"], queryFn: ({ signal }) => client.communities({ signal }) });
  const [selected, setSelected] = useState<string | null>(null);
  // Communities left, or kicked or banned from, leave the rail.
  const list = (communities.data ?? []).filter((c) => c.member);
  const current = list.find((c) => c.id === selected) ?? list[0] ?? null;
  const [channel, setChannel] = useState<string | null>(null);
  const currentChannel = current?.channels.find((c) => c.id === channel) ?? current?.channels.find((c) => c.type === "text") ?? null;

  const reads = useReadState(me.user, currentChannel?.id ?? null);
  const unread = reads.unread;

  return (
    <div className="flex h-full text-sm">
      {list.flatMap((c) => c.channels).filter((c) => c.type === "text").map((c) => <UnreadCounter key={c.id} channel={c} count={reads.count} />)}
      <Rail communities={list} current={current} unread={unread} onSelect={(id) => { setSelected(id); setChannel(null); }} />
      {current ? (
        <>
          <Sidebar community={current} channel={currentChannel?.id ?? null} onChannel={setChannel} me={me} unread={unread} />
          <section className="flex min-w-0 flex-1 flex-col bg-white dark:bg-zinc-700">
            {currentChannel ? (
              <MessagePane key={currentChannel.id} community={current} channel={currentChannel} marks={reads.marks} />
            ) : (
              <p className="m-auto text-zinc-500">No text channel yet.</p>
            )}
          </section>
          <MemberList community={current} />
        </>
      ) : (
        <section className="flex flex-1 flex-col items-center justify-center gap-2 bg-white text-zinc-500 dark:bg-zinc-700">
          <p>You are in no community yet.</p>
          <p>Create one, or join one with an invite link, from the left.</p>
          <div className="fixed bottom-0 left-[72px] w-60">
            <UserPanel me={me} />
          </div>
        </section>
      )}
    </div>
  );
}

function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]?.toUpperCase() ?? "").join("") || "?";
}

function badge(count: number, mentions: number) {
  if (mentions > 0) {
    return <span data-testid="mention-badge" className="absolute -bottom-1 -right-1 min-w-5 rounded-full bg-red-500 px-1 text-center text-[11px] font-bold leading-5 text-white">{mentions}</span>;
  }
  return count > 0 ? <span data-testid="unread-dot" className="absolute -left-3 top-1/2 h-2 w-2 -translate-y-1/2 rounded-full bg-zinc-700 dark:bg-white" /> : null;
}

function Rail({ communities, current, unread, onSelect }: { communities: Community[]; current: Community | null; unread: Unread; onSelect: (id: string) => void }) {
  const [modal, setModal] = useState<"create" | "join" | null>(null);
  return (
    <nav className="flex w-[72px] flex-col items-center gap-2 overflow-y-auto bg-zinc-200 py-3 dark:bg-zinc-900" aria-label="Communities">
      {communities.map((c) => {
        const counts = c.channels.map((ch) => unread.channels[ch.id]).filter((x) => x !== undefined);
        return (
          <button
            key={c.id}
            data-testid="community-icon"
            title={c.name}
            onClick={() => onSelect(c.id)}
            className={`relative flex h-12 w-12 items-center justify-center rounded-3xl text-base font-semibold transition-all hover:rounded-xl ${
              c.id === current?.id ? "rounded-xl bg-indigo-600 text-white" : "bg-white dark:bg-zinc-700"
            }`}
          >
            {c.icon ? <img src={`data:image/png;base64,${c.icon}`} alt="" className="h-12 w-12 rounded-[inherit] object-cover" /> : initials(c.name)}
            {c.id !== current?.id && badge(counts.reduce((n, x) => n + x.count, 0), counts.reduce((n, x) => n + x.mentions, 0))}
          </button>
        );
      })}
      <div className="mx-auto h-px w-8 bg-zinc-300 dark:bg-zinc-700" />
      <button data-testid="create-community" title="Create a community" onClick={() => setModal("create")} className="h-12 w-12 rounded-3xl bg-white text-2xl text-emerald-600 hover:rounded-xl dark:bg-zinc-700">
        +
      </button>
      <button data-testid="join-community" title="Join with an invite" onClick={() => setModal("join")} className="h-12 w-12 rounded-3xl bg-white text-lg text-emerald-600 hover:rounded-xl dark:bg-zinc-700">
        ⇥
      </button>
      {modal === "create" && <CreateCommunity onClose={() => setModal(null)} onDone={onSelect} />}
      {modal === "join" && <JoinCommunity onClose={() => setModal(null)} onDone={onSelect} />}
    </nav>
  );
}

function CreateCommunity({ onClose, onDone }: { onClose: () => void; onDone: (id: string) => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => client.createCommunity({ name: name.trim() }),
    onSuccess: (c) => {
      void queries.invalidateQueries({ queryKey: ["communities"] });
      onDone(c.id);
      onClose();
    },
  });
  return (
    <Modal title="Create a community" onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); if (name.trim()) create.mutate(); }}>
        <input data-testid="community-name" className={inputClass} autoFocus maxLength={100} placeholder="Community name" value={name} onChange={(e) => setName(e.target.value)} />
        {create.isError && <p className="mt-2 text-red-500">{errorText(create.error)}</p>}
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" className={quietButtonClass} onClick={onClose}>Cancel</button>
          <button data-testid="community-create" className={buttonClass} disabled={!name.trim() || create.isPending}>Create</button>
        </div>
      </form>
    </Modal>
  );
}

function JoinCommunity({ onClose, onDone }: { onClose: () => void; onDone: (id: string) => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [link, setLink] = useState("");
  const join = useMutation({
    mutationFn: () => client.joinCommunity({ invite: link.trim() }),
    onSuccess: (c) => {
      void queries.invalidateQueries({ queryKey: ["communities"] });
      onDone(c.id);
      onClose();
    },
  });
  return (
    <Modal title="Join a community" onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); if (link.trim()) join.mutate(); }}>
        <label className="block">
          <span className="text-xs text-zinc-500">An invite link, or a short code from a relay</span>
          <input data-testid="join-link" className={inputClass} autoFocus placeholder="ancore://invite/… or a code" value={link} onChange={(e) => setLink(e.target.value)} />
        </label>
        {join.isPending && <p className="mt-2 text-zinc-500">Asking a member to let you in…</p>}
        {join.isError && <p data-testid="join-error" className="mt-2 text-red-500">{joinError(join.error)}</p>}
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" className={quietButtonClass} onClick={onClose}>Cancel</button>
          <button data-testid="join-submit" className={buttonClass} disabled={!link.trim() || join.isPending}>Join</button>
        </div>
      </form>
    </Modal>
  );
}

function Sidebar({ community, channel, onChannel, me, unread }: { community: Community; channel: string | null; onChannel: (id: string) => void; me: Me; unread: Unread }) {
  const [editChannel, setEditChannel] = useState<Channel | null>(null);
  const [menu, setMenu] = useState(false);
  const [modal, setModal] = useState<"invite" | "channel" | "settings" | "leave" | null>(null);
  const can = (p: string) => community.my_permissions.includes(p as never);
  return (
    <aside className="flex w-60 flex-col bg-zinc-100 dark:bg-zinc-800">
      <div className="relative">
        <button data-testid="community-menu" onClick={() => setMenu(!menu)} className="flex h-12 w-full items-center justify-between border-b border-zinc-300 px-4 font-semibold hover:bg-zinc-200 dark:border-zinc-900 dark:hover:bg-zinc-700">
          <span className="truncate">{community.name}</span>
          <span aria-hidden>▾</span>
        </button>
        {menu && (
          <div className="absolute left-2 right-2 top-12 z-10 rounded bg-white p-1 shadow-lg dark:bg-zinc-900" onMouseLeave={() => setMenu(false)}>
            {can("create-invites") && (
              <button data-testid="invite-open" className="block w-full rounded px-3 py-2 text-left hover:bg-indigo-600 hover:text-white" onClick={() => { setModal("invite"); setMenu(false); }}>
                Invite people
              </button>
            )}
            {can("manage-channels") && (
              <button data-testid="channel-new" className="block w-full rounded px-3 py-2 text-left hover:bg-indigo-600 hover:text-white" onClick={() => { setModal("channel"); setMenu(false); }}>
                Create channel
              </button>
            )}
            <button data-testid="settings-open" className="block w-full rounded px-3 py-2 text-left hover:bg-indigo-600 hover:text-white" onClick={() => { setModal("settings"); setMenu(false); }}>
              Community settings
            </button>
            {community.owner !== me.user && (
              <button data-testid="leave-open" className="block w-full rounded px-3 py-2 text-left text-red-500 hover:bg-red-600 hover:text-white" onClick={() => { setModal("leave"); setMenu(false); }}>
                Leave community
              </button>
            )}
          </div>
        )}
      </div>
      <nav className="flex-1 overflow-y-auto px-2 py-3" aria-label="Channels">
        {(["text", "voice"] as const).map((type) => (
          <div key={type} className="mb-3">
            <p className="px-2 pb-1 text-xs font-semibold uppercase text-zinc-500">{type === "text" ? "Text channels" : "Voice channels"}</p>
            {community.channels.filter((c) => c.type === type).map((c) => (
              <div key={c.id} className="group relative">
              <button
                data-testid="channel"
                data-name={c.name}
                disabled={type === "voice"}
                onClick={() => onChannel(c.id)}
                className={`flex w-full items-center gap-1 rounded px-2 py-1 text-left ${c.id === channel ? "bg-zinc-300 font-medium dark:bg-zinc-600" : unread.channels[c.id] ? "font-semibold text-zinc-900 dark:text-white" : "text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-700"}`}
              >
                <span className="text-zinc-400">
                  {type === "text" ? "#" : (
                    <svg aria-hidden viewBox="0 0 24 24" className="inline h-4 w-4" fill="none" stroke="currentColor" strokeWidth="2"><path d="M11 5 6 9H2v6h4l5 4zM15.5 8.5a5 5 0 0 1 0 7M19 5a10 10 0 0 1 0 14" /></svg>
                  )}
                </span>
                <span className="flex-1 truncate">{c.name}</span>
                {(unread.channels[c.id]?.mentions ?? 0) > 0 && (
                  <span className="rounded-full bg-red-500 px-1.5 text-[11px] font-bold text-white">{unread.channels[c.id]?.mentions}</span>
                )}
              </button>
              {can("manage-channels") && (
                <button data-testid="channel-edit" title="Edit channel" aria-label="Edit channel" onClick={() => setEditChannel(c)}
                  className="absolute right-1 top-1 hidden rounded px-1 text-zinc-500 hover:text-zinc-900 group-hover:block dark:hover:text-white">⚙</button>
              )}
              </div>
            ))}
          </div>
        ))}
      </nav>
      <UserPanel me={me} />
      {modal === "invite" && <InviteModal community={community} onClose={() => setModal(null)} />}
      {modal === "channel" && <ChannelModal community={community} onClose={() => setModal(null)} />}
      {modal === "settings" && <CommunitySettings community={community} onClose={() => setModal(null)} />}
      {editChannel && <EditChannel channel={editChannel} onClose={() => setEditChannel(null)} />}
      {modal === "leave" && <LeaveModal community={community} onClose={() => setModal(null)} />}
    </aside>
  );
}

function EditChannel({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState(channel.name);
  const [topic, setTopic] = useState(channel.topic);
  const done = () => {
    void queries.invalidateQueries({ queryKey: ["communities"] });
    onClose();
  };
  const save = useMutation({ mutationFn: () => client.updateChannel(channel.id, { name: name.trim(), topic }), onSuccess: done });
  const remove = useMutation({ mutationFn: () => client.deleteChannel(channel.id), onSuccess: done });
  return (
    <Modal title={`Edit #${channel.name}`} onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); if (name.trim()) save.mutate(); }}>
        <label className="mb-3 block">
          <span className="text-xs text-zinc-500">Name</span>
          <input data-testid="channel-edit-name" className={inputClass} maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="block">
          <span className="text-xs text-zinc-500">Topic</span>
          <textarea className={inputClass} maxLength={1024} rows={3} value={topic} onChange={(e) => setTopic(e.target.value)} />
        </label>
        {(save.isError || remove.isError) && <p className="mt-2 text-red-500">{errorText(save.error ?? remove.error)}</p>}
        <div className="mt-4 flex justify-between">
          <button type="button" className="text-sm text-red-500 hover:underline" onClick={() => remove.mutate()}>Delete channel</button>
          <div className="flex gap-2">
            <button type="button" className={quietButtonClass} onClick={onClose}>Cancel</button>
            <button data-testid="channel-save" className={buttonClass} disabled={!name.trim() || save.isPending}>Save</button>
          </div>
        </div>
      </form>
    </Modal>
  );
}

function LeaveModal({ community, onClose }: { community: Community; onClose: () => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const leave = useMutation({
    mutationFn: () => client.leave(community.id),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["communities"] });
      onClose();
    },
  });
  return (
    <Modal title={`Leave ${community.name}`} onClose={onClose}>
      <p>You will stop receiving its messages; an invite brings you back.</p>
      {leave.isError && <p className="mt-2 text-red-500">{errorText(leave.error)}</p>}
      <div className="mt-4 flex justify-end gap-2">
        <button className={quietButtonClass} onClick={onClose}>Cancel</button>
        <button data-testid="leave-confirm" className={`${buttonClass} bg-red-600 hover:bg-red-500`} disabled={leave.isPending} onClick={() => leave.mutate()}>Leave</button>
      </div>
    </Modal>
  );
}

function InviteModal({ community, onClose }: { community: Community; onClose: () => void }) {
  const { client } = useSession();
  const [ttl, setTtl] = useState(86_400);
  const [maxUses, setMaxUses] = useState(0);
  const create = useMutation({ mutationFn: () => client.createInvite(community.id, { ttl_seconds: ttl, max_uses: maxUses }) });
  return (
    <Modal title={`Invite people to ${community.name}`} onClose={onClose}>
      <div className="flex gap-2">
        <label className="flex-1">
          <span className="text-xs text-zinc-500">Expires after</span>
          <select className={inputClass} value={ttl} onChange={(e) => setTtl(Number(e.target.value))}>
            <option value={3600}>1 hour</option>
            <option value={86_400}>1 day</option>
            <option value={604_800}>7 days</option>
            <option value={0}>Never</option>
          </select>
        </label>
        <label className="flex-1">
          <span className="text-xs text-zinc-500">Max uses</span>
          <select className={inputClass} value={maxUses} onChange={(e) => setMaxUses(Number(e.target.value))}>
            <option value={0}>No limit</option>
            <option value={1}>1 use</option>
            <option value={10}>10 uses</option>
            <option value={100}>100 uses</option>
          </select>
        </label>
      </div>
      {create.data && (
        <div className="mt-4 space-y-3">
          <CopyField testId="invite-link" label="Invite link" value={create.data.link ?? ""} />
          {create.data.code && <CopyField testId="invite-code" label="Short code (through your relay)" value={create.data.code} />}
        </div>
      )}
      {create.isError && <p className="mt-2 text-red-500">{errorText(create.error)}</p>}
      <div className="mt-4 flex justify-end gap-2">
        <button className={quietButtonClass} onClick={onClose}>Close</button>
        <button data-testid="invite-create" className={buttonClass} disabled={create.isPending} onClick={() => create.mutate()}>
          {create.data ? "New link" : "Create link"}
        </button>
      </div>
    </Modal>
  );
}

function ChannelModal({ community, onClose }: { community: Community; onClose: () => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState("");
  const [type, setType] = useState<"text" | "voice">("text");
  const create = useMutation({
    mutationFn: () => client.createChannel(community.id, { name: name.trim(), type }),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["communities"] });
      onClose();
    },
  });
  return (
    <Modal title="Create a channel" onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); if (name.trim()) create.mutate(); }}>
        <div className="mb-3 flex gap-4">
          {(["text", "voice"] as const).map((t) => (
            <label key={t} className="flex items-center gap-1">
              <input type="radio" checked={type === t} onChange={() => setType(t)} /> {t === "text" ? "Text" : "Voice"}
            </label>
          ))}
        </div>
        <input data-testid="channel-name" className={inputClass} autoFocus maxLength={100} placeholder="new-channel" value={name} onChange={(e) => setName(e.target.value)} />
        {create.isError && <p className="mt-2 text-red-500">{errorText(create.error)}</p>}
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" className={quietButtonClass} onClick={onClose}>Cancel</button>
          <button data-testid="channel-create" className={buttonClass} disabled={!name.trim() || create.isPending}>Create</button>
        </div>
      </form>
    </Modal>
  );
}

const statusDot: Record<PresenceStatus | MyStatus, string> = {
  online: "bg-emerald-500",
  idle: "bg-amber-400",
  dnd: "bg-red-500",
  offline: "bg-zinc-400",
  invisible: "bg-zinc-400",
};

function UserPanel({ me }: { me: Me }) {
  const { client, stream } = useSession();
  const queries = useQueryClient();
  const [settings, setSettings] = useState(false);
  const network = useQuery({ queryKey: ["network"], queryFn: ({ signal }) => client.network({ signal }), refetchInterval: 5000 });
  const setStatus = useMutation({
    mutationFn: (status: MyStatus) => client.updateMe({ status }),
    onSuccess: (m) => queries.setQueryData(["me"], m),
  });
  const peers = network.data?.peers.length ?? 0;
  const syncing = network.data?.sync.length ?? 0;
  return (
    <div className="border-t border-zinc-300 bg-zinc-200/60 p-2 dark:border-zinc-900 dark:bg-zinc-900/60">
      <p data-testid="connection" className="mb-1 px-1 text-xs text-zinc-500">
        {stream === "open" ? `${peers} peer${peers === 1 ? "" : "s"} connected` : "Reconnecting to the node…"}
        {syncing > 0 && ` · syncing ${network.data?.sync.map((s) => `${s.done ?? 0}/${s.total ?? 0}`).join(", ")}`}
        {stream === "open" && <RelayStatus network={network.data} />}
      </p>
      <div className="flex items-center gap-2">
        <div className="relative h-8 w-8 shrink-0 rounded-full bg-indigo-600 text-center leading-8 text-white">
          {initials(me.name)}
          <span className={`absolute -bottom-0.5 -right-0.5 h-3 w-3 rounded-full border-2 border-zinc-200 dark:border-zinc-900 ${statusDot[me.status as MyStatus] ?? "bg-zinc-400"}`} />
        </div>
        <div className="min-w-0 flex-1">
          <p data-testid="me-name" className="truncate font-medium">{me.name}</p>
          <select aria-label="Status" className="bg-transparent text-xs text-zinc-500" value={me.status} onChange={(e) => setStatus.mutate(e.target.value as MyStatus)}>
            <option value="online">Online</option>
            <option value="idle">Idle</option>
            <option value="dnd">Do not disturb</option>
            <option value="invisible">Invisible</option>
          </select>
        </div>
        <button title="Settings" aria-label="Settings" className="rounded p-1 hover:bg-zinc-300 dark:hover:bg-zinc-700" onClick={() => setSettings(true)}>⚙</button>
      </div>
      {settings && <UserSettings me={me} onClose={() => setSettings(false)} />}
    </div>
  );
}

function UserSettings({ me, onClose }: { me: Me; onClose: () => void }) {
  const [tab, setTab] = useState<"profile" | "relay">("profile");
  return (
    <Modal title="Settings" onClose={onClose}>
      <Tabs tabs={[["profile", "Profile"], ["relay", "Relay"]]} current={tab} onSelect={setTab} testIdPrefix="user-settings" />
      {tab === "profile" ? (
        <ProfileSettings me={me} onClose={onClose} />
      ) : (
        <>
          <RelaySettings />
          <div className="mt-4 flex justify-end">
            <button className={quietButtonClass} onClick={onClose}>Close</button>
          </div>
        </>
      )}
    </Modal>
  );
}

function ProfileSettings({ me, onClose }: { me: Me; onClose: () => void }) {
  const { client } = useSession();
  const queries = useQueryClient();
  const [name, setName] = useState(me.name);
  const [theme, setTheme] = useState<Theme>(savedTheme());
  useEffect(() => applyTheme(theme), [theme]);
  const save = useMutation({
    mutationFn: () => client.updateMe({ name: name.trim() }),
    onSuccess: (m) => {
      queries.setQueryData(["me"], m);
      onClose();
    },
  });
  return (
    <>
      <label className="mb-3 block">
        <span className="text-xs text-zinc-500">Display name</span>
        <input className={inputClass} maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <fieldset className="mb-3">
        <legend className="text-xs text-zinc-500">Theme</legend>
        <div className="flex gap-4">
          {(["dark", "light", "system"] as const).map((t) => (
            <label key={t} className="flex items-center gap-1">
              <input type="radio" checked={theme === t} onChange={() => setTheme(t)} /> {t[0]?.toUpperCase() + t.slice(1)}
            </label>
          ))}
        </div>
      </fieldset>
      {save.isError && <p className="mt-2 text-red-500">{errorText(save.error)}</p>}
      <div className="mt-4 flex justify-end gap-2">
        <button className={quietButtonClass} onClick={onClose}>Close</button>
        <button className={buttonClass} disabled={!name.trim() || save.isPending} onClick={() => save.mutate()}>Save</button>
      </div>
    </>
  );
}

function MemberList({ community }: { community: Community }) {
  const { client, chat } = useSession();
  const members = useQuery({ queryKey: ["members", community.id], queryFn: ({ signal }) => client.members(community.id, { signal }) });
  const live = chat.presence[community.id] ?? {};
  const joined = (members.data ?? []).filter((m) => m.state === "joined");
  const status = (m: Member): PresenceStatus => live[m.user] ?? (m.status as PresenceStatus);
  const online = joined.filter((m) => status(m) !== "offline");
  const offline = joined.filter((m) => status(m) === "offline");
  const roleName = (id: string) => community.roles.find((r) => r.id === id)?.name;
  const [profile, setProfile] = useState<Member | null>(null);
  const section = (title: string, list: Member[]) =>
    list.length > 0 && (
      <div className="mb-4">
        <p className="px-2 pb-1 text-xs font-semibold uppercase text-zinc-500">{title} — {list.length}</p>
        {list.map((m) => (
          <div key={m.user} data-testid="member" data-status={status(m)} onClick={() => setProfile(profile?.user === m.user ? null : m)} className={`flex cursor-pointer items-center gap-2 rounded px-2 py-1 hover:bg-zinc-200 dark:hover:bg-zinc-700 ${status(m) === "offline" ? "opacity-50" : ""}`}>
            <div className="relative h-8 w-8 shrink-0 rounded-full bg-zinc-400 text-center leading-8 text-white dark:bg-zinc-600">
              {initials(m.name)}
              <span className={`absolute -bottom-0.5 -right-0.5 h-3 w-3 rounded-full border-2 border-zinc-100 dark:border-zinc-800 ${statusDot[status(m)]}`} />
            </div>
            <span className="truncate">{m.name}</span>
            {m.owner && <span className="rounded bg-amber-400/20 px-1 text-[10px] font-semibold uppercase text-amber-600 dark:text-amber-300">owner</span>}
          </div>
        ))}
      </div>
    );
  return (
    <aside className="hidden w-60 overflow-y-auto bg-zinc-100 py-3 lg:block dark:bg-zinc-800" aria-label="Members">
      {section("Online", online)}
      {section("Offline", offline)}
      {profile && (
        <div data-testid="profile" className="fixed right-64 top-24 z-30 w-64 rounded-lg bg-white p-4 shadow-xl dark:bg-zinc-900" onMouseLeave={() => setProfile(null)}>
          <div className="mb-2 flex items-center gap-2">
            <div className="h-12 w-12 rounded-full bg-indigo-600 text-center text-lg leading-[3rem] text-white">{initials(profile.name)}</div>
            <div>
              <p className="font-semibold">{profile.name}</p>
              <p className="text-xs text-zinc-500">{status(profile)}</p>
            </div>
          </div>
          <p className="text-xs uppercase text-zinc-500">Roles</p>
          <p className="mb-2">{[profile.owner ? "Owner" : "", ...profile.roles.map(roleName)].filter(Boolean).join(", ") || "—"}</p>
          <p className="text-xs uppercase text-zinc-500">Member since</p>
          <p>{new Date(profile.joined_at).toLocaleDateString()}</p>
          <p className="mt-2 break-all font-mono text-[10px] text-zinc-500">{profile.user}</p>
        </div>
      )}
    </aside>
  );
}
