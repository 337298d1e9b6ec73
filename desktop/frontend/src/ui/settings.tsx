// Community settings: overview (name), roles and their permissions,
// invites (expiry, uses, revoke) and members (roles, kick, ban). What the
// local user may not do is not offered; the node refuses it anyway.

import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Community, Member, Permission, Role } from "../lib/api";
import { useSession } from "./context";
import { Tabs } from "./controls";
import { Modal, buttonClass, errorText, inputClass, quietButtonClass } from "./modal";
import { OfflineDelivery } from "./relay";

const allPermissions: Permission[] = [
  "manage-community", "manage-channels", "manage-roles", "kick", "ban", "create-invites",
  "send-messages", "manage-messages", "attach-files", "add-reactions", "connect", "speak", "video", "administrator",
];

type Tab = "overview" | "roles" | "invites" | "members";

export function CommunitySettings({ community, onClose }: { community: Community; onClose: () => void }) {
  const [tab, setTab] = useState<Tab>("overview");
  const can = (p: Permission) => community.my_permissions.includes(p);
  const tabs: [Tab, string, boolean][] = [
    ["overview", "Overview", can("manage-community")],
    ["roles", "Roles", can("manage-roles")],
    ["invites", "Invites", true],
    ["members", "Members", true],
  ];
  return (
    <Modal title={`${community.name} — settings`} onClose={onClose}>
      <Tabs tabs={tabs.filter(([, , shown]) => shown).map(([t, label]) => [t, label] as const)} current={tab} onSelect={setTab} testIdPrefix="settings" />
      <div className="max-h-[60vh] overflow-y-auto">
        {tab === "overview" && <Overview community={community} />}
        {tab === "roles" && <Roles community={community} />}
        {tab === "invites" && <Invites community={community} />}
        {tab === "members" && <Members community={community} />}
      </div>
      <div className="mt-4 flex justify-end">
        <button className={quietButtonClass} onClick={onClose}>Close</button>
      </div>
    </Modal>
  );
}

function useInvalidate(community: Community) {
  const queries = useQueryClient();
  return () => {
    void queries.invalidateQueries({ queryKey: ["communities"] });
    void queries.invalidateQueries({ queryKey: ["members", community.id] });
    void queries.invalidateQueries({ queryKey: ["invites", community.id] });
  };
}

function Overview({ community }: { community: Community }) {
  const { client } = useSession();
  const invalidate = useInvalidate(community);
  const [name, setName] = useState(community.name);
  const save = useMutation({ mutationFn: () => client.updateCommunity(community.id, { name: name.trim() }), onSuccess: invalidate });
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (name.trim()) save.mutate(); }}>
      <label className="block">
        <span className="text-xs text-zinc-500">Community name</span>
        <input data-testid="settings-name" className={inputClass} maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {save.isError && <p className="mt-2 text-red-500">{errorText(save.error)}</p>}
      <button className={`${buttonClass} mt-3`} disabled={!name.trim() || name === community.name || save.isPending}>Save</button>
      <IconPicker community={community} />
      <OfflineDelivery community={community} />
    </form>
  );
}

/** The community icon: an image of at most 16 KiB (the op's limit). */
function IconPicker({ community }: { community: Community }) {
  const { client } = useSession();
  const invalidate = useInvalidate(community);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({ mutationFn: (icon: string) => client.updateCommunity(community.id, { icon }), onSuccess: invalidate });
  return (
    <div className="mt-4">
      <span className="text-xs text-zinc-500">Icon (PNG or JPEG, at most 16 KB)</span>
      <div className="mt-1 flex items-center gap-3">
        {community.icon && <img src={`data:image/png;base64,${community.icon}`} alt="" className="h-12 w-12 rounded-xl object-cover" />}
        <input
          type="file"
          accept="image/png,image/jpeg"
          onChange={(e) => {
            const file = e.target.files?.[0];
            setError(null);
            if (!file) return;
            if (file.size > 16 * 1024) {
              setError("That image is larger than 16 KB.");
              return;
            }
            const reader = new FileReader();
            reader.onload = () => {
              const url = String(reader.result);
              save.mutate(url.slice(url.indexOf(",") + 1));
            };
            reader.readAsDataURL(file);
          }}
        />
        {community.icon && <button type="button" className="text-xs text-red-500 hover:underline" onClick={() => save.mutate("")}>Remove</button>}
      </div>
      {(error ?? (save.isError ? errorText(save.error) : null)) && <p className="mt-2 text-red-500">{error ?? errorText(save.error)}</p>}
    </div>
  );
}

function Roles({ community }: { community: Community }) {
  const { client } = useSession();
  const invalidate = useInvalidate(community);
  const [name, setName] = useState("");
  const top = Math.max(0, ...community.roles.map((r) => r.position));
  const create = useMutation({
    mutationFn: () => client.createRole(community.id, { name: name.trim(), position: top + 1, permissions: ["send-messages"] }),
    onSuccess: () => { setName(""); invalidate(); },
  });
  return (
    <div>
      {community.roles.map((r) => <RoleEditor key={r.id} community={community} role={r} />)}
      <form className="mt-3 flex gap-2" onSubmit={(e) => { e.preventDefault(); if (name.trim()) create.mutate(); }}>
        <input className={inputClass} placeholder="New role" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        <button className={buttonClass} disabled={!name.trim() || create.isPending}>Add</button>
      </form>
      {create.isError && <p className="mt-2 text-red-500">{errorText(create.error)}</p>}
    </div>
  );
}

