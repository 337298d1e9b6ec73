// The community's roles, highest first (@everyone last): pick one to edit,
// move roles up and down, create new ones.

import { useId, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { ChevronDown, ChevronUp, Plus } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { useInvalidate, useMembers } from "@/api/queries";
import type { Community, ID, Role } from "@/api/types";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { byPosition } from "@/features/members/group";
import { errorText, toastError } from "@/lib/errors";
import { cn } from "@/lib/utils";
import { IconButton } from "./icon-button";
import { RoleDot } from "@/features/members/role-dot";
import { RoleEditor } from "./role-editor";
import { moveRole, type PositionChange } from "./role-order";

export function RolesTab({ community }: { community: Community }) {
  const ranked = byPosition(community.roles);
  const [selected, setSelected] = useState<ID | null>(null);
  const role = ranked.find((r) => r.id === selected) ?? ranked[0];
  return (
    <div className="grid gap-4 lg:grid-cols-[13rem_minmax(0,1fr)]">
      <div className="grid min-w-0 content-start gap-3">
        <RoleList community={community} ranked={ranked} selected={role?.id} onSelect={setSelected} />
        <CreateRole community={community} onCreated={setSelected} />
      </div>
      {role && <RoleEditor key={role.id} community={community} role={role} onDeleted={() => setSelected(null)} />}
    </div>
  );
}

function RoleList({ community, ranked, selected, onSelect }: { community: Community; ranked: Role[]; selected: ID | undefined; onSelect: (id: ID) => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const members = useMembers(community.id);
  const joined = (members.data ?? []).filter((m) => m.state === "joined");
  const move = useMutation({
    mutationFn: (changes: PositionChange[]) =>
      Promise.all(changes.map((c) => data(api.PATCH("/communities/{id}/roles/{role}", { params: { path: { id: community.id, role: c.role } }, body: { position: c.position } })))),
    onSettled: () => invalidate.communities(),
    onError: (err, changes) => toastError("Could not move the role", err, () => move.mutate(changes)),
  });
  const movable = ranked.filter((r) => r.id !== community.id);
  return (
    <ul aria-label="Roles" className="flex min-w-0 flex-col gap-0.5" data-testid="role-list">
      {ranked.map((r) => {
        const everyone = r.id === community.id;
        const count = everyone ? joined.length : joined.filter((m) => m.roles.includes(r.id)).length;
        const i = movable.indexOf(r);
        return (
          <li key={r.id} data-testid="role-row" className={cn("flex min-w-0 items-center gap-0.5 rounded-md pr-1", r.id === selected && "bg-accent")}>
            <button
              type="button"
              aria-current={r.id === selected}
              onClick={() => onSelect(r.id)}
              className="flex min-w-0 flex-1 items-center gap-2 rounded-md px-2 py-1.5 text-left hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <RoleDot color={r.color} />
              <span className="min-w-0 flex-1 truncate">{r.name}</span>
              <span className="text-xs text-muted-foreground">
                {count}
                <span className="sr-only"> member{count === 1 ? "" : "s"}</span>
              </span>
            </button>
            {!everyone && (
              <>
                <IconButton label={`Move ${r.name} up`} disabled={i <= 0 || move.isPending} onClick={() => move.mutate(moveRole(community.roles, community.id, r.id, "up"))}>
                  <ChevronUp aria-hidden />
                </IconButton>
                <IconButton
                  label={`Move ${r.name} down`}
                  disabled={i === movable.length - 1 || move.isPending}
                  onClick={() => move.mutate(moveRole(community.roles, community.id, r.id, "down"))}
                >
                  <ChevronDown aria-hidden />
                </IconButton>
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function CreateRole({ community, onCreated }: { community: Community; onCreated: (id: ID) => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const id = useId();
  const [name, setName] = useState("");
  const limit = useFieldLimit(name.trim(), "name");
  // New roles start at the bottom, as Discord's do: every role manager outranks position 1.
  const create = useMutation({
    mutationFn: () =>
      data(api.POST("/communities/{id}/roles", { params: { path: { id: community.id } }, body: { name: name.trim(), position: 1, permissions: ["send-messages"] } })),
    onSuccess: (role) => {
      setName("");
      invalidate.communities();
      toast.success(`Role ${role.name} created`);
      onCreated(role.id);
    },
  });
  return (
    <form
      className="grid gap-1.5"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && !limit.refusal) create.mutate();
      }}
    >
      <Label htmlFor={id} className="sr-only">
        New role's name
      </Label>
      <div className="flex gap-2">
        <Input
          id={id}
          data-testid="role-new-name"
          placeholder="New role"
          aria-invalid={!!limit.refusal}
          aria-describedby={`${id}-limit`}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Button data-testid="role-create" variant="outline" disabled={!name.trim() || !!limit.refusal || create.isPending}>
          <Plus aria-hidden /> Create
        </Button>
      </div>
      <FieldLimitNote limit={limit} id={`${id}-limit`} />
      {create.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(create.error)}
        </p>
      )}
    </form>
  );
}
