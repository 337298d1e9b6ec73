// The quick switcher (Ctrl+K): find a community or a channel by name and
// go; also the theme, so that it is a few keys away.

import { Hash, Monitor, Moon, Sun } from "lucide-react";
import type { Community, ID } from "@/api/types";
import { CommandDialog, CommandEmpty, CommandGroup, CommandInput, CommandItem, CommandList } from "@/components/ui/command";
import { initials } from "@/components/user-avatar";
import type { Unread } from "@/features/readstate/unread";
import { applyTheme, type Theme } from "@/features/settings/theme";

const themes: [Theme, string, typeof Sun][] = [
  ["light", "Light theme", Sun],
  ["dark", "Dark theme", Moon],
  ["system", "System theme", Monitor],
];

export function QuickSwitcher({ open, onOpenChange, communities, unread, onSelect }: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  communities: Community[];
  unread: Unread;
  onSelect: (community: ID, channel: ID | null) => void;
}) {
  const go = (community: ID, channel: ID | null) => {
    onSelect(community, channel);
    onOpenChange(false);
  };
  return (
    <CommandDialog open={open} onOpenChange={onOpenChange} title="Quick switcher" description="Search for a channel or a community">
      <CommandInput data-testid="switcher-input" placeholder="Where would you like to go?" />
      <CommandList data-testid="switcher">
        <CommandEmpty>Nothing by that name.</CommandEmpty>
        {communities.map((c) => (
          <CommandGroup key={c.id} heading={c.name}>
            {c.channels
              .filter((ch) => ch.type === "text")
              .map((ch) => {
                const u = unread.channels[ch.id];
                return (
                  <CommandItem key={ch.id} value={`${ch.name} ${c.name} ${ch.id}`} data-testid="switcher-channel" data-name={ch.name} onSelect={() => go(c.id, ch.id)}>
                    <Hash aria-hidden />
                    <span className={u ? "font-semibold" : undefined}>{ch.name}</span>
                    <span className="ml-auto text-xs text-muted-foreground">{u?.mentions ? `${u.mentions} @` : u ? "unread" : c.name}</span>
                  </CommandItem>
                );
              })}
            <CommandItem value={`${c.name} community ${c.id}`} onSelect={() => go(c.id, null)}>
              <span aria-hidden className="flex h-4 w-4 items-center justify-center rounded bg-muted text-[8px] font-bold">
                {initials(c.name)}
              </span>
              {c.name}
            </CommandItem>
          </CommandGroup>
        ))}
        <CommandGroup heading="Appearance">
          {themes.map(([theme, label, Icon]) => (
            <CommandItem
              key={theme}
              value={`theme ${theme} ${label}`}
              onSelect={() => {
                applyTheme(theme);
                onOpenChange(false);
              }}
            >
              <Icon aria-hidden /> {label}
            </CommandItem>
          ))}
        </CommandGroup>
      </CommandList>
    </CommandDialog>
  );
}