function RoleEditor({ community, role }: { community: Community; role: Role }) {
  const { client } = useSession();
  const invalidate = useInvalidate(community);
  const [open, setOpen] = useState(false);
  const update = useMutation({
    mutationFn: (permissions: Permission[]) => client.updateRole(community.id, role.id, { permissions }),
    onSuccess: invalidate,
  });
  const remove = useMutation({ mutationFn: () => client.deleteRole(community.id, role.id), onSuccess: invalidate });
  const everyone = role.id === community.id;
  return (
    <div className="mb-1 rounded border border-zinc-200 dark:border-zinc-700">
      <button className="flex w-full items-center justify-between px-3 py-2" onClick={() => setOpen(!open)}>
        <span style={role.color ? { color: `#${role.color.toString(16).padStart(6, "0")}` } : undefined}>{role.name}</span>
        <span className="text-xs text-zinc-500">{role.permissions.length} permissions</span>
      </button>
      {open && (
        <div className="grid grid-cols-2 gap-1 px-3 pb-3">
          {allPermissions.map((p) => (
            <label key={p} className="flex items-center gap-1 text-xs">
              <input
                type="checkbox"
                checked={role.permissions.includes(p)}
                disabled={update.isPending}
                onChange={(e) => update.mutate(e.target.checked ? [...role.permissions, p] : role.permissions.filter((x) => x !== p))}
              />
              {p}
            </label>
          ))}
          {!everyone && (
            <button className="col-span-2 mt-2 text-left text-xs text-red-500 hover:underline" onClick={() => remove.mutate()}>Delete role</button>
          )}
          {(update.isError || remove.isError) && <p className="col-span-2 text-red-500">{errorText(update.error ?? remove.error)}</p>}
        </div>
      )}
    </div>
  );
}

function Invites({ community }: { community: Community }) {
  const { client } = useSession();
  const invalidate = useInvalidate(community);
  const invites = useQuery({ queryKey: ["invites", community.id], queryFn: ({ signal }) => client.invites(community.id, { signal }) });
  const revoke = useMutation({ mutationFn: (id: string) => client.revokeInvite(community.id, id), onSuccess: invalidate });
  const list = (invites.data ?? []).filter((i) => !i.revoked);
  if (list.length === 0) return <p className="text-zinc-500">No active invites. Create one from the community menu.</p>;
  return (
    <table className="w-full text-left text-xs">
      <thead className="text-zinc-500">
        <tr><th className="py-1">Expires</th><th>Uses</th><th /></tr>
      </thead>
      <tbody>
        {list.map((i) => (
          <tr key={i.id} data-testid="invite-row" className="border-t border-zinc-200 dark:border-zinc-700">
            <td className="py-1">{i.expires_at ? new Date(i.expires_at).toLocaleString() : "never"}</td>
            <td>{i.uses}{i.max_uses ? ` / ${i.max_uses}` : ""}</td>
            <td className="text-right">
              <button data-testid="invite-revoke" className="text-red-500 hover:underline" onClick={() => revoke.mutate(i.id)}>Revoke</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Members({ community }: { community: Community }) {
  const { client, self } = useSession();
  const invalidate = useInvalidate(community);
  const members = useQuery({ queryKey: ["members", community.id], queryFn: ({ signal }) => client.members(community.id, { signal }) });
  const can = (p: Permission) => community.my_permissions.includes(p);
  const kick = useMutation({ mutationFn: (u: string) => client.kick(community.id, u), onSuccess: invalidate });
  const ban = useMutation({ mutationFn: (u: string) => client.ban(community.id, u), onSuccess: invalidate });
  const setRoles = useMutation({
    mutationFn: ({ user, roles }: { user: string; roles: string[] }) => client.setMemberRoles(community.id, user, roles),
    onSuccess: invalidate,
  });
  const roles = community.roles.filter((r) => r.id !== community.id);
  const joined = (members.data ?? []).filter((m: Member) => m.state === "joined");
  return (
    <div>
      {joined.map((m) => (
        <div key={m.user} data-testid="settings-member" className="flex items-center gap-2 border-t border-zinc-200 py-2 dark:border-zinc-700">
          <span className="flex-1 truncate">{m.name}{m.owner ? " (owner)" : ""}</span>
          {can("manage-roles") && roles.length > 0 && !m.owner && (
            <select
              className="bg-transparent text-xs"
              value=""
              onChange={(e) => {
                const id = e.target.value;
                const next = m.roles.includes(id) ? m.roles.filter((r) => r !== id) : [...m.roles, id];
                setRoles.mutate({ user: m.user, roles: next });
              }}
            >
              <option value="">Roles ({m.roles.length})</option>
              {roles.map((r) => <option key={r.id} value={r.id}>{m.roles.includes(r.id) ? "✓ " : ""}{r.name}</option>)}
            </select>
          )}
          {m.user !== self && !m.owner && can("kick") && (
            <button data-testid="member-kick" className="text-xs text-red-500 hover:underline" onClick={() => kick.mutate(m.user)}>Kick</button>
          )}
          {m.user !== self && !m.owner && can("ban") && (
            <button data-testid="member-ban" className="text-xs text-red-500 hover:underline" onClick={() => ban.mutate(m.user)}>Ban</button>
          )}
        </div>
      ))}
      {(kick.isError || ban.isError || setRoles.isError) && (
        <p className="mt-2 text-red-500">{errorText(kick.error ?? ban.error ?? setRoles.error)}</p>
      )}
    </div>
  );
}
