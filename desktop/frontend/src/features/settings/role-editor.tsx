// One role's settings: its name and colour (not @everyone's), its
// permissions, and deleting it (not @everyone).

import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Ban, Check, ShieldAlert, Trash2 } from "lucide-react";
import { toast } from "sonner";
import { data } from "@/api/client";
import { keys, useInvalidate } from "@/api/queries";
import type { Community, Permission, Role, RoleUpdate } from "@/api/types";
import { useSession } from "@/app/session";
import { FieldLimitNote, useFieldLimit } from "@/components/limit-counter";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Separator } from "@/components/ui/separator";
import { Switch } from "@/components/ui/switch";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { roleHex } from "@/features/members/role-color";
import { errorText, toastError } from "@/lib/errors";
import { cn } from "@/lib/utils";
import { ConfirmAction } from "./confirm-action";
import { permissionGroups, permissionText } from "./permissions";
import { roleColors } from "./role-colors";

/** Changes the role; pending until the communities (which carry the roles) are fetched again, so nothing shown flickers back. */
function useRoleUpdate(community: Community, role: Role) {
  const { api } = useSession();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: RoleUpdate) => data(api.PATCH("/communities/{id}/roles/{role}", { params: { path: { id: community.id, role: role.id } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.communities }),
  });
}

export function RoleEditor({ community, role, onDeleted }: { community: Community; role: Role; onDeleted: () => void }) {
  const everyone = role.id === community.id;
  return (
    <div className="grid min-w-0 content-start gap-5" data-testid="role-editor">
      <h3 className="text-base font-semibold">{everyone ? "@everyone: what every member may do" : `Edit ${role.name}`}</h3>
      {!everyone && (
        <>
          <RoleName community={community} role={role} />
          <RoleColor community={community} role={role} />
          <Separator />
        </>
      )}
      <RolePermissions community={community} role={role} />
      {!everyone && (
        <>
          <Separator />
          <DeleteRole community={community} role={role} onDeleted={onDeleted} />
        </>
      )}
    </div>
  );
}

function RoleName({ community, role }: { community: Community; role: Role }) {
  const id = useId();
  const [name, setName] = useState(role.name);
  const limit = useFieldLimit(name.trim(), "name");
  const update = useRoleUpdate(community, role);
  return (
    <form
      className="grid gap-1.5"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim() && !limit.refusal) update.mutate({ name: name.trim() }, { onSuccess: () => toast.success("Saved") });
      }}
    >
      <Label htmlFor={id}>Role name</Label>
      <div className="flex gap-2">
        <Input
          id={id}
          data-testid="role-name"
          aria-invalid={!!limit.refusal}
          aria-describedby={`${id}-limit`}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Button data-testid="role-name-save" disabled={!name.trim() || !!limit.refusal || name.trim() === role.name || update.isPending}>
          Save
        </Button>
      </div>
      <FieldLimitNote limit={limit} id={`${id}-limit`} />
      {update.isError && (
        <p role="alert" className="text-sm text-destructive">
          {errorText(update.error)}
        </p>
      )}
    </form>
  );
}

function RoleColor({ community, role }: { community: Community; role: Role }) {
  const update = useRoleUpdate(community, role);
  const shown = update.isPending ? (update.variables.color ?? role.color) : role.color;
  const labelId = useId();
  const swatches = [{ name: "Default", color: 0 }, ...roleColors];
  return (
    <div className="grid gap-1.5">
      <span id={labelId} className="text-sm font-medium">
        Colour
      </span>
      <div role="radiogroup" aria-labelledby={labelId} className="flex flex-wrap gap-1.5">
        {swatches.map((s) => (
          <Tooltip key={s.color}>
            <TooltipTrigger asChild>
              <button
                type="button"
                role="radio"
                aria-checked={shown === s.color}
                aria-label={s.name}
                data-testid={`role-color-${s.color.toString(16)}`}
                disabled={update.isPending}
                onClick={() =>
                  update.mutate({ color: s.color }, { onError: (err) => toastError("Could not change the colour", err, () => update.mutate({ color: s.color })) })
                }
                className={cn(
                  "flex h-8 w-8 items-center justify-center rounded-md border focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring focus-visible:ring-offset-2 focus-visible:ring-offset-background",
                  s.color === 0 && "bg-muted text-muted-foreground",
                  shown === s.color && "ring-2 ring-foreground ring-offset-2 ring-offset-background",
                )}
                style={s.color ? { backgroundColor: roleHex(s.color) } : undefined}
              >
                {shown === s.color ? <Check aria-hidden className={cn("h-4 w-4", s.color && "text-white drop-shadow")} /> : s.color === 0 && <Ban aria-hidden className="h-4 w-4" />}
              </button>
            </TooltipTrigger>
            <TooltipContent>{s.name}</TooltipContent>
          </Tooltip>
        ))}
      </div>
    </div>
  );
}

