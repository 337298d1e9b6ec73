// The user panel under the channels: the connection line (peers, sync,
// relay), the local user with their status, and the settings.

import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Settings } from "lucide-react";
import { data } from "@/api/client";
import { keys, useAvatar, useNetwork } from "@/api/queries";
import type { Me, MyStatus } from "@/api/types";
import { useSession } from "@/app/session";
import { Button } from "@/components/ui/button";
import { DropdownMenu, DropdownMenuContent, DropdownMenuRadioGroup, DropdownMenuRadioItem, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Tooltip, TooltipContent, TooltipTrigger } from "@/components/ui/tooltip";
import { UserAvatar, statusLabel } from "@/components/user-avatar";
import { RelayStatus } from "@/features/relay/relay-status";
import { UserSettings } from "@/features/settings/user-settings";
import { toastError } from "@/lib/errors";

const statuses: MyStatus[] = ["online", "idle", "dnd", "invisible"];

export function UserPanel({ me }: { me: Me }) {
  const { api, stream } = useSession();
  const qc = useQueryClient();
  const [settings, setSettings] = useState(false);
  const network = useNetwork();
  const setStatus = useMutation({
    mutationFn: (status: MyStatus) => data(api.PATCH("/me", { body: { status } })),
    onSuccess: (m) => qc.setQueryData(keys.me, m),
    onError: (err, status) => toastError("Could not change your status", err, () => setStatus.mutate(status)),
  });
  const picture = useAvatar(me.avatar);
  const peers = network.data?.peers.length ?? 0;
  const syncing = network.data?.sync ?? [];
  return (
    <div className="shrink-0 border-t bg-rail/40 p-2">
      <p data-testid="connection" role="status" className="mb-1 px-1 text-xs text-muted-foreground">
        {stream === "open" ? `${peers} peer${peers === 1 ? "" : "s"} connected` : "Reconnecting to the node…"}
        {syncing.length > 0 && ` · syncing ${syncing.map((s) => `${s.done ?? 0}/${s.total ?? 0}`).join(", ")}`}
        {stream === "open" && <RelayStatus network={network.data} />}
      </p>
      <div className="flex items-center gap-2">
        <DropdownMenu>
          <DropdownMenuTrigger asChild>
            <button
              className="flex min-w-0 flex-1 items-center gap-2 rounded-md p-1 text-left hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            >
              <span aria-hidden>
                <UserAvatar user={me.user} name={me.name} picture={picture} status={me.status} />
              </span>
              <span className="min-w-0">
                <span data-testid="me-name" className="block truncate font-medium text-foreground">
                  {me.name}
                </span>
                <span className="block truncate text-xs text-muted-foreground">{me.status_text || statusLabel[me.status]}</span>
              </span>
            </button>
          </DropdownMenuTrigger>
          <DropdownMenuContent align="start" className="w-52">
            <DropdownMenuRadioGroup value={me.status} onValueChange={(s) => setStatus.mutate(s as MyStatus)}>
              {statuses.map((s) => (
                <DropdownMenuRadioItem key={s} value={s} data-testid={`status-${s}`}>
                  {statusLabel[s]}
                </DropdownMenuRadioItem>
              ))}
            </DropdownMenuRadioGroup>
          </DropdownMenuContent>
        </DropdownMenu>
        <Tooltip>
          <TooltipTrigger asChild>
            <Button variant="ghost" size="icon" aria-label="Settings" onClick={() => setSettings(true)}>
              <Settings aria-hidden />
            </Button>
          </TooltipTrigger>
          <TooltipContent>User settings</TooltipContent>
        </Tooltip>
      </div>
      <UserSettings me={me} open={settings} onOpenChange={setSettings} />
    </div>
  );
}
