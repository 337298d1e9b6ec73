// Community settings: overview (name, icon, offline delivery, deleting
// it), roles and their permissions, invites, members (roles, kick, ban)
// and bans. What the local user may not do is not offered; the node
// refuses it anyway.

import { useState } from "react";
import type { Community, Permission } from "@/api/types";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useMediaQuery } from "@/hooks/use-media-query";
import { cn } from "@/lib/utils";
import { BansTab } from "./bans-tab";
import { InvitesTab } from "./invites-tab";
import { MembersTab } from "./members-tab";
import { OverviewTab } from "./overview-tab";
import { RolesTab } from "./roles-tab";

type Tab = "overview" | "roles" | "invites" | "members" | "bans";

const tabs: { tab: Tab; label: string; needs?: Permission }[] = [
  { tab: "overview", label: "Overview", needs: "manage-community" },
  { tab: "roles", label: "Roles", needs: "manage-roles" },
  { tab: "invites", label: "Invites" },
  { tab: "members", label: "Members" },
  { tab: "bans", label: "Bans", needs: "ban" },
];

/** The tabs the local user may use, in order. */
export function settingsTabs(permissions: readonly Permission[]): Tab[] {
  return tabs.filter((t) => !t.needs || permissions.includes(t.needs)).map((t) => t.tab);
}

export function CommunitySettings({ community, open, onOpenChange }: { community: Community; open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        data-testid="community-settings"
        className="flex h-[100dvh] max-h-[100dvh] w-full max-w-none flex-col gap-4 rounded-none p-4 sm:h-[min(44rem,calc(100dvh-2rem))] sm:w-[calc(100%-2rem)] sm:max-w-3xl sm:rounded-lg sm:p-6"
      >
        <DialogHeader className="pr-8 text-left">
          <DialogTitle>Community settings</DialogTitle>
          <DialogDescription className="truncate">{community.name}</DialogDescription>
        </DialogHeader>
        <SettingsTabs community={community} onDeleted={() => onOpenChange(false)} />
      </DialogContent>
    </Dialog>
  );
}

function SettingsTabs({ community, onDeleted }: { community: Community; onDeleted: () => void }) {
  const shown = settingsTabs(community.my_permissions);
  const [tab, setTab] = useState<Tab>(shown[0] ?? "invites");
  const wide = useMediaQuery("(min-width: 768px)");
  return (
    <Tabs
      value={tab}
      onValueChange={(t) => setTab(t as Tab)}
      orientation={wide ? "vertical" : "horizontal"}
      className="flex min-h-0 flex-1 flex-col gap-4 md:flex-row"
    >
      <TabsList
        aria-label="Settings sections"
        className={cn("h-auto shrink-0 justify-start overflow-x-auto", "md:w-40 md:flex-col md:items-stretch md:self-start")}
      >
        {tabs
          .filter((t) => shown.includes(t.tab))
          .map((t) => (
            <TabsTrigger key={t.tab} value={t.tab} data-testid={`settings-${t.tab}`} className="md:justify-start">
              {t.label}
            </TabsTrigger>
          ))}
      </TabsList>
      <div className="min-h-0 min-w-0 flex-1 overflow-y-auto pr-1">
        <TabsContent value="overview" className="mt-0">
          <OverviewTab community={community} onDeleted={onDeleted} />
        </TabsContent>
        <TabsContent value="roles" className="mt-0">
          <RolesTab community={community} />
        </TabsContent>
        <TabsContent value="invites" className="mt-0">
          <InvitesTab community={community} />
        </TabsContent>
        <TabsContent value="members" className="mt-0">
          <MembersTab community={community} />
        </TabsContent>
        <TabsContent value="bans" className="mt-0">
          <BansTab community={community} />
        </TabsContent>
      </div>
    </Tabs>
  );
}