function RolePermissions({ community, role }: { community: Community; role: Role }) {
  const update = useRoleUpdate(community, role);
  const perms = update.isPending ? (update.variables.permissions ?? role.permissions) : role.permissions;
  const admin = perms.includes("administrator");
  const groupId = useId();
  const toggle = (p: Permission, on: boolean) => {
    const permissions = on ? [...perms, p] : perms.filter((x) => x !== p);
    update.mutate({ permissions }, { onError: (err) => toastError("Could not change the permissions", err, () => update.mutate({ permissions })) });
  };
  return (
    <div className="grid gap-4">
      {admin && (
        <p role="note" className="flex gap-2 rounded-md border border-warning p-3 text-sm">
          <ShieldAlert aria-hidden className="h-5 w-5 shrink-0 text-warning" />
          <span>Administrator grants every permission below, whatever they say. Only give it to people you trust with the whole community.</span>
        </p>
      )}
      {permissionGroups.map((g) => (
        <section key={g.title} className="grid gap-2" aria-labelledby={`${groupId}-${g.title}`}>
          <h4 id={`${groupId}-${g.title}`} className="text-xs font-semibold uppercase text-muted-foreground">
            {g.title}
          </h4>
          {g.permissions.map((p) => (
            <PermissionSwitch
              key={p}
              permission={p}
              checked={perms.includes(p)}
              disabled={update.isPending || (admin && p !== "administrator")}
              onChange={(on) => toggle(p, on)}
            />
          ))}
        </section>
      ))}
    </div>
  );
}

function PermissionSwitch({ permission, checked, disabled, onChange }: { permission: Permission; checked: boolean; disabled: boolean; onChange: (on: boolean) => void }) {
  const id = useId();
  const text = permissionText[permission];
  return (
    <div className="flex items-start justify-between gap-4">
      <div className="grid gap-0.5">
        <Label htmlFor={id}>{text.label}</Label>
        <p id={`${id}-description`} className="text-xs text-muted-foreground">
          {text.description}
        </p>
      </div>
      <Switch id={id} data-testid={`permission-${permission}`} aria-describedby={`${id}-description`} checked={checked} disabled={disabled} onCheckedChange={onChange} />
    </div>
  );
}

function DeleteRole({ community, role, onDeleted }: { community: Community; role: Role; onDeleted: () => void }) {
  const { api } = useSession();
  const invalidate = useInvalidate();
  const remove = useMutation({
    mutationFn: () => data(api.DELETE("/communities/{id}/roles/{role}", { params: { path: { id: community.id, role: role.id } } })),
    onSuccess: () => {
      invalidate.communities();
      invalidate.members(community.id);
      toast.success(`Role ${role.name} deleted`);
      onDeleted();
    },
    onError: (err) => toastError(`Could not delete ${role.name}`, err, () => remove.mutate()),
  });
  return (
    <ConfirmAction
      trigger={
        <Button variant="outline" className="justify-self-start text-destructive" data-testid="role-delete" disabled={remove.isPending}>
          <Trash2 aria-hidden /> Delete role
        </Button>
      }
      title={`Delete ${role.name}?`}
      description="Members who have it lose it and what it allows. This cannot be undone."
      confirm="Delete role"
      confirmTestId="role-delete-confirm"
      onConfirm={() => remove.mutate()}
    />
  );
}
