// The user's settings: their profile (name, status), the app's look
// (theme), and the home relay.

import type { Me } from "@/api/types";
import { Dialog, DialogContent, DialogDescription, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { RelaySettings } from "@/features/relay/relay-settings";
import { AppearanceTab } from "./appearance-tab";
import { ProfileTab } from "./profile-tab";

export function UserSettings({ me, open, onOpenChange }: { me: Me; open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent className="flex max-h-[calc(100dvh-2rem)] flex-col sm:max-w-2xl">
        <DialogHeader className="text-left">
          <DialogTitle>Settings</DialogTitle>
          <DialogDescription>Your profile, how Ancore looks, and your relay.</DialogDescription>
        </DialogHeader>
        <Tabs defaultValue="profile" className="flex min-h-0 flex-1 flex-col">
          <TabsList aria-label="Settings sections" className="self-start">
            <TabsTrigger value="profile" data-testid="user-settings-profile">
              Profile
            </TabsTrigger>
            <TabsTrigger value="appearance" data-testid="user-settings-appearance">
              Appearance
            </TabsTrigger>
            <TabsTrigger value="relay" data-testid="user-settings-relay">
              Relay
            </TabsTrigger>
          </TabsList>
          <div className="mt-4 min-h-0 flex-1 overflow-y-auto">
            <TabsContent value="profile" className="mt-0">
              <ProfileTab me={me} />
            </TabsContent>
            <TabsContent value="appearance" className="mt-0">
              <AppearanceTab />
            </TabsContent>
            <TabsContent value="relay" className="mt-0">
              <RelaySettings />
            </TabsContent>
          </div>
        </Tabs>
      </DialogContent>
    </Dialog>
  );
}
